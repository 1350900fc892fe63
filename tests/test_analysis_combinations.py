"""Concept co-occurrence and unexplored combinations on a graph with known answers."""

from __future__ import annotations

import math

import pytest

from kg.analysis import concept_occurrences, cooccurrence_graph, cooccurrence_matrix, load_corpus, unexplored_combinations
from kg.errors import UsageError

TG = "text_generation"
I, A = "mechanism:instruction", "mechanism:alignment"
IM, V, AU = "input:image", "input:video", "input:audio"
CAT = f"category:{TG}"


def pair(frame, x, y):
    """The row of the pair {x, y} (keys are stored in sorted order)."""
    a, b = sorted((x, y))
    rows = frame[(frame["a"] == a) & (frame["b"] == b)]
    assert len(rows) == 1, f"{a} + {b} not in the combinations"
    return rows.iloc[0]


@pytest.fixture
def concepts(rec, make_graph):
    """instruction x4, alignment x2, image x3, video x2, audio x1 (too rare), text generation x5.

    Never together although both common: alignment+video, alignment+instruction, image+video.
    """
    works = [rec.work(1, TG, ["instruction"], inputs=["image"]),
             rec.work(2, TG, ["instruction"], inputs=["video"]),
             rec.work(3, TG, ["alignment"], inputs=["image"]),
             rec.work(4, TG, ["alignment"], inputs=["image"]),
             rec.work(5, TG, ["instruction"], inputs=["video"]),
             rec.work(6, None, ["instruction"], inputs=["audio"])]
    return make_graph(rec.bundle(works))


def test_cooccurrence_matrix_and_graph(concepts):
    m = cooccurrence_matrix(concepts)
    assert m.loc[I, I] == 4 and m.loc[IM, IM] == 3 and m.loc[AU, AU] == 1
    assert m.loc[I, IM] == 1 and m.loc[A, IM] == 2 and m.loc[A, V] == 0
    assert (m.values == m.values.T).all()
    g = cooccurrence_graph(concepts)
    assert g.nodes[CAT]["count"] == 5 and g.nodes[I]["kind"] == "mechanism"
    assert g.edges[A, IM]["weight"] == 2 and not g.has_edge(A, V)
    occ = concept_occurrences(concepts, kinds=["input"])
    assert set(occ["kind"]) == {"input"} and len(occ) == 6


def test_unexplored_pairs_and_their_adamic_adar(concepts):
    combos = unexplored_combinations(concepts)
    pairs = [tuple(sorted((a, b))) for a, b in zip(combos["a"], combos["b"])]
    assert pairs == [tuple(sorted((A, I))), tuple(sorted((IM, V))), tuple(sorted((A, V)))]
    scores = dict(zip(pairs, combos["adamic_adar"]))
    # A and I share image (3 neighbours: I, A, TG) and TG (4 neighbours: I, A, image, video)
    assert scores[tuple(sorted((A, I)))] == pytest.approx(1 / math.log(3) + 1 / math.log(4), abs=1e-3)
    assert scores[tuple(sorted((IM, V)))] == pytest.approx(2 / math.log(4), abs=1e-3)
    # the known unexplored pair: alignment with video input, only text generation in common
    av = pair(combos, A, V)
    assert av["common"] == 1 and av["score"] == pytest.approx(1 / math.log(4), abs=1e-3)
    assert av["expected"] == pytest.approx(2 * 2 / 6, abs=1e-3) and av["jaccard"] == pytest.approx(1 / 3, abs=1e-3)
    assert not any(AU in (a, b) for a, b in pairs)  # audio occurs once: below min_support


def test_scoring_options(concepts):
    jac = unexplored_combinations(concepts, method="jaccard")
    assert list(jac["score"]) == sorted(jac["score"], reverse=True)
    assert (jac["score"] == jac["jaccard"]).all()
    with_audio = unexplored_combinations(concepts, min_support=1)
    assert any(AU in (a, b) for a, b in zip(with_audio["a"], with_audio["b"]))
    assert len(unexplored_combinations(concepts, top=1)) == 1
    no_category = unexplored_combinations(concepts, kinds=["mechanism", "input"])
    av = pair(no_category, A, V)
    assert av["score"] == 0  # without the category node they share no neighbour
    with pytest.raises(UsageError, match="adamic_adar"):
        unexplored_combinations(concepts, method="magic")
    with pytest.raises(UsageError, match="mechanism"):
        concept_occurrences(concepts, kinds=["colour"])


def test_two_categories_are_never_a_combination(rec, make_graph):
    works = [rec.work(n, cat, ["instruction"]) for n, cat in enumerate([TG, TG, "retrieval", "retrieval"], 1)]
    combos = unexplored_combinations(make_graph(rec.bundle(works)))
    assert combos.empty


def test_empty_graph(make_graph):
    graph = make_graph(None)
    assert cooccurrence_matrix(graph).empty and cooccurrence_graph(graph).number_of_nodes() == 0
    assert unexplored_combinations(graph).empty


def test_bundled_graph_combinations(graph):
    combos = unexplored_combinations(load_corpus(graph))
    assert len(combos) > 0
    assert (combos["a_count"] >= 2).all() and (combos["b_count"] >= 2).all()
    assert list(combos["score"]) == sorted(combos["score"], reverse=True)
