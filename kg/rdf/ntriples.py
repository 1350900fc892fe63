"""A graph as N-Triples text, streamed: what `kg build` hands the store's bulk loader.

Writing a quad as a line of text (each term printed by pyoxigraph itself, so escaping is
Oxigraph's) costs a fraction of making a pyoxigraph Quad object; the text can be written in
a thread of its own, ahead of the loader; and the graph is loaded in parts, which keeps the
loader's buffers small (docs/benchmarks.md, "kg build against a raw bulk load").

An `NTriples` stream is read once. It is also an iterable of pyoxigraph Quads (parsed chunk by
chunk), so whoever needs objects (an endpoint's upload, tests) reads it like any quad stream.
"""

from __future__ import annotations

import io
import os
import threading
import time
from collections.abc import Iterable, Iterator

import pyoxigraph as ox


def line(s, p, o) -> str:
    """One N-Triples line of three pyoxigraph terms (their str() is their N-Triples form)."""
    return f"{s} {p} {o} .\n"


def lines_of(quads: Iterable[ox.Quad]) -> str:
    """Quads of the default graph as N-Triples text."""
    return "".join(f"{q.subject} {q.predicate} {q.object} .\n" for q in quads)


class NTriples:
    """A stream of N-Triples text chunks, each made of whole lines; read once."""

    def __init__(self, chunks: Iterable[str]):
        self._chunks = iter(chunks)
        # once loaded (`load`): seconds this thread spent making the text, and waiting for the loader
        self.timings: dict[str, float] = {}

    def chunks(self) -> Iterator[str]:
        return self._chunks

    def __iter__(self) -> Iterator[ox.Quad]:
        for chunk in self._chunks:
            if chunk:
                yield from ox.parse(input=chunk, format=ox.RdfFormat.N_TRIPLES)

    def load(self, store: ox.Store, triples: int = 0, batch: int = 1 << 18) -> None:
        """Bulk-load the stream into `store`, in parts of about `triples` lines (0: one part).

        Each part goes through an OS pipe: Oxigraph reads it natively in a loader thread (the
        interpreter's lock released for the whole load), while this thread writes the text; a
        loader that reads Python file objects needs that lock for every read and so waits on the
        writer (docs/benchmarks.md, "kg build against a raw bulk load"). Where a pipe cannot be
        opened by name (no /dev/fd), the parts are read as files (`segments`). An error of
        either side reaches the caller as it was raised."""
        if not _PIPES:
            for part in self.segments(triples=triples, ahead=1000):
                store.bulk_load(part, format=ox.RdfFormat.N_TRIPLES)
            return
        clock = _Clock(self._chunks)
        ended, waited = False, 0.0
        while not ended:
            ended, wait = _load_part(store, clock, triples, batch)
            waited += wait
        self.timings = {"text": clock.seconds, "loader": waited}

    def segments(self, triples: int = 0, ahead: int = 0, buffer: int = 1 << 20) -> Iterator[io.BufferedReader]:
        """The stream as binary files for `Store.bulk_load`, one after the other, each of about
        `triples` lines (0: one file). Oxigraph's bulk loader holds what it sorts in memory
        until its input ends: loading in parts of half a million triples caps its buffers (326 ->
        152 MB for 400,000 triples in parts of 100,000, at the same CPU time). An error in the
        stream's producer reaches the loader's caller as it was raised. `ahead`: chunks made in
        a thread of their own, up to that many ahead of the loader, so that Python can write
        the next works while Oxigraph parses the last ones."""
        chunks = _made_ahead(self._chunks, ahead) if ahead else (c.encode("utf-8") for c in self._chunks)
        try:
            part = _ChunkReader(chunks, triples)
            while True:
                yield io.BufferedReader(part, buffer)
                if part.ended:
                    return
                part = _ChunkReader(chunks, triples)
        finally:
            chunks.close()


_PIPES = os.path.isdir("/dev/fd") and hasattr(os, "pipe")


class _Clock:
    """The chunks, with the time spent making them (in the writer's thread)."""

    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks
        self.seconds = 0.0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        started = time.perf_counter()
        try:
            return next(self._chunks)
        finally:
            self.seconds += time.perf_counter() - started


def _load_part(store: ox.Store, chunks: Iterator[str], limit: int, batch: int) -> tuple[bool, float]:
    """One part of the stream loaded through a pipe: whether the chunks ran out, and the seconds
    the writer waited for the loader (a full pipe, or the loader's end of the part)."""
    read_end, write_end = os.pipe()
    try:
        import fcntl

        fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer wake-ups of either side
    except (ImportError, AttributeError, OSError):
        pass
    failed: list[BaseException] = []

    def load() -> None:
        try:
            store.bulk_load(path=f"/dev/fd/{read_end}", format=ox.RdfFormat.N_TRIPLES)
        except BaseException as exc:  # handed to the writer's thread, raised there
            failed.append(exc)
        finally:
            os.close(read_end)  # a loader that stopped early: the writer's next write fails

    loader = threading.Thread(target=load, name="ntriples-loader", daemon=True)
    loader.start()
    lines, ended, pending, size, waited = 0, False, [], 0, 0.0
    try:  # an error of the writer (the chunks' producer) is raised as it is
        while True:
            chunk = next(chunks, None)
            if chunk is None:
                ended = True
                break
            pending.append(chunk)
            size += len(chunk)
            if limit:
                lines += chunk.count("\n")
            if size >= batch:
                waited += _write_all(write_end, "".join(pending).encode("utf-8"))
                pending, size = [], 0
                if limit and lines >= limit:
                    break
        if pending:
            waited += _write_all(write_end, "".join(pending).encode("utf-8"))
    except BrokenPipeError:
        pass  # the loader stopped: its error is raised below
    finally:
        os.close(write_end)  # the end of this part's input
        started = time.perf_counter()
        loader.join()
        waited += time.perf_counter() - started
    if failed:
        raise failed[0]
    return ended, waited


def _write_all(fd: int, data: bytes) -> float:
    """Write it all; the seconds spent (mostly waiting for the loader to empty the pipe)."""
    started = time.perf_counter()
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
    return time.perf_counter() - started


_DONE = object()


def _made_ahead(chunks: Iterator[str], ahead: int) -> Iterator[bytes]:
    """The chunks, encoded in a producer thread and handed over through a bounded queue."""
    import queue

    handover: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def give(item) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if chunk and not give(chunk.encode("utf-8")):
                    return
        except BaseException as exc:  # the loader's caller sees it as it was raised
            give(_Failed(exc))
            return
        give(_DONE)

    producer = threading.Thread(target=produce, name="ntriples-writer", daemon=True)
    producer.start()
    try:
        while True:
            item = handover.get()
            if item is _DONE:
                break
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()  # the loader stopped early (or is done): the producer ends at its next chunk
        producer.join()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


class _ChunkReader(io.RawIOBase):
    """Chunks of bytes as a file; with a limit, the file ends at the first chunk border after
    that many lines, and the next reader goes on from there."""

    def __init__(self, chunks: Iterator[bytes], limit: int = 0):
        self._chunks = chunks
        self._limit = limit
        self._lines = 0
        self._pending = memoryview(b"")
        self.ended = False  # the chunks ran out (not only this part)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            if self.ended or (self._limit and self._lines >= self._limit):
                return 0
            chunk = next(self._chunks, None)
            if chunk is None:
                self.ended = True
                return 0
            if self._limit:
                self._lines += chunk.count(b"\n")
            self._pending = memoryview(chunk)
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
