"""The graph's counts (kg stats, the app's Overview tiles): counted afresh they equal the counts
of the earlier queries, and a published generation keeps them beside it after the first ask."""

from __future__ import annotations

import json
from pathlib import Path

from kg.sparql.named import _sorted_query
from kg.sparql.stats import count_graph, graph_stats, stored_path
from kg.store import LocalGraph

BEFORE = Path(__file__).resolve().parent / "fixtures" / "queries-before"


def _counted_before(graph) -> dict:
    """What graph_stats answered before: the earlier texts of `stats` and `papers-by-cell`."""
    counts = _sorted_query(graph, (BEFORE / "stats.rq").read_text(encoding="utf-8"), None, None).records()[0]
    out = {"triples": graph.triple_count()}
    out.update({k: int(v or 0) for k, v in counts.items()})
    rows = _sorted_query(graph, (BEFORE / "papers-by-cell.rq").read_text(encoding="utf-8"), None, None).records()
    out["cells"] = {f"{r['category']}/{r['mechanism']}": int(r["count"]) for r in rows}
    return out


def test_counts_as_before(graph):
    counted = count_graph(graph)
    assert counted == _counted_before(graph)
    assert list(counted["cells"]) == list(_counted_before(graph)["cells"])  # the survey's order
    assert counted["papers"] > 0 and counted["triples"] > counted["papers"]


def test_a_generation_keeps_its_counts(store_copy):
    graph = LocalGraph(store_copy)
    path = stored_path(graph)
    assert path is not None
    path.unlink(missing_ok=True)  # the session's bundled store may have kept its counts already
    first = graph_stats(graph)
    assert path.is_file() and first == count_graph(graph)
    kept = json.loads(path.read_text(encoding="utf-8"))
    assert kept == first and list(kept["cells"]) == list(first["cells"])
    path.write_text(json.dumps(first | {"papers": -1}), encoding="utf-8")  # read back, not recounted
    assert graph_stats(LocalGraph(store_copy))["papers"] == -1


def test_damaged_counts_are_counted_again(store_copy):
    graph = LocalGraph(store_copy)
    path = stored_path(graph)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    assert graph_stats(graph) == count_graph(graph)
    assert json.loads(path.read_text(encoding="utf-8")) == count_graph(graph)


def test_a_graph_in_memory_is_counted_every_time(graph, tmp_path):
    import pyoxigraph as ox

    store = ox.Store()
    store.extend(graph.store.quads_for_pattern(None, None, None, None))
    memory = LocalGraph(tmp_path / "in-memory", store=store)
    assert stored_path(memory) is None
    assert graph_stats(memory) == count_graph(graph)
