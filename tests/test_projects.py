"""Projects (kg.project, `kg init`, --project, KG_PROJECT): a survey's own taxonomy, corpus and store
in one folder, which every command follows, never touching the installed package's files or
another project."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from kg.project import CONFIG, Project, resolve
from kg.scaffold import init_project
from kg.sparql.stats import graph_stats
from kg.store import LocalGraph, Store

ROOT = Path(__file__).resolve().parents[1]

# a 2 x 2 taxonomy of another survey (retrieval-augmented generation): labels share no words
RAG_TAXONOMY = """\
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix rag: <https://example.org/rag/> .

rag:sources a skos:ConceptScheme ; skos:prefLabel "Retrieval sources"@en ; kg:forProperty kg:category ;
    kg:scopeKeyword "retrieval-augmented"@en , "retrieval augmented"@en .
rag:techniques a skos:ConceptScheme ; skos:prefLabel "Augmentation techniques"@en ; kg:forProperty kg:mechanism .

rag:dense a skos:Concept ; skos:inScheme rag:sources ; skos:notation "dense_passages" ;
    skos:prefLabel "Dense passage corpora"@en ; skos:altLabel "dense retriever"@en ; kg:surveySection "2" .
rag:graphs a skos:Concept ; skos:inScheme rag:sources ; skos:notation "knowledge_graphs" ;
    skos:prefLabel "Knowledge graphs"@en ; skos:altLabel "graph grounding"@en ; kg:surveySection "3" .
rag:rewrite a skos:Concept ; skos:inScheme rag:techniques ; skos:notation "query_rewriting" ;
    skos:prefLabel "Query rewriting"@en ; skos:altLabel "query expansion"@en ; kg:subsectionIndex "1" .
rag:rerank a skos:Concept ; skos:inScheme rag:techniques ; skos:notation "reranking" ;
    skos:prefLabel "Reranking"@en ; skos:altLabel "cross-encoder reranker"@en ; kg:subsectionIndex "2" .
"""

# a second, unrelated one (code generation), for two projects side by side
CODE_TAXONOMY = """\
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix code: <https://example.org/code/> .

code:targets a skos:ConceptScheme ; skos:prefLabel "Targets"@en ; kg:forProperty kg:category .
code:methods a skos:ConceptScheme ; skos:prefLabel "Methods"@en ; kg:forProperty kg:mechanism .
code:sql a skos:Concept ; skos:inScheme code:targets ; skos:notation "sql" ; skos:prefLabel "SQL synthesis"@en .
code:py a skos:Concept ; skos:inScheme code:methods ; skos:notation "execution_feedback" ;
    skos:prefLabel "Execution feedback"@en .
"""

RAG_BIB = """\
@article{smith2023, title={Query Expansion for Dense Retriever Pipelines}, author={Ann Smith}, year={2023},
  journal={Journal of Retrieval}, abstract={We study query rewriting with a dense retriever over dense passage corpora.}}
@article{jones2024, title={Cross-Encoder Reranker over Knowledge Graphs}, author={Bob Jones}, year={2024},
  journal={Journal of Retrieval}, abstract={Graph grounding with a cross-encoder reranker on knowledge graphs.}}
@article{lee2024, title={Graph Grounding by Query Rewriting}, author={Cy Lee}, year={2024},
  journal={Journal of Retrieval}, abstract={Query rewriting for knowledge graphs and graph grounding.}}
