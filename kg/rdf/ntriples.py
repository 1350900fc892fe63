"""A graph as N-Triples text, streamed: what `kg build` hands the store's bulk loader.

Writing a quad as a line of text (each term printed by pyoxigraph itself, so escaping is
Oxigraph's) costs a fraction of making a pyoxigraph Quad object; the text can be written in
a thread of its own, ahead of the loader; and the graph is loaded in parts, which keeps the
loader's buffers small (docs/benchmarks.md, "kg build against a raw bulk load").

An `NTriples` stream is read once. It is also an iterable of pyoxigraph Quads (parsed chunk by
chunk), so whoever needs objects (an endpoint's upload, tests) reads it like any quad stream.
"""

from __future__ import annotations

import contextlib
import io
import os
import threading
import time
from collections.abc import Iterable, Iterator

import pyoxigraph as ox


AHEAD_BYTES = 24 << 20  # text made ahead of the loader: about 150,000 triples (docs/benchmarks.md, third pass)


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

    def load(self, store: ox.Store, triples: int = 0, batch: int = 1 << 18, ahead: int = AHEAD_BYTES) -> None:
        """Bulk-load the stream into `store`, in parts of about `triples` lines (0: one part).

        Each part goes through an OS pipe: Oxigraph reads it natively in a loader thread (the
        interpreter's lock released for the whole load). A feeder thread writes the text into
        the pipes, so that this thread goes on making text, up to `ahead` bytes of it, while
        Oxigraph sorts and writes a part once its input has ended; a writer that waited on
        the pipe itself would stand idle then (docs/benchmarks.md, "kg build against the raw
        load, third pass"). Where a pipe cannot be opened by name (no /dev/fd), the parts are
        read as files (`segments`). An error of either side reaches the caller as it was
        raised."""
        if not _PIPES:
            for part in self.segments(triples=triples, ahead=1000):
                store.bulk_load(part, format=ox.RdfFormat.N_TRIPLES)
            return
        clock = _Clock(self._chunks)
        feeder = _Feeder(store, max(1, ahead // batch))
        lines, pending, size = 0, [], 0
        try:  # an error of the writer (the chunks' producer) is raised as it is
            for chunk in clock:
                pending.append(chunk)
                size += len(chunk)
                if triples:
                    lines += chunk.count("\n")
                if size >= batch:
                    feeder.put("".join(pending).encode("utf-8"))
                    pending, size = [], 0
                    if triples and lines >= triples:
                        feeder.put(_PART_END)
                        lines = 0
            if pending:
                feeder.put("".join(pending).encode("utf-8"))
        except BaseException:
            feeder.close(quiet=True)  # the writer's error, not what it left the loader with
            raise
        feeder.close()
        self.timings = {"text": clock.seconds, "loader": feeder.waited}

    def segments(self, triples: int = 0, ahead: int = 0, buffer: int = 1 << 20) -> Iterator[io.BufferedReader]:
        """The stream as binary files for `Store.bulk_load`, one after the other, each of about
        `triples` lines (0: one file). Oxigraph's bulk loader holds what it sorts in memory
        until its input ends: loading in parts (kg.store.LOAD_PART triples) caps its buffers (326 ->
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


_PART_END = object()
_STOP = object()


class _Feeder:
    """A thread that writes the text it is handed into pipes, one `Store.bulk_load` a part.

    `put` hands over a block of text (or `_PART_END`: the part's input ends there) and waits
    only while `blocks` blocks are queued; `close` ends the input, waits for the loads and
    raises the first loader's error. The seconds spent waiting (a full queue, the last loads)
    are `waited`."""

    def __init__(self, store: ox.Store, blocks: int):
        import queue

        self._store = store
        self._queue: queue.Queue = queue.Queue(maxsize=blocks)
        self.failed: list[BaseException] = []
        self.waited = 0.0
        self._thread = threading.Thread(target=self._run, name="ntriples-feeder", daemon=True)
        self._thread.start()

    def put(self, block) -> None:
        if self.failed:
            raise self.failed[0]
        started = time.perf_counter()
        self._queue.put(block)
        self.waited += time.perf_counter() - started

    def close(self, quiet: bool = False) -> None:
        """End the input and wait for the loads; `quiet`: raise none of their errors."""
        started = time.perf_counter()
        self._queue.put(_STOP)
        self._thread.join()
        self.waited += time.perf_counter() - started
        if self.failed and not quiet:
            raise self.failed[0]

    def _run(self) -> None:
        part = None  # (the pipe's write end, the loader thread) of the part being written
        while True:
            block = self._queue.get()
            try:
                if block is _STOP or block is _PART_END:
                    if part is not None:
                        part, ending = None, part
                        self._end(*ending)
                    if block is _STOP:
                        return
                elif not self.failed:  # after a failure the rest is dropped; put/close raise it
                    if part is None:
                        part = self._start()
                    view = memoryview(block)
                    while view:
                        view = view[os.write(part[0], view):]
            except BaseException as exc:  # a broken pipe: the loader stopped, and said why
                if part is not None:
                    part, ending = None, part
                    with contextlib.suppress(OSError):
                        self._end(*ending)
                if not self.failed:
                    self.failed.append(exc)

    def _start(self) -> tuple[int, threading.Thread]:
        read_end, write_end = os.pipe()
        try:
            import fcntl

            fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer wake-ups of either side
        except (ImportError, AttributeError, OSError):
            pass

        def load() -> None:
            try:
                self._store.bulk_load(path=f"/dev/fd/{read_end}", format=ox.RdfFormat.N_TRIPLES)
            except BaseException as exc:  # handed to the writer's thread, raised there
                self.failed.append(exc)
            finally:
                os.close(read_end)  # a loader that stopped early: the feeder's next write fails

        loader = threading.Thread(target=load, name="ntriples-loader", daemon=True)
        loader.start()
        return write_end, loader

    @staticmethod
    def _end(write_end: int, loader: threading.Thread) -> None:
        os.close(write_end)  # the end of this part's input
        loader.join()


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
