"""The app's per-generation views (kg.app.view_cache) and the citation network's lean table
(kg.analysis.views.network_table): kept beside the generation, read back equal, computed once,
and equal to what the analysis corpus gives."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from kg.analysis import citation_metrics, load_corpus
from kg.analysis import views
from kg.analysis.citations import citation_sources
from kg.app import view_cache
from kg.derived import DERIVED
from kg.store import LocalGraph


@pytest.fixture
def graph_copy(store_copy):
    graph = LocalGraph(store_copy)
    shutil.rmtree(graph.generation / DERIVED, ignore_errors=True)
    yield graph
    graph.close()


def test_a_view_round_trips_through_json():
    frame = pd.DataFrame({"n": [1, 2], "x": [0.5, None], "s": ["a", None], "b": [True, False],
                          "o": pd.Series([1.5, None], dtype=object)})
    frame.attrs["set_aside"] = {"total": 3}
    value = {"frame": frame, "rows": [{"year": 2024, "papers": 3}], "note": None, "pair": ("a", 1)}
    back = view_cache.decode(view_cache.encode(value))
    got = back["frame"]
    assert list(got.columns) == list(frame.columns) and got.attrs == {"set_aside": {"total": 3}}
    assert got["n"].tolist() == [1, 2] and str(got["n"].dtype) == "int64"
    assert got["x"].tolist()[0] == 0.5 and pd.isna(got["x"].tolist()[1])
    assert got["s"].tolist() == ["a", None] and got["b"].tolist() == [True, False]
    assert got["o"].tolist() == [1.5, None]
    assert back["rows"] == [{"year": 2024, "papers": 3}] and back["note"] is None and back["pair"] == ["a", 1]


def test_a_view_is_computed_once_per_generation_and_kept_beside_it(graph_copy):
    calls = []

    def compute():
        calls.append(1)
        return {"papers": 49}

    assert view_cache.stored(graph_copy, "stats test", compute) == {"papers": 49}
    path = view_cache.view_path(graph_copy, "stats test")
    assert path.is_file() and path.parent == graph_copy.generation / "kg-derived" and " " not in path.name
    assert view_cache.is_stored(graph_copy, "stats test")
    assert view_cache.stored(graph_copy, "stats test", compute) == {"papers": 49} and len(calls) == 1
    path.write_text("{not json")  # damaged: computed again and kept again
    assert view_cache.stored(graph_copy, "stats test", compute) == {"papers": 49} and len(calls) == 2
    assert view_cache.stored(graph_copy, "stats test", compute) == {"papers": 49} and len(calls) == 2


def test_a_graph_without_a_generation_folder_computes_every_time():
    class Endpoint:
        generation = None

    calls = []
    for _ in range(2):
        assert view_cache.stored(Endpoint(), "stats", lambda: calls.append(1) or 7) == 7
    assert len(calls) == 2 and not view_cache.is_stored(Endpoint(), "stats")


def test_the_network_table_equals_citation_metrics_without_the_corpus(graph):
    table = views.network_table(graph)
    reference = citation_metrics(load_corpus(graph))
    assert list(table.columns) == views.NETWORK_COLUMNS
    assert list(table["work"]) == list(reference["work"])
    for column in views.NETWORK_COLUMNS[1:]:
        ours = [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in table[column]]
        theirs = [None if v is None or (isinstance(v, float) and pd.isna(v)) else v for v in reference[column]]
        assert ours == theirs, column
    assert views.network_sources(graph, table) == citation_sources(load_corpus(graph))
    top = list(table[table["review"]]["work"]) + list(table["work"][:20])  # the survey and works it cites
    corpus = load_corpus(graph)
    edges = corpus.edges
    among = {(a, b) for a, b in zip(edges["citing"], edges["cited"]) if a in top and b in top and a != b}
    assert set(views.links_among(graph, top)) == among and among


def test_warming_up_keeps_the_first_views_of_every_page(graph_copy):
    from kg.app import data

    data._warm_views(graph_copy, "key")
    kept = {p.name for p in (graph_copy.generation / "kg-derived").iterdir()}
    for name in ("stats", "papers-per-year", "latest-additions-12", "data-sources", "gap-cells-0.5",
                 "network-table", "network-sources", data.SCREENING_VIEW):
        assert f"view-{name}-v{view_cache.FORMAT}.json" in kept, name
    stats = view_cache.stored(graph_copy, "stats", lambda: pytest.fail("kept, not computed again"))
    assert stats["papers"] == 49
    screening = view_cache.stored(graph_copy, data.SCREENING_VIEW, lambda: pytest.fail("kept"))
    assert screening["queued"] == 3 and len(screening["queue"]) == 3 and screening["progress"]["in_scope"] == 46


def test_warming_up_passes_over_a_view_a_page_is_computing_and_comes_back_to_it(graph_copy, monkeypatch):
    """A page computing a view holds its lock: the warm-up goes on with the other pages' views
    (not those that read it), then reads that one once the page has kept it (computed once)."""
    import threading

    from kg.app import data

    busy = "network-table"
    path = view_cache.view_path(graph_copy, busy)
    lock = view_cache._lock(str(path))
    asked, reached = [], threading.Event()
    stored = view_cache.stored

    def watch(graph, name, compute):
        asked.append(name)
        if name == busy:
            reached.set()
        return stored(graph, name, compute)

    monkeypatch.setattr(view_cache, "stored", watch)
    warm = threading.Thread(target=data._warm_views, args=(graph_copy, "key"), daemon=True)
    with lock:  # the page computing the network table
        assert view_cache.computing(graph_copy, busy)
        warm.start()
        assert reached.wait(120)  # the warm-up came back to it after the others
        assert asked[-1] == busy and data.SCREENING_VIEW in asked and "network-sources" not in asked
        assert view_cache.is_stored(graph_copy, data.SCREENING_VIEW)
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(view_cache.encode(views.network_table(graph_copy))))  # what the page keeps
    warm.join(120)
    assert not warm.is_alive() and "network-sources" in asked[asked.index(busy):]
    assert view_cache.is_stored(graph_copy, "network-sources")


def test_the_network_lane_starts_once_the_overviews_views_are_made(graph_copy, monkeypatch):
    """Two warm-up threads: the citation network's table waits for the Overview's views (the
    first page does not share the cores with it), then both lanes keep every view."""
    import threading

    from kg.app import data

    asked = []
    stored = view_cache.stored

    def watch(graph, name, compute):
        asked.append(name)
        return stored(graph, name, compute)

    monkeypatch.setattr(view_cache, "stored", watch)
    overview = threading.Event()
    network = threading.Thread(target=data._warm_views, args=(graph_copy, "key", "network", overview), daemon=True)
    network.start()
    data._warm_views(graph_copy, "key", "pages", overview)
    network.join(120)
    assert not network.is_alive() and overview.is_set()
    assert asked.index("network-table") > asked.index("stats")
    for name in ("stats", "gap-cells-0.5", data.SCREENING_VIEW, "network-table", "network-sources"):
        assert view_cache.is_stored(graph_copy, name), name


def test_a_frames_numbers_flags_and_plain_values_encode_as_one_by_one(graph_copy):
    """The fast column paths of encode() give the JSON the value-by-value path gave."""
    import numpy as np

    frame = pd.DataFrame({"i": np.array([1, -2], dtype=np.int64), "f": [0.25, np.nan], "b": [True, False],
                          "o": pd.Series(["a", np.int64(3)], dtype=object),
                          "m": pd.Series([np.float64("nan"), {"k": np.int64(1)}], dtype=object)})
    one_by_one = [[view_cache.encode(view_cache._plain(v)) for v in frame[c].tolist()] for c in frame.columns]
    assert view_cache.encode(frame)["__frame__"]["data"] == one_by_one
    assert json.dumps(one_by_one[1]) == "[0.25, null]" and one_by_one[3] == ["a", 3] and one_by_one[4] == [None, {"k": 1}]


def test_kg_build_keeps_the_counts_its_check_made(tmp_path):
    """A new generation comes with `kg stats`' counts (the triple count too): the Overview and
    `kg stats` read them instead of counting again, and they are what counting gives."""
    from kg.build import build
    from kg.sparql.stats import count_graph, graph_stats, stored_path

    build(tmp_path / "store")
    graph = LocalGraph(tmp_path / "store")
    try:
        path = stored_path(graph)
        assert path is not None and path.is_file()
        assert json.loads(path.read_text()) == count_graph(graph) == graph_stats(graph)
    finally:
        graph.close()
