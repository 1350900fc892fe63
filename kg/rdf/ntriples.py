"""A graph as N-Triples text, streamed: what `kg build` hands the store's bulk loader.

Writing a quad as a line of text (each term printed by pyoxigraph itself, so escaping is
Oxigraph's) costs a fraction of making a pyoxigraph Quad object, and Oxigraph's bulk loader
parses N-Triples as fast as it takes Quad objects: a build that streams text instead of
objects spends its time on the records, not on term churn (docs/benchmarks.md, "kg build").

An `NTriples` stream is read once. It is also an iterable of pyoxigraph Quads (parsed chunk by
chunk), so whoever needs objects (an endpoint's upload, tests) reads it like any quad stream.
"""

from __future__ import annotations

import io
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

    def chunks(self) -> Iterator[str]:
        return self._chunks

    def __iter__(self) -> Iterator[ox.Quad]:
        for chunk in self._chunks:
            if chunk:
                yield from ox.parse(input=chunk, format=ox.RdfFormat.N_TRIPLES)

    def reader(self, buffer: int = 1 << 20) -> io.BufferedReader:
        """The stream as a binary file for `Store.bulk_load` (an error in the stream's producer
        reaches the loader's caller as it was raised)."""
        return io.BufferedReader(_ChunkReader(self._chunks), buffer)


class _ChunkReader(io.RawIOBase):
    def __init__(self, chunks: Iterator[str]):
        self._chunks = chunks
        self._pending = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while not self._pending:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._pending = memoryview(chunk.encode("utf-8"))
        n = min(len(buffer), len(self._pending))
        buffer[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n
