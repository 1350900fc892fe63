"""The bundled graph: Table 1's 16 cells, the awesome list, idempotent and atomic builds."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kg import build as build_module
from kg.build import build
from kg.sparql.named import run_named
from kg.sparql.stats import graph_stats
from kg.store import LocalGraph, StoreDir


TABLE1 = Path(__file__).resolve().parent / "fixtures" / "survey_table1.json"


def table1():
    return json.loads(TABLE1.read_text(encoding="utf-8"))


def test_all_16_cells_hold_their_table1_works(graph):
    rows = run_named(graph, "papers-by-cell").records()
    assert len(rows) == 16
    cells = {(r["category"], r["mechanism"]): r for r in rows}
    expected: dict = {}
    for work in table1()["works"]:
        expected.setdefault((work["category"], work["mechanism"]), []).append(work)
    assert set(cells) == set(expected)
    for key, works in expected.items():
        assert cells[key]["count"] == len(works) == 2
        papers = run_named(graph, "cell-papers", {"category": key[0], "mechanism": key[1]}).records()
        listed = [p["label"] for p in papers]
        for work in works:
            shown = work["name"] or work["title"] or work["cite"]
            assert shown in listed, (key, shown, listed)


def test_stats_count_table1_list_and_datasets(graph):
    stats = graph_stats(graph)
    assert stats["surveyed"] == 32
    assert stats["listed"] == 15  # the list's 15 papers (its template row is skipped)
    assert stats["datasets"] == 5
    assert stats["citations"] == 32  # the survey cites every Table-1 work
    # 32 table works + 15 list papers - 2 on both (PVIT, Yo'LLaVA) + the survey + 3 possible matches
    assert stats["papers"] == 49
    assert set(stats) >= {"triples", "papers", "authors", "datasets", "citations", "cells"}
    assert all(isinstance(stats[k], int) for k in ("triples", "papers", "authors", "datasets", "citations"))


def test_unresolved_works_are_kept_by_their_citation(graph):
    rows = graph.query(
        'SELECT ?cite ?res WHERE { ?w kg:citationKey ?cite ; kg:resolution ?res . FILTER NOT EXISTS { ?w dcterms:title ?t } }',
        trusted=True).records()
    cites = {r["cite"] for r in rows}
    assert "Yong et al. (2023)" in cites and "Xu et al. (2024)" in cites
    assert {r["res"] for r in rows} <= {"unresolved", "candidate"}


def test_possible_matches_are_flagged_candidates(graph):
    rows = graph.query(
        "SELECT ?cite ?title ?conf WHERE { ?w kg:citationKey ?cite ; kg:possibleMatch ?m . "
        "?m dcterms:title ?title ; kg:matchConfidence ?conf ; kg:isCandidate true }", trusted=True).records()
    assert {(r["cite"], r["conf"]) for r in rows} >= {("Wang et al. (2023)", "low-medium"), ("Wei et al. (2024a)", "medium")}


def test_one_node_for_works_in_table_and_list(graph):
    rows = graph.query('SELECT ?w WHERE { ?w kg:arxivId "2406.09400" }', trusted=True).records()
    assert len(rows) == 1
    srcs = graph.query(
        'SELECT ?s WHERE { ?w kg:arxivId "2406.09400" ; prov:wasDerivedFrom ?s }', trusted=True).records()
    assert {r["s"].rsplit("/", 1)[-1] for r in srcs} == {"survey-table1", "awesome-list"}


def test_every_label_carries_provenance(graph):
    missing = graph.query("""
        SELECT ?w ?p ?c WHERE {
          VALUES ?p { kg:category kg:mechanism kg:inputModality kg:outputModality }
          ?w ?p ?c .
          FILTER NOT EXISTS { ?w kg:hasLabel ?a . ?a kg:axis ?p ; kg:concept ?c ;
                              prov:wasAttributedTo ?agent ; prov:wasDerivedFrom ?src ; kg:confidence ?conf }
        }""", trusted=True).records()
    assert missing == []


def test_datasets_link_to_the_papers_that_introduce_them(graph):
    rows = {r["name"]: r for r in run_named(graph, "datasets").records()}
    assert set(rows) == {"ConCon-Chi", "PODS", "MC-LLaVA", "Yo'LLaVA", "MyVLM"}
    assert rows["PODS"]["concepts"] == 100
    assert "Yo'LLaVA" in rows["Yo'LLaVA"]["introducedBy"]
    assert rows["MC-LLaVA"]["concepts"] is None


def test_awesome_list_text_is_repaired_and_modalities_kept(graph):
    rows = graph.query(
        'SELECT ?t WHERE { ?w dcterms:title ?t . FILTER(CONTAINS(?t, "unicorn")) }', trusted=True).records()
    assert rows[0]["t"].startswith("\u201cThis is my unicorn, Fluffy\u201d")
    mods = graph.query(
        'SELECT ?m WHERE { ?w kg:arxivId "2403.14599" ; kg:inputModality/skos:notation ?m }', trusted=True).records()
    assert {r["m"] for r in mods} == {"image", "text"}


def _dump(path) -> set:
    g = LocalGraph(path)
    return set(g.store.quads_for_pattern(None, None, None))


def test_build_twice_gives_the_same_graph(tmp_path):
    store = tmp_path / "s"
    first = build(store)
    quads1 = _dump(store)
    second = build(store)
    quads2 = _dump(store)
    assert quads1 == quads2
    assert first.stats == second.stats
    assert len(quads2) == first.stats["triples"]
    # where the time went (`kg build --phases`): every phase, none longer than the whole build
    assert list(second.phases) == ["reading the records", "writing the graph's text", "waiting for the loader",
                                   "checking the counts", "flushing and publishing"]
    assert all(0 <= s for s in second.phases.values())
    assert second.phases["reading the records"] > 0 and second.phases["writing the graph's text"] > 0
    assert sum(second.phases.values()) <= second.seconds + 0.01


def _odd_texts(bundle):
    """Titles that test the N-Triples text the build streams: quotes, backslashes, tabs, line
    breaks and multi-byte characters (some across the loader's buffer borders)."""
    for i, work in enumerate(bundle.works[:200]):
        work.title = f'{work.title} — naïve "Ünïcødé" 漢字 \\ tab\there\nnext line ' + "é" * (i % 7)
    return bundle


@pytest.mark.parametrize("corpus", ["bundled", "synthetic"])
def test_the_streamed_text_holds_the_very_quads_of_the_writer(tmp_path, monkeypatch, corpus):
    """kg build streams the writer's quads into the store as N-Triples text: the published graph
    holds exactly the quads that pyoxigraph Quad objects made of the same terms hold (as the
    writer made them before it wrote text), on the bundled corpus and on a synthetic one."""
    import pyoxigraph as ox

    from kg.bench import synthetic_bundle
    from kg.paths import ontology_dir
    from kg.classify import scope as scope_module
    from kg.rdf import quads as quads_module
    from kg.rdf.quads import QuadWriter, iter_ontology_quads
    from kg.records.file import write_bundle
    from kg.vocab import XSD

    store = tmp_path / "s"
    if corpus == "synthetic":
        write_bundle(StoreDir(store).records_dir / "bench.jsonl", _odd_texts(synthetic_bundle(300, seed=5)))
    build(store)
    published = _dump(store)

    objects: list = []

    def term(value):  # an IRI as the writer wrote it; its literals are pyoxigraph's own (below)
        if isinstance(value, str):
            assert value.startswith("<") and value.endswith(">"), f"a literal not made by pyoxigraph: {value}"
            return ox.NamedNode(value[1:-1])
        return value

    def add_object(self, s, p, o):
        objects.append(ox.Quad(term(s), term(p), term(o)))

    def literal(value, datatype=None):  # the writer's literals as pyoxigraph Literal objects
        if datatype:
            return ox.Literal(str(value), datatype=ox.NamedNode(datatype))
        if isinstance(value, bool):
            return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
        if isinstance(value, int):
            return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
        return ox.Literal(str(value))

    monkeypatch.setattr(QuadWriter, "add", add_object)
    monkeypatch.setattr(quads_module, "_lit", literal)
    monkeypatch.setattr(scope_module, "_lit", literal)
    for _ in build_module.graph_pass(store).quads.chunks():
        pass
    monkeypatch.undo()
    reference = ox.Store()  # as the store keeps them (e.g. a decimal "1.0000" is kept as 1)
    reference.bulk_extend(objects)
    reference.bulk_extend(iter_ontology_quads([ontology_dir() / "kg.ttl", ontology_dir() / "taxonomy.ttl"]))
    expected = set(reference)
    assert len(published) > (10_000 if corpus == "synthetic" else 3_000)
    assert published == expected, (sorted(map(str, published - expected))[:5], sorted(map(str, expected - published))[:5])
    if corpus == "synthetic":
        titles = {q.object.value for q in published if q.predicate.value.endswith("/title")}
        assert any("naïve \"Ünïcødé\" 漢字 \\ tab\there\nnext line éééééé" in t for t in titles)


def test_failed_build_leaves_previous_graph(tmp_path, monkeypatch):
    store = tmp_path / "s"
    build(store)
    before = _dump(store)

    def boom(*a, **k):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(build_module, "graph_stats", boom)
    with pytest.raises(RuntimeError):
        build(store)
    assert _dump(store) == before
    assert not list(Path(store).glob("*.tmp"))


def test_error_found_while_streaming_quads_leaves_previous_graph(tmp_path):
    """Quads stream into the store a work at a time; a dataset naming an unknown work is
    only found after the works are written, and must still publish nothing."""
    from kg.errors import CorpusError
    from kg.records.file import write_bundle
    from kg.records import Bundle, Dataset, Source

    store = tmp_path / "s"
    build(store)
    before = _dump(store)
    bad = Bundle(sources=[Source("bad", "A bad record file", "someone")],
                 datasets=[Dataset("Orphan", ["bad"], introduced_by=["arxiv:9999.99999"])])
    write_bundle(StoreDir(store).records_dir / "bad.jsonl", bad)
    with pytest.raises(CorpusError, match="matches no work"):
        build(store)
    assert _dump(store) == before
    assert not list(Path(store).glob("*.tmp"))


def test_people_and_agents_are_written_once():
    """Shared authors and labelling agents are described once, not once per work."""
    from kg.records.corpus import read_corpus
    from kg.paths import corpus_dir
    from kg.rdf.quads import QuadWriter
    from kg.rdf.taxonomy import read_taxonomy

    taxonomy = read_taxonomy()
    quads = list(QuadWriter(taxonomy).iter_bundle(read_corpus(corpus_dir(), taxonomy.vocabulary())))
    assert len(quads) == len(set(quads))


def test_killed_build_leaves_previous_graph(tmp_path):
    store = tmp_path / "s"
    build(store)
    before = _dump(store)
    gen = StoreDir(store).current()
    code = (
        "import time, kg.build as b\n"
        "orig = b.graph_stats\n"
        "def slow(g):\n"
        "    print('writing', flush=True); time.sleep(60)\n"
        "b.graph_stats = slow\n"
        f"b.build({str(store)!r})\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "writing"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert StoreDir(store).current() == gen
    assert _dump(store) == before
    assert list(Path(store).glob("*.tmp"))  # the half-written generation, never published
    build(store)  # the next build cleans it up
    assert not list(Path(store).glob("*.tmp"))
    assert _dump(store) == before


def test_readers_do_not_lock_each_other(built_store):
    a, b = LocalGraph(built_store), LocalGraph(built_store)
    assert a.triple_count() == b.triple_count() > 0


def test_author_order_is_kept(graph):
    rows = graph.query('SELECT ?list WHERE { ?w kg:arxivId "2402.13587" ; kg:authorList ?list }', trusted=True).records()
    assert rows[0]["list"] == "Yunxin Li; Baotian Hu; Wenhan Luo; Lin Ma; Yuxin Ding; Min Zhang"
