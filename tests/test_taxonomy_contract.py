"""The taxonomy and corpus contracts (docs/taxonomy.md): `kg validate --taxonomy`, the corpus
JSON Schema, harvest queries from any taxonomy, and the RAG example project's files."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import analysis
from kg.errors import CorpusError, KgError
from kg.harvest import arxiv as ax
from kg.paths import corpus_dir, ontology_dir
from kg.rdf.quads import bundle_quads, iter_ontology_quads
from kg.rdf.taxonomy import read_structure, read_taxonomy
from kg.rdf.taxonomy_check import check_taxonomy
from kg.records.corpus import read_corpus
from kg.report import TEXT_FORMATS, build_report, render
from kg.store import LocalGraph

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "rag"

HEAD = """@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix ex: <https://example.org/t/> .
"""
# three categories and three mechanisms whose labels share no word
DISJOINT = HEAD + """
ex:top a owl:Ontology ; dcterms:title "Machine reading comprehension: a survey" .
ex:cats a skos:ConceptScheme ; kg:forProperty kg:category .
ex:mechs a skos:ConceptScheme ; kg:forProperty kg:mechanism .
ex:reader a skos:Concept ; skos:inScheme ex:cats ; skos:notation "reader" ; skos:prefLabel "Reader" .
ex:summ a skos:Concept ; skos:inScheme ex:cats ; skos:notation "summaries" ; skos:prefLabel "Abstractive summaries" ;
    skos:altLabel "digest" .
ex:qa a skos:Concept ; skos:inScheme ex:cats ; skos:notation "qa" ; skos:prefLabel "Question answering" .
ex:span a skos:Concept ; skos:inScheme ex:mechs ; skos:notation "span" ; skos:prefLabel "Span extraction" .
ex:gen a skos:Concept ; skos:inScheme ex:mechs ; skos:notation "gen" ; skos:prefLabel "Free-form generation" .
ex:mc a skos:Concept ; skos:inScheme ex:mechs ; skos:notation "mc" ; skos:prefLabel "Multiple choice" .
"""


def _write(tmp_path, text: str, name: str = "taxonomy.ttl") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- kg validate --taxonomy
def test_the_bundled_and_the_example_taxonomies_pass(kg):
    r = kg("validate", "--taxonomy", str(ontology_dir() / "taxonomy.ttl"))
    assert r.exit_code == 0 and "ok: 84 concepts on 6 axes" in r.output
    r = kg("validate", "--taxonomy", str(EXAMPLE / "taxonomy.ttl"))
    assert r.exit_code == 0 and "ok: 14 concepts on 3 axes (category, mechanism, method)" in r.output
    assert "no modality scheme (optional)" in r.output


def test_each_problem_names_the_concept_and_the_property(kg, tmp_path):
    path = _write(tmp_path, HEAD + """
