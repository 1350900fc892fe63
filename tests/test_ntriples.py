"""kg.rdf.ntriples: the N-Triples text kg build streams into Oxigraph, in parts, made ahead in a
thread of its own."""

from __future__ import annotations

import errno
import threading

import pyoxigraph as ox
import pytest

from kg.rdf.ntriples import NTriples

CHUNKS = [f'<http://e.org/w{i}> <http://e.org/p> "tïtle {i} 漢字 \\" \\\\ \\n" .\n'
          f'<http://e.org/w{i}> <http://e.org/q> "{i}" .\n' for i in range(3001)]


def _loaded(stream: NTriples, **options) -> tuple[ox.Store, int]:
    store, parts = ox.Store(), 0
    for part in stream.segments(**options):
        store.bulk_load(part, format=ox.RdfFormat.N_TRIPLES)
        parts += 1
    return store, parts


@pytest.mark.parametrize("options", [{}, {"triples": 500}, {"triples": 500, "ahead": 7}, {"ahead": 3, "buffer": 64}])
def test_loading_in_parts_gives_the_whole_graph(options):
    whole = ox.Store()
    whole.bulk_load("".join(CHUNKS).encode(), format=ox.RdfFormat.N_TRIPLES)
    store, parts = _loaded(NTriples(iter(CHUNKS)), **options)
    assert set(store) == set(whole) and len(store) == 6002
    assert parts == (1 if not options.get("triples") else 13)  # 500 lines a part, ended at a chunk's border
    assert set(NTriples(iter(CHUNKS))) == set(whole)  # read as quads, too


@pytest.mark.parametrize("ahead", [0, 4])
def test_an_error_of_the_writer_reaches_the_loader_caller_as_raised(ahead):
    def writer():
        yield from CHUNKS[:100]
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as raised:
        _loaded(NTriples(writer()), triples=50, ahead=ahead)
    assert raised.value.errno == errno.ENOSPC
    assert not [t for t in threading.enumerate() if t.name == "ntriples-writer"]  # the producer has ended


def test_a_loader_that_stops_early_stops_the_writer():
    made = []

    def writer():
        for chunk in CHUNKS:
            made.append(chunk)
            yield chunk

    parts = NTriples(writer()).segments(triples=10, ahead=2)
    ox.Store().bulk_load(next(parts), format=ox.RdfFormat.N_TRIPLES)
    parts.close()
    assert len(made) < len(CHUNKS)
    assert not [t for t in threading.enumerate() if t.name == "ntriples-writer"]


@pytest.mark.parametrize("options", [{}, {"triples": 500, "batch": 1000}, {"batch": 1},
                                     {"triples": 500, "batch": 1000, "ahead": 2000}])  # the writer waits on the feeder
def test_loading_through_the_pipe_gives_the_whole_graph(options):
    whole = ox.Store()
    whole.bulk_load("".join(CHUNKS).encode(), format=ox.RdfFormat.N_TRIPLES)
    stream, store = NTriples(iter(CHUNKS)), ox.Store()
    stream.load(store, **options)
    assert set(store) == set(whole) and len(store) == 6002
    assert set(stream.timings) == {"text", "loader"}
    assert not [t for t in threading.enumerate() if t.name in ("ntriples-loader", "ntriples-feeder")]


def test_an_error_of_the_writer_reaches_the_caller_of_load_as_raised():
    def writer():
        yield from CHUNKS[:100]
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError) as raised:
        NTriples(writer()).load(ox.Store(), triples=50, batch=100)
    assert raised.value.errno == errno.ENOSPC
    assert not [t for t in threading.enumerate() if t.name in ("ntriples-loader", "ntriples-feeder")]  # both ended


def test_an_error_of_the_loader_stops_the_writer_and_is_raised():
    made = []

    def writer():
        yield "<http://e.org/a> <http://e.org/p> not a term .\n"
        for chunk in CHUNKS * 20:  # far more than a pipe holds: the writer must not wait for ever
            made.append(chunk)
            yield chunk

    with pytest.raises(SyntaxError):
        NTriples(writer()).load(ox.Store(), batch=1)
    assert len(made) < len(CHUNKS) * 20
    assert not [t for t in threading.enumerate() if t.name in ("ntriples-loader", "ntriples-feeder")]
