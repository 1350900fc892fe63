"""Concept co-occurrence and unexplored combinations on a graph with known answers, and the
taxonomy's declared structure (single-valued axes, exclusions, implications) obeyed by the ranking."""

from __future__ import annotations

import math

import pytest

from kg.analysis import concept_occurrences, cooccurrence_graph, cooccurrence_matrix, load_corpus, unexplored_combinations
from kg.analysis.combinations import set_aside_combinations, set_aside_note
from kg.errors import UsageError
from kg.rdf.taxonomy import Structure, read_structure

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

    Never together although both common: alignment+video, image+video, and alignment+instruction,
    which the bundled taxonomy declares single-valued (one mechanism per work): no gap.
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
    assert pairs == [tuple(sorted((IM, V))), tuple(sorted((A, V)))]
    assert combos.attrs["set_aside"] == {"single_valued": 1, "excluded": 0, "implied": 0, "total": 1}
    # without the taxonomy's structure, the two mechanisms would top the ranking
    unstructured = unexplored_combinations(concepts, structure=Structure())
    pairs = [tuple(sorted((a, b))) for a, b in zip(unstructured["a"], unstructured["b"])]
    assert pairs == [tuple(sorted((A, I))), tuple(sorted((IM, V))), tuple(sorted((A, V)))]
    scores = dict(zip(pairs, unstructured["adamic_adar"]))
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
    graph = make_graph(rec.bundle(works))
    combos = unexplored_combinations(graph)
    assert combos.empty and combos.attrs["set_aside"]["single_valued"] == 1
    assert "1 pair set aside" in set_aside_note(combos)
    aside = set_aside_combinations(graph)
    assert list(aside["reason"]) == ["single_valued"] and "category" in aside["because"][0]


def test_implied_pairs_are_no_gap(rec, make_graph):
    """The bundled taxonomy: subject-driven generation produces images by definition."""
    works = [rec.work(1, "image_generation", ["generation"], tasks=["subject_driven_generation"]),
             rec.work(2, "image_generation", ["generation"], tasks=["subject_driven_generation"]),
             rec.work(3, "image_generation", ["generation"], outputs=["image"]),
             rec.work(4, "image_generation", ["generation"], outputs=["image"])]
    graph = make_graph(rec.bundle(works))
    combos = unexplored_combinations(graph)
    assert combos.empty  # subject-driven generation + output image were never labelled together
    assert combos.attrs["set_aside"] == {"single_valued": 0, "excluded": 0, "implied": 1, "total": 1}
    aside = set_aside_combinations(graph)
    assert aside.loc[0, "because"] == "task:subject_driven_generation implies output:image"
    assert "where one part implies the other" in set_aside_note(combos)


def test_empty_graph(make_graph):
    graph = make_graph(None)
    assert cooccurrence_matrix(graph).empty and cooccurrence_graph(graph).number_of_nodes() == 0
    assert unexplored_combinations(graph).empty
    assert set_aside_note(unexplored_combinations(graph)) == "No pair was set aside by the taxonomy's structure."


def test_bundled_graph_combinations(graph):
    corpus = load_corpus(graph)
    combos = unexplored_combinations(corpus)
    assert len(combos) > 0
    assert (combos["a_count"] >= 2).all() and (combos["b_count"] >= 2).all()
    assert list(combos["score"]) == sorted(combos["score"], reverse=True)
    # one category and one mechanism per work (declared in the taxonomy): never a same-axis pair
    same_axis = combos[(combos["a_kind"] == combos["b_kind"]) & combos["a_kind"].isin(["category", "mechanism"])]
    assert same_axis.empty, same_axis[["a", "b"]]
    structure = read_structure()
    assert all(structure.set_aside(a, b) is None for a, b in zip(combos["a"], combos["b"]))
    # the four categories and the four mechanisms: 6 + 6 pairs set aside, said in the result
    assert combos.attrs["set_aside"]["single_valued"] == 12
    assert set_aside_note(combos).startswith("12 pairs set aside by the taxonomy's structure")
    # the graph's own declarations (default for a graph) and the taxonomy file's agree
    from_graph = unexplored_combinations(graph)
    assert list(from_graph["a"]) == list(combos["a"]) and from_graph.attrs == combos.attrs
    for kinds in (["mechanism"], ["category"], ["category", "mechanism"]):
        assert unexplored_combinations(corpus, kinds).empty


