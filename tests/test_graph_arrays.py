"""PageRank and communities on integer arrays (python-igraph) against networkx, the computation
they replaced: same ranks and ties, a valid partition with comparable modularity, cached."""

from __future__ import annotations

import networkx as nx
import pytest

from kg.analysis import citation_graph, citation_metrics, communities, load_corpus, pagerank_scores
from kg.analysis.citations import communities_networkx, pagerank_scores_networkx, tied_ranks
from kg.analysis.graph_arrays import citation_arrays, clear_cache, community_membership, pagerank_array


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """kg bench's synthetic corpus at 400 papers (citations by preferential attachment)."""
    import pyoxigraph as ox

    from kg.bench import synthetic_bundle
    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.rdf.taxonomy import read_taxonomy
    from kg.store import LocalGraph

    store = ox.Store()
    store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ("kg.ttl", "taxonomy.ttl"))))
    quads, _ = bundle_quads(synthetic_bundle(400, seed=3), read_taxonomy())
    store.extend(quads)
    return load_corpus(LocalGraph(tmp_path_factory.mktemp("synthetic") / "in-memory", store=store))


@pytest.fixture(params=["bundled", "synthetic"])
def corpus(request, graph, synthetic):
    return load_corpus(graph) if request.param == "bundled" else synthetic


def test_arrays_hold_the_networkx_graph(corpus):
    arrays = citation_arrays(corpus)
    g = citation_graph(corpus)
    assert list(arrays.works) == list(g.nodes)
    edges = {(arrays.works[a], arrays.works[b]) for a, b in zip(arrays.citing, arrays.cited)}
    assert edges == set(g.edges()) and len(arrays.citing) == g.number_of_edges()
    assert [g.in_degree(w) for w in arrays.works] == arrays.in_degree().tolist()
    assert [g.out_degree(w) for w in arrays.works] == arrays.out_degree().tolist()
    assert citation_arrays(corpus).key == arrays.key


def test_pagerank_matches_networkx_ranks_and_ties(corpus):
    g = citation_graph(corpus)
    ours, reference = pagerank_scores(corpus), pagerank_scores_networkx(g)
    assert ours.keys() == reference.keys()
    assert sum(ours.values()) == pytest.approx(1.0)
    # networkx stops its power iteration at a total error of 1e-6 x works: it agrees to 1e-3 or so,
    # and to 1e-9 once asked to iterate to convergence
    exact = nx.pagerank(g, tol=1e-13, max_iter=10_000)
    for w in ours:
        assert ours[w] == pytest.approx(reference[w], rel=1e-3)
        assert ours[w] == pytest.approx(exact[w], rel=1e-8)
    # the same works at the top, tied as networkx ties them
    ranked, expected = tied_ranks(ours), tied_ranks(reference)
    top = sorted(expected, key=lambda w: expected[w])[:20]
    assert {w: ranked[w] for w in top} == {w: expected[w] for w in top}


def test_citation_metrics_rows_as_before(corpus):
    metrics = citation_metrics(corpus).set_index("work")
    g = citation_graph(corpus)
    reference = nx.pagerank(g, tol=1e-13, max_iter=10_000)
    assert set(metrics.index) == set(g.nodes)
    for w, row in metrics.iterrows():
        assert (row["cited_by"], row["references"]) == (g.in_degree(w), g.out_degree(w))
        assert row["pagerank"] == pytest.approx(round(reference[w], 6), abs=2e-6)
        assert row["label"] == g.nodes[w]["label"] and row["category"] == g.nodes[w]["category"]


def test_communities_are_a_partition_with_networkx_modularity(corpus):
    g = citation_graph(corpus)
    und = g.to_undirected()
    linked = {n for n in und if und.degree(n) > 0}
    ours = communities(corpus, seed=0)
    assert set().union(*ours) == linked if ours else not linked
    assert sum(len(c) for c in ours) == len(linked)  # disjoint
    assert [len(c) for c in ours] == sorted((len(c) for c in ours), reverse=True)
    if linked:
        sub = und.subgraph(linked)
        mine = nx.community.modularity(sub, ours)
        theirs = nx.community.modularity(sub, communities_networkx(corpus, seed=0))
        assert mine >= theirs - 0.02, (mine, theirs)
    assert communities(corpus, seed=0) == ours  # seeded: stable


def test_results_are_cached_per_graph(synthetic):
    clear_cache()
    arrays = citation_arrays(synthetic)
    first = pagerank_array(arrays)
    assert pagerank_array(citation_arrays(synthetic)) is first
    parts = community_membership(arrays)
    assert community_membership(citation_arrays(synthetic)) is parts
    assert community_membership(arrays, seed=1) is not parts
    # another graph (fewer citations) is computed afresh
    from dataclasses import replace

    fewer = replace(synthetic, edges=synthetic.edges.iloc[: len(synthetic.edges) // 2])
    assert citation_arrays(fewer).key != arrays.key
    assert pagerank_array(citation_arrays(fewer)) is not first


def test_a_digraph_gives_the_same_scores(synthetic):
    g = citation_graph(synthetic)
    assert pagerank_scores(g) == pagerank_scores(synthetic)
    assert communities(g) == communities(synthetic)