"""


def package_fingerprint() -> dict[str, str]:
    """A digest and mtime of every file of the installed package kg reads (code, corpus, ontology)."""
    files = [p for p in sorted((ROOT / "kg").rglob("*")) if p.is_file() and "__pycache__" not in p.parts]
    files += sorted((ROOT / "ontology").glob("*"))
    return {str(p): f"{hashlib.sha1(p.read_bytes()).hexdigest()}:{p.stat().st_mtime_ns}" for p in files}


@pytest.fixture
def sources(tmp_path) -> Path:
    folder = tmp_path / "sources"
    folder.mkdir()
    (folder / "rag.ttl").write_text(RAG_TAXONOMY)
    (folder / "code.ttl").write_text(CODE_TAXONOMY)
    (folder / "rag.bib").write_text(RAG_BIB)
    return folder


def ok(result):
    assert result.exit_code == 0, result.output + result.message
    return result


def project_info(kg, *args) -> dict:
    return json.loads(ok(kg(*args, "project", "--json")).stdout)


# ---------------------------------------------------------------- kg init
def test_init_makes_the_layout_with_copies_of_the_bundled_survey(kg, tmp_path):
    folder = tmp_path / "mllm"
    result = ok(kg("init", str(folder), "--name", "My MLLM survey"))
    assert "Made the kg project" in result.stdout
    assert sorted(p.name for p in folder.iterdir()) == ["corpus", CONFIG, "store", "taxonomy.ttl"]
    assert (folder / "taxonomy.ttl").read_bytes() == (ROOT / "ontology" / "taxonomy.ttl").read_bytes()
    assert sorted(p.name for p in (folder / "corpus").iterdir()) == ["awesome.yaml", "survey.yaml"]
    assert (folder / "store" / "records").is_dir()
    project = Project.load(folder)
    assert project.name == "My MLLM survey" and project.root == folder.resolve()
    assert project.taxonomy_file == folder.resolve() / "taxonomy.ttl"
    assert project.corpus_dir == folder.resolve() / "corpus" and project.store == str(folder.resolve() / "store")
    info = project_info(kg, "--project", str(folder))
    assert info["name"] == "My MLLM survey" and info["corpus files"] == 2 and info["category concepts"] == 4
    assert info["built"] is False


def test_init_with_a_taxonomy_of_ones_own_starts_without_a_corpus(kg, tmp_path, sources):
    folder = tmp_path / "rag"
    ok(kg("init", str(folder), "--taxonomy", str(sources / "rag.ttl")))
    assert (folder / "taxonomy.ttl").read_text() == RAG_TAXONOMY
    assert not (folder / "corpus").exists()
    project = Project.load(folder)
    assert project.corpus_dir is None and project.name == "rag"


def test_init_refuses_a_non_empty_folder_and_an_existing_project(kg, tmp_path, sources):
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    result = kg("init", str(busy))
    assert result.exit_code == 2 and "not empty" in result.message
    assert [p.name for p in busy.iterdir()] == ["notes.txt"]
    project = tmp_path / "p"
    ok(kg("init", str(project), "--taxonomy", str(sources / "rag.ttl")))
    before = (project / CONFIG).read_text()
    result = kg("init", str(project))
    assert result.exit_code == 2 and "a kg project already" in result.message
    assert (project / CONFIG).read_text() == before and (project / "taxonomy.ttl").read_text() == RAG_TAXONOMY


def test_init_checks_the_taxonomy_and_corpus_before_writing_anything(kg, tmp_path, sources):
    broken = tmp_path / "broken.ttl"
    broken.write_text("this is not turtle")
    result = kg("init", str(tmp_path / "a"), "--taxonomy", str(broken))
    assert result.exit_code != 0 and "broken.ttl" in result.message
    assert not (tmp_path / "a").exists()
    result = kg("init", str(tmp_path / "b"), "--taxonomy", str(tmp_path / "missing.ttl"))
    assert result.exit_code == 2 and "no such file" in result.message and "--taxonomy" in result.message
    # the bundled corpus names categories the RAG taxonomy does not have
    result = kg("init", str(tmp_path / "c"), "--taxonomy", str(sources / "rag.ttl"),
                "--corpus", str(ROOT / "kg" / "data"))
    assert result.exit_code != 0 and "awesome.yaml" in result.message and "unknown" in result.message
    assert not (tmp_path / "c").exists()


# ---------------------------------------------------------------- a survey of one's own, end to end
def test_a_project_with_its_own_taxonomy_imports_classifies_gaps_and_reports(kg, tmp_path, sources, monkeypatch):
    before = package_fingerprint()
    home_current = Path(os.environ["KG_HOME"]) / "store" / "current"
    home_before = os.readlink(home_current) if home_current.is_symlink() else None  # other tests may have built it
    folder = tmp_path / "rag"
    ok(kg("init", str(folder), "--taxonomy", str(sources / "rag.ttl"), "--name", "RAG survey"))
    monkeypatch.chdir(folder)  # run inside the project, as a user would
    ok(kg("import", "bibtex", str(sources / "rag.bib")))
    ok(kg("classify"))
    cells = {(c["category"], c["mechanism"]) for c in json.loads(ok(kg("gaps", "--json")).stdout)}
    assert cells == {(a, b) for a in ("dense_passages", "knowledge_graphs") for b in ("query_rewriting", "reranking")}
    report = ok(kg("report", "--format", "md")).stdout
    assert "Dense passage corpora" in report and "Query rewriting" in report
    assert "text generation" not in report.lower()
    # a curation decision is checked against the project's taxonomy, not the bundled one
    ok(kg("curate", "smith2023", "--category", "knowledge_graphs", "-m", "reranking"))
    wrong = kg("curate", "smith2023", "--category", "text_generation")
    assert wrong.exit_code == 2 and "dense_passages, knowledge_graphs" in wrong.message
    store = folder / "store"
    stats = graph_stats(LocalGraph(store))
    assert stats["papers"] == 3 and set(stats["cells"]) == {f"{a}/{b}" for a, b in cells}
    assert stats["cells"]["knowledge_graphs/reranking"] == 2
    assert package_fingerprint() == before  # no file of the package was touched
    home_after = os.readlink(home_current) if home_current.is_symlink() else None
    assert home_after == home_before  # nor the bundled survey's store: no build was published there


def test_two_projects_side_by_side_never_touch_each_other(kg, tmp_path, sources):
    rag, code = tmp_path / "rag", tmp_path / "code"
    ok(kg("init", str(rag), "--taxonomy", str(sources / "rag.ttl")))
    ok(kg("init", str(code), "--taxonomy", str(sources / "code.ttl")))
    ok(kg("--project", str(rag), "import", "bibtex", str(sources / "rag.bib")))
    ok(kg("--project", str(code), "build"))
    assert graph_stats(LocalGraph(rag / "store"))["papers"] == 3
    code_stats = graph_stats(LocalGraph(code / "store"))
    assert code_stats["papers"] == 0 and set(code_stats["cells"]) == {"sql/execution_feedback"}
    assert not list((code / "store" / "records").glob("bibtex-*.jsonl"))  # the import went to rag alone
    # rebuilding one leaves the other's graph as it was
    generation = Store(rag / "store").generation_key()
    ok(kg("--project", str(code), "build"))
    assert Store(rag / "store").generation_key() == generation
    assert json.loads(ok(kg("--project", str(rag), "stats", "--json")).stdout)["papers"] == 3


# ---------------------------------------------------------------- which project a run uses
def test_the_project_is_found_from_the_current_folder_upward(kg, tmp_path, sources, monkeypatch):
    folder = tmp_path / "rag"
    ok(kg("init", str(folder), "--taxonomy", str(sources / "rag.ttl"), "--name", "RAG"))
    deep = folder / "notes" / "drafts"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    info = project_info(kg)
    assert info["name"] == "RAG" and info["store"] == str(folder.resolve() / "store")
    assert resolve().root == folder.resolve()


def test_kg_project_and_the_option_select_a_project_the_option_first(kg, tmp_path, sources, monkeypatch):
    a, b = tmp_path / "a", tmp_path / "b"
    ok(kg("init", str(a), "--taxonomy", str(sources / "rag.ttl"), "--name", "A"))
    ok(kg("init", str(b), "--taxonomy", str(sources / "code.ttl"), "--name", "B"))
    monkeypatch.setenv("KG_PROJECT", str(a))
    assert project_info(kg)["name"] == "A"
    assert project_info(kg, "--project", str(b))["name"] == "B"
    monkeypatch.chdir(b)  # KG_PROJECT wins over the current folder
    assert project_info(kg)["name"] == "A"


def test_the_store_option_overrides_the_projects_store(kg, tmp_path, sources):
    folder = tmp_path / "rag"
    ok(kg("init", str(folder), "--taxonomy", str(sources / "rag.ttl")))
    elsewhere = tmp_path / "elsewhere"
    ok(kg("--project", str(folder), "--store", str(elsewhere), "build"))
    assert set(graph_stats(LocalGraph(elsewhere))["cells"]) == {
        f"{a}/{b}" for a in ("dense_passages", "knowledge_graphs") for b in ("query_rewriting", "reranking")}
    assert not (folder / "store" / "current").exists()


def test_without_a_project_the_bundled_survey_is_the_default(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KG_PROJECT", raising=False)
    project = resolve()
    assert project.is_default and project.taxonomy_file == ROOT / "ontology" / "taxonomy.ttl"
    assert project.corpus_dir == ROOT / "kg" / "data"
    store = Store()
    assert store.project.is_default and store.location == str(Path(__import__("os").environ["KG_HOME"]) / "store")


def test_a_project_store_given_by_its_location_knows_its_project(tmp_path, sources):
    project = init_project(tmp_path / "rag", taxonomy=sources / "rag.ttl")
    assert Store(project.store).project == project  # e.g. a worker handed the location only
    assert Store(tmp_path / "other").project.is_default


# ---------------------------------------------------------------- a broken kg.toml
@pytest.mark.parametrize("config, named", [
    ('name = "x"\ntaxonomy = "taxonomy.ttl"\ncolour = "blue"\n', "colour: unknown key"),
    ('taxonomy = "missing.ttl"\n', "taxonomy: no such file"),
    ('corpus = "nowhere"\n', "corpus: no such folder"),
    ('name = 3\n', "name: must be a non-empty string"),
    ('name = "x\n', "not valid TOML"),
])
def test_a_broken_kg_toml_is_a_clear_error(kg, tmp_path, sources, config, named):
    folder = tmp_path / "p"
    init_project(folder, taxonomy=sources / "rag.ttl")
    (folder / CONFIG).write_text(config)
    for args in (("--project", str(folder), "stats"), ("--project", str(folder), "build")):
        result = kg(*args)
        assert result.exit_code == 1 and named in result.message and "--project" in result.message
        assert result.exception is None or not isinstance(result.exception, (KeyError, TypeError, ValueError))
    assert not (folder / "store" / "current").exists()


def test_a_folder_that_is_no_project_is_named(kg, tmp_path):
    result = kg("--project", str(tmp_path / "nothing"), "stats")
    assert result.exit_code == 1 and "is no kg project" in result.message and "kg init" in result.message


# ---------------------------------------------------------------- the app follows the project
def test_the_apps_rebuild_uses_the_projects_taxonomy(kg, tmp_path, sources, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from kg.app import data

    folder = tmp_path / "rag"
    ok(kg("init", str(folder), "--taxonomy", str(sources / "rag.ttl")))
    ok(kg("--project", str(folder), "import", "bibtex", str(sources / "rag.bib")))
    monkeypatch.setenv("KG_PROJECT", str(folder))
    assert data.store().project.root == folder.resolve()
    generation = Store(folder / "store").generation_key()

    def script():
        from kg.app.main import run

        run(default="overview")

    at = AppTest.from_function(script, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    [rebuild] = [b for b in at.sidebar.button if b.label == "Rebuild graph"]
    at = rebuild.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert Store(folder / "store").generation_key() != generation
    stats = graph_stats(LocalGraph(folder / "store"))
    assert stats["papers"] == 3 and "dense_passages/reranking" in stats["cells"]


# ---------------------------------------------------------------- harvests and remote stores follow it too
def test_the_arxiv_profile_is_made_from_the_projects_taxonomy(monkeypatch, fake_time, tmp_path, sources):
    from harvest_support import Answer, LocalServer, atom_feed

    from kg.harvest import arxiv as ax
    from kg.harvest import run
    from kg.rdf.taxonomy import read_taxonomy

    project = init_project(tmp_path / "rag", taxonomy=sources / "rag.ttl")
    seen = []

    def handler(req):
        seen.append(req.query["search_query"])
        return Answer(200, atom_feed([{"id": f"2401.{len(seen):05d}", "title": "A retrieval paper"}]))

    with LocalServer(handler) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        run.harvest_arxiv(run.Options(Store(project.store, project=project)), profile="survey", max_results=5)
    assert seen and seen == [q for _, q in ax.profile_queries(read_taxonomy(project.taxonomy_file))]
    assert seen != [q for _, q in ax.profile_queries(read_taxonomy())]  # not the bundled survey's


def test_a_projects_remote_store_keeps_its_records_in_the_project(tmp_path, sources):
    project = init_project(tmp_path / "rag", taxonomy=sources / "rag.ttl")
    url = "http://127.0.0.1:9/sparql"
    store = Store(url, project=project)
    assert store.remote and store.records_dir.is_relative_to(project.root / "remote")
    assert not Store(url).records_dir.is_relative_to(project.root)  # the bundled survey's: the kg home