# ---------------------------------------------------------------- a toy taxonomy of its own
TOY = "https://example.org/toy/"
TOY_TTL = f"""
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix toy: <{TOY}> .

toy:cats a skos:ConceptScheme ; skos:prefLabel "Kinds"@en ; kg:forProperty kg:category ;
    kg:singleValued true .
toy:mechs a skos:ConceptScheme ; skos:prefLabel "Tricks"@en ; kg:forProperty kg:mechanism .
toy:mods a skos:ConceptScheme ; skos:prefLabel "Media"@en ;
    kg:forProperty kg:inputModality , kg:outputModality .
""" + "".join(
    f'toy:{n} a skos:Concept ; skos:inScheme toy:{scheme} ; skos:notation "{n}" ; skos:prefLabel "{n.title()}"@en .\n'
    for scheme, names in (("cats", ("alpha", "beta", "gamma")), ("mechs", ("x", "y", "z")),
                          ("mods", ("m1", "m2", "m3")))
    for n in names) + """
toy:out-m1 a kg:AxisValue ; kg:onProperty kg:outputModality ; kg:valueConcept toy:m1 .
toy:in-m2 a kg:AxisValue ; kg:onProperty kg:inputModality ; kg:valueConcept toy:m2 .
toy:alpha kg:implies toy:out-m1 .
toy:z kg:excludes toy:out-m1 .
toy:x kg:excludes toy:y .
toy:y kg:implies toy:in-m2 .
"""


@pytest.fixture
def toy(tmp_path, rec):
    """A graph over the 3x3(x3) toy taxonomy: category is single-valued, mechanism is not."""
    import pyoxigraph as ox

    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.store import LocalGraph
    from kg.rdf.taxonomy import read_taxonomy

    path = tmp_path / "toy.ttl"
    path.write_text(TOY_TTL, encoding="utf-8")
    works = [rec.work(1, "alpha", ["x"], inputs=["m1"], outputs=["m1"]),
             rec.work(2, "alpha", ["x"], inputs=["m3"], outputs=["m1"]),
             rec.work(3, "beta", ["y"], inputs=["m3"], outputs=["m2"]),
             rec.work(4, "beta", ["z"], inputs=["m2"], outputs=["m2"]),
             rec.work(5, "gamma", ["y"], inputs=["m1"], outputs=["m3"]),
             rec.work(6, "gamma", ["z"], inputs=["m2"], outputs=["m3"]),
             rec.work(7, "gamma", ["x", "z"], inputs=["m3"], outputs=["m2"])]
    store = ox.Store()
    store.extend(list(iter_ontology_quads([ontology_dir() / "kg.ttl", path])))
    quads, _ = bundle_quads(rec.bundle(works), read_taxonomy(path))
    store.extend(quads)
    return LocalGraph(tmp_path / "toy-store", store=store), path


def _pairs(frame) -> set[frozenset]:
    return {frozenset((a, b)) for a, b in zip(frame["a"], frame["b"])}


def test_toy_taxonomy_declares_its_own_structure(toy):
    graph, path = toy
    structure = read_structure(path)
    assert structure.single_valued == {"category"}
    assert structure.implies == {"category:alpha": {"output:m1"}, "mechanism:y": {"input:m2"}}
    assert structure.excludes == {frozenset(("mechanism:z", "output:m1")), frozenset(("mechanism:x", "mechanism:y"))}
    assert read_structure(graph) == structure  # the graph holds the same declarations

    ruled_out = {frozenset(p) for p in [
        ("category:alpha", "category:beta"), ("category:alpha", "category:gamma"),
        ("category:beta", "category:gamma"),  # same single-valued axis
        ("mechanism:x", "mechanism:y"), ("mechanism:z", "output:m1"),  # declared exclusions
        ("category:alpha", "mechanism:z"),  # alpha implies output m1, which z excludes
        ("mechanism:y", "input:m2")]}  # y implies input m2: no gap
    blind = unexplored_combinations(graph, min_support=1, structure=Structure())
    assert ruled_out <= _pairs(blind)  # without the structure every one of them would be ranked

    for combos in (unexplored_combinations(graph, min_support=1),
                   unexplored_combinations(load_corpus(graph), min_support=1, structure=structure)):
        ranked = _pairs(combos)
        assert not ranked & ruled_out
        assert not any(structure.set_aside(a, b) for a, b in zip(combos["a"], combos["b"]))
        kinds = list(zip(combos["a_kind"], combos["b_kind"]))
        assert ("category", "category") not in kinds
        # mechanism is not single-valued here: y and z never met, a legitimate gap
        assert frozenset(("mechanism:y", "mechanism:z")) in ranked
        assert combos.attrs["set_aside"] == {"single_valued": 3, "excluded": 3, "implied": 1, "total": 7}
    aside = set_aside_combinations(graph, min_support=1).set_index(["a", "b"])
    assert aside.loc[("category:alpha", "mechanism:z"), "because"] == (
        "category:alpha implies output:m1; output:m1 excludes mechanism:z")
    assert aside.loc[("mechanism:x", "mechanism:y"), "reason"] == "excluded"
    assert aside.loc[("input:m2", "mechanism:y"), "reason"] == "implied"