ex:cats a skos:ConceptScheme ; kg:forProperty kg:category ; kg:singleValued true .
ex:colours a skos:ConceptScheme ; kg:forProperty kg:colour ; kg:singleValued true .
ex:a a skos:Concept ; skos:inScheme ex:cats ; skos:notation "a" ; skos:prefLabel "Reader" ; skos:altLabel "Thing" .
ex:b a skos:Concept ; skos:inScheme ex:cats ; skos:notation "a" ; skos:prefLabel "thing" ; kg:implies ex:nowhere .
ex:c a skos:Concept ; skos:inScheme ex:cats ; skos:prefLabel "Cee" .
ex:d a skos:Concept ; skos:notation "d" .
""")
    result = check_taxonomy(path)
    found = {(p.subject, p.prop) for p in result.errors}
    assert found == {
        ("(taxonomy)", "kg:forProperty"),  # no mechanism scheme
        ("ex:colours", "kg:forProperty"), ("ex:colours", "kg:singleValued"),
        ("ex:b", "skos:notation"), ("ex:b", "skos:prefLabel"), ("ex:b", "kg:implies"),
        ("ex:c", "skos:notation"), ("ex:d", "skos:inScheme"), ("ex:d", "skos:prefLabel"),
    }
    messages = {(p.subject, p.prop): p.message for p in result.errors}
    assert "'thing' also labels ex:a on the category axis" in messages[("ex:b", "skos:prefLabel")]
    assert "names ex:nowhere, which is no concept" in messages[("ex:b", "kg:implies")]
    assert "kg:mechanism" in messages[("(taxonomy)", "kg:forProperty")]
    r = kg("validate", "--taxonomy", str(path))
    assert r.exit_code == 1 and "9 problem(s)" in r.output and "ex:d skos:inScheme: missing" in r.output


def test_a_contradiction_is_reported_as_the_reader_finds_it(tmp_path):
    path = _write(tmp_path, DISJOINT.replace("kg:forProperty kg:mechanism .", "kg:forProperty kg:mechanism ; kg:singleValued true .")
                  + "ex:reader kg:implies ex:span , ex:gen .\n")
    result = check_taxonomy(path)
    assert [(p.subject, p.prop) for p in result.errors] == [("(structure)", "kg:implies")]
    assert "contradicts itself" in result.errors[0].message
    with pytest.raises(KgError, match="contradicts itself"):
        read_structure(path)


def test_broken_turtle_names_the_line_and_exits_1(kg, tmp_path):
    path = _write(tmp_path, HEAD + "ex:a a skos:Concept ;\n  skos:prefLabel \"x\"\nex:b a skos:Concept .\n")
    r = kg("validate", "--taxonomy", str(path))
    assert r.exit_code == 1 and "not valid Turtle" in r.message and "line 8" in r.message and "--taxonomy" in r.message
    r = kg("validate", "--taxonomy", str(tmp_path / "missing.ttl"))
    assert r.exit_code == 1 and "cannot read the taxonomy" in r.message


# ---------------------------------------------------------------- harvest profile
BOUNDED = re.compile(r"^\(.+\) AND .+$")


def test_labels_that_share_no_word_give_a_bounded_query_per_category_and_mechanism(tmp_path):
    taxonomy = read_taxonomy(_write(tmp_path, DISJOINT))
    queries = dict(ax.profile_queries(taxonomy))
    assert set(queries) == {"category/reader", "category/summaries", "category/qa",
                            "mechanism/span", "mechanism/gen", "mechanism/mc"}
    # no kg:scopeKeyword and no shared word: the title's content words bound every query
    head = "(abs:Machine AND abs:reading AND abs:comprehension) AND "
    assert all(q.startswith(head) for q in queries.values())
    assert queries["category/reader"] == head + "abs:Reader"  # never `abs:reader` alone
    assert queries["category/summaries"] == head + '(abs:"Abstractive summaries" OR abs:digest)'


def test_scope_keywords_declared_on_the_scheme_bound_the_queries(tmp_path):
    text = DISJOINT.replace("ex:cats a skos:ConceptScheme ;",
                            'ex:cats a skos:ConceptScheme ; kg:scopeKeyword "reading comprehension", "MRC" ;')
    queries = dict(ax.profile_queries(read_taxonomy(_write(tmp_path, text))))
    assert queries["mechanism/mc"] == ('(ti:MRC OR abs:MRC OR ti:"reading comprehension" OR '
                                       'abs:"reading comprehension") AND abs:"Multiple choice"')


def test_a_taxonomy_with_nothing_to_bound_its_queries_is_refused(tmp_path):
    text = DISJOINT.replace('ex:top a owl:Ontology ; dcterms:title "Machine reading comprehension: a survey" .', "")
    with pytest.raises(KgError, match="no scope keyword") as refused:
        ax.profile_queries(read_taxonomy(_write(tmp_path, text)))
    assert refused.value.fields == ("taxonomy_file",)


def test_the_example_profile_is_bounded_for_every_category_mechanism_and_method():
    taxonomy = read_taxonomy(EXAMPLE / "taxonomy.ttl")
    queries = dict(ax.profile_queries(taxonomy))
    expected = {f"{axis}/{c.notation}" for axis in ("category", "mechanism", "method") for c in taxonomy.axis(axis)}
    assert set(queries) == expected and len(expected) == 14
    head = queries["category/dialogue"].split(" AND ")[0]
    assert "abs:retrieval-augmented" in head
    assert all(q.startswith(head + " AND ") and BOUNDED.match(q) for q in queries.values())


# ---------------------------------------------------------------- corpus schema
def _corpus_with(tmp_path, old: str, new: str) -> Path:
    folder = tmp_path / "corpus"
    shutil.copytree(corpus_dir(), folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (folder / "survey.yaml").read_text(encoding="utf-8")
    assert old in text
    (folder / "survey.yaml").write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize("old, new, said", [
    ("  mechanism: alignment\n", "  mechanism: alignment\n  catgory: retrieval\n",
     "entry works #3 (MPDialog): unknown field 'catgory'"),
    ("  year: 2023\n  category: text_generation\n  mechanism: alignment",
     "  year: '2023'\n  category: text_generation\n  mechanism: alignment",
     "entry works #3 (MPDialog): field 'year': must be a whole number or empty, got '2023'"),
    ("  resolution: background_only", "  resolution: maybe", "field 'resolution': 'maybe' is not one of"),
    ("  id: survey-table1\n", "", "entry source: 'id' is required"),
    ("  mechanism: alignment\n", "  mechanism: alignment\n  surveyed: yes please\n",
     "field 'surveyed': must be true or false"),
])
def test_a_corpus_file_breaking_the_schema_names_file_entry_and_field(tmp_path, old, new, said):
    folder = _corpus_with(tmp_path, old, new)
    with pytest.raises(CorpusError) as broken:
        read_corpus(folder, read_taxonomy().vocabulary())
    assert "survey.yaml" in broken.value.message and said in broken.value.message


def test_the_schema_ships_in_the_package_and_the_bundled_corpus_passes():
    from kg.records.corpus import SCHEMA_FILE, schema

    assert SCHEMA_FILE.parent == ROOT / "kg" / "records" and schema()["required"] == ["source"]
    bundle = read_corpus(corpus_dir(), read_taxonomy().vocabulary())
    assert sum(w.surveyed for w in bundle.works) == 32  # the survey's Table 1


# ---------------------------------------------------------------- the RAG example
@pytest.fixture(scope="module")
def example_graph(tmp_path_factory):
    """The example corpus as a graph, with the example taxonomy (never the bundled one)."""
    taxonomy = read_taxonomy(EXAMPLE / "taxonomy.ttl")
    bundle = read_corpus(EXAMPLE / "corpus", taxonomy.vocabulary())
    store = ox.Store()
    store.extend(list(iter_ontology_quads([ontology_dir() / "kg.ttl", EXAMPLE / "taxonomy.ttl"])))
    quads, warnings = bundle_quads(bundle, taxonomy)
    assert not warnings
    store.extend(quads)
    return LocalGraph(tmp_path_factory.mktemp("example") / "in-memory", store=store)


def test_the_example_corpus_passes_and_declares_its_surveyed_works():
    taxonomy = read_taxonomy(EXAMPLE / "taxonomy.ttl")
    bundle = read_corpus(EXAMPLE / "corpus", taxonomy.vocabulary())
    assert len([w for w in bundle.works if w.surveyed]) == 15
    assert {d.name for d in bundle.datasets} == {"FEVER", "HotpotQA", "KILT", "Wizard of Wikipedia"}
    with pytest.raises(CorpusError, match="unknown category 'question_answering'"):
        read_corpus(EXAMPLE / "corpus", read_taxonomy().vocabulary())  # the bundled taxonomy does not fit


def test_the_example_gaps_and_wording_follow_its_taxonomy(example_graph):
    corpus = analysis.load_corpus(example_graph)
    assert corpus.axis_title("category") == "task (what retrieval serves)"
    assert corpus.axis_title("mechanism") == "mechanism (where retrieved text enters)"
    assert corpus.axis_title("method") == "Named methods"  # no kg:axisTitle: the scheme's label
    cells = analysis.gap_matrix(corpus)
    assert len(cells) == 16 and int(cells["count"].sum()) == 15
    empty = {(r.category, r.mechanism) for r in analysis.empty_cells(corpus).itertuples()}
    assert {("fact_verification", m) for m in ("input_augmentation", "latent_fusion", "output_interpolation",
                                               "adaptive_retrieval")} <= empty
    assert ("question_answering", "input_augmentation") not in empty
    assert analysis.summary(corpus)["surveyed"] == 15


def test_the_example_report_renders_in_every_format(example_graph):
    report = build_report(example_graph)
    for fmt in TEXT_FORMATS:  # pdf is the tex format compiled (needs LaTeX: tests/test_report_cli.py)
        text = render(report, fmt)
        assert text.strip(), fmt
    assert "Open-domain question answering" in render(report, "md")
    assert "Personalized" not in render(report, "md")


def test_the_example_heat_map_is_titled_by_its_taxonomy(example_graph):
    from kg.app import charts

    corpus = analysis.load_corpus(example_graph)
    chart = charts.gap_heatmap(analysis.gap_matrix(corpus),
                               titles={a: corpus.axis_title(a) for a in ("category", "mechanism")})
    spec = chart.to_dict()
    text = str(spec)
    assert "task (what retrieval serves)" in text and "what is personalized" not in text
