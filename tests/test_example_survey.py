"""The RAG example survey (examples/rag) end to end from the command line, as the README shows
it: `kg init` a project with its taxonomy and corpus, import its bibliography, classify, gaps,
the report in every format and validate, all following the RAG taxonomy, no file of the
installed package touched, the bundled survey unaffected. And the classifier of a RAG
taxonomy: its own labels place works, no cue of the bundled field fires."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from kg.classify.lexicon import Lexicon
from kg.classify.model import Classifier, Doc
from kg.classify.text import clean, tokens
from kg.paths import corpus_dir, ontology_dir
from kg.rdf.taxonomy import read_taxonomy
from kg.records.corpus import read_corpus

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "rag"
RAG_CATEGORIES = ("Open-domain question answering", "Language modeling", "Fact verification",
                  "Knowledge-grounded dialogue")
RAG_MECHANISMS = ("Input concatenation", "Latent fusion", "Output interpolation", "Adaptive retrieval")
AXIS_TITLES = ("task (what retrieval serves)", "mechanism (where retrieved text enters)")
# labels and axis titles of the bundled survey's taxonomy, which must never show up here
BUNDLED_WORDS = re.compile(r"personali[sz]|what is personalized|Text generation|Image generation|Recommendation",
                           re.IGNORECASE)


def package_files() -> dict[str, str]:
    """A digest and mtime of every file of the installed package's ontology and bundled corpus."""
    files = sorted(p for folder in (ontology_dir(), corpus_dir()) for p in folder.rglob("*") if p.is_file())
    return {str(p): f"{hashlib.sha1(p.read_bytes()).hexdigest()}:{p.stat().st_mtime_ns}" for p in files}


def ok(result):
    assert result.exit_code == 0, result.output + result.message
    return result


# ---------------------------------------------------------------- the example's files
def test_the_example_corpus_passes_the_schema_and_its_ids_are_consistent():
    taxonomy = read_taxonomy(EXAMPLE / "taxonomy.ttl")
    bundle = read_corpus(EXAMPLE / "corpus", taxonomy.vocabulary())  # the JSON Schema, then the notations
    assert len(bundle.works) == 19 and len(bundle.datasets) == 4
    seen: dict[str, tuple[str, int]] = {}
    for path in sorted((EXAMPLE / "corpus").glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = list(data.get("works", [])) + list(data.get("papers", []))
        if data.get("survey"):
            entries.append(data["survey"])
        for entry in entries:
            arxiv, year = entry.get("arxiv"), entry.get("year")
            if not arxiv:
                continue
            # an arXiv id says the month it was posted: the year given is that year (a paper is
            # dated by its preprint), and one id is one title throughout the example
            assert re.fullmatch(r"\d{4}\.\d{5}", arxiv), (path.name, arxiv)
            assert year == 2000 + int(arxiv[:2]), (path.name, entry["title"], arxiv, year)
            assert seen.setdefault(arxiv, (entry["title"], year)) == (entry["title"], year), arxiv
    introduced = {d["introduced_by"][len("arxiv:"):] for d in yaml.safe_load(
        (EXAMPLE / "corpus" / "benchmarks.yaml").read_text(encoding="utf-8"))["datasets"]}
    assert introduced <= set(seen)  # every dataset's paper is in the example
    bib = (EXAMPLE / "references.bib").read_text(encoding="utf-8")
    for eprint, year in re.findall(r"eprint = \{(\d{4}\.\d{5})\},\s*archivePrefix = \{arXiv\},\s*year = \{(\d{4})\}", bib):
        assert int(year) == 2000 + int(eprint[:2]), eprint
        if eprint in seen:
            assert seen[eprint][1] == int(year)
    assert len(re.findall(r"^@\w+\{", bib, re.MULTILINE)) == 5


# ---------------------------------------------------------------- end to end from the command line
def test_the_example_survey_end_to_end(kg, tmp_path, monkeypatch):
    before = package_files()
    project = tmp_path / "my-rag"
    made = ok(kg("init", str(project), "--taxonomy", str(EXAMPLE / "taxonomy.ttl"),
                 "--corpus", str(EXAMPLE / "corpus"), "--name", "RAG example"))
    assert "Made the kg project 'RAG example'" in made.stdout
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # --project from outside the folder
    imported = ok(kg("--project", str(project), "import", "bibtex", str(EXAMPLE / "references.bib")))
    assert "imported 5 paper(s)" in imported.stdout and "3 new to the graph, 2 already known" in imported.stdout
    monkeypatch.chdir(project)  # then from inside it, as the README shows
    info = json.loads(ok(kg("project", "--json")).stdout)
    assert info["name"] == "RAG example" and info["category concepts"] == 4 and "modality concepts" not in info
    ok(kg("classify"))
    stats = json.loads(ok(kg("stats", "--json")).stdout)
    assert stats["papers"] == 22 and stats["surveyed"] == 15 and stats["datasets"] == 4
    # every label the classifier wrote is a concept of the RAG taxonomy (no modality axis: no modality labels)
    taxonomy = read_taxonomy(project / "taxonomy.ttl")
    notations = {axis: {c.notation for c in taxonomy.axis(axis)} for axis in ("category", "mechanism", "method")}
    record = next((project / "store" / "records").glob("classifier*"))
    labels = [lab for line in record.read_text(encoding="utf-8").splitlines() if line.strip()
              for lab in json.loads(line).get("labels", [])]
    assert labels
    for lab in labels:
        axis = lab["axis"]
        assert axis in notations, lab
        assert lab["value"] in notations[axis] | {"unknown"}, lab

    cells = json.loads(ok(kg("gaps", "--json")).stdout)
    assert {(c["category"], c["mechanism"]) for c in cells} == {
        (a, b) for a in notations["category"] for b in notations["mechanism"]}
    by_cell = {(c["category"], c["mechanism"]): c for c in cells}
    assert by_cell[("language_modeling", "output_interpolation")]["asserted"] >= 1  # kNN-LM
    assert by_cell[("fact_verification", "latent_fusion")]["status"] == "empty"
    gaps_text = ok(kg("gaps")).stdout
    assert "question_answering" in gaps_text and not BUNDLED_WORDS.search(gaps_text)

    # the report in every format follows the RAG taxonomy
    for fmt in ("md", "html", "tex", "tex-table", "bib", "csv", "json"):
        out = project / f"report.{fmt}"
        ok(kg("report", "--format", fmt, "--output", str(out)))
        text = out.read_text(encoding="utf-8")
        assert not BUNDLED_WORDS.search(text), (fmt, BUNDLED_WORDS.search(text))
        if fmt in ("md", "html", "tex", "tex-table"):
            for label in RAG_CATEGORIES[:2] + RAG_MECHANISMS:
                assert label in text, (fmt, label)
        if fmt in ("md", "html", "tex"):
            assert all(title in text for title in AXIS_TITLES), fmt
            assert "Retrieval-augmented generation" in text  # the taxonomy's title
    report = json.loads((project / "report.json").read_text(encoding="utf-8"))
    assert report["title"] == "Taxonomy gap report: Retrieval-augmented generation"
    assert report["taxonomy"] == {"title": "Retrieval-augmented generation",
                                  "axes": {"category": AXIS_TITLES[0], "mechanism": AXIS_TITLES[1]}}
    assert [c["label"] for c in report["categories"]] == list(RAG_CATEGORIES)
    assert [m["label"] for m in report["mechanisms"]] == list(RAG_MECHANISMS)
    assert "places the works in the Retrieval-augmented generation taxonomy" in (project / "report.tex").read_text()
    rows = list(csv.DictReader(io.StringIO((project / "report.csv").read_text(encoding="utf-8"))))
    assert {r["category"] for r in rows} == notations["category"]
    bib = (project / "report.bib").read_text(encoding="utf-8")
    assert "lewis2020rag" in bib and "Nearest Neighbor Language Models" in bib
    if shutil.which("pdflatex") or shutil.which("latexmk"):
        pdf = project / "report.pdf"
        ok(kg("report", "--format", "pdf", "--output", str(pdf)))
        assert pdf.read_bytes().startswith(b"%PDF")
    ok(kg("report", "--format", "md", "--category", "fact_verification"))

    # validate: the graph against the shapes, the taxonomy against its contract
    ok(kg("validate"))
    checked = ok(kg("validate", "--taxonomy", str(project / "taxonomy.ttl")))
    assert "ok: 14 concepts on 3 axes" in checked.stdout

    assert package_files() == before  # no file of the installed package was touched

    # the quick start without a project is the bundled survey, as before
    monkeypatch.chdir(elsewhere)
    assert json.loads(ok(kg("project", "--json")).stdout)["folder"] is None
    ok(kg("build"))
    bundled = {c["category"] for c in json.loads(ok(kg("gaps", "--json")).stdout)}
    assert "text_generation" in bundled and not bundled & notations["category"]
    assert package_files() == before


def test_the_readmes_project_commands_run_as_written(kg, tmp_path, monkeypatch):
    """The README's project block, line by line, in a folder holding the examples as a source
    checkout does: each `kg` command exits 0 and the report follows the RAG taxonomy."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL) if "kg init my-rag" in b)
    shutil.copytree(EXAMPLE, tmp_path / "examples" / "rag")
    monkeypatch.chdir(tmp_path)
    ran = []
    for line in block.strip().splitlines():
        if line.startswith("cd "):
            monkeypatch.chdir(line[3:].strip())
            continue
        for command in line.split(" && "):
            assert command.startswith("kg "), command
            ok(kg(*shlex.split(command)[1:]))
            ran.append(command.split()[1 if not command.startswith("kg --") else 3])
    assert ran == ["init", "import", "classify", "gaps", "report"]
    html = (tmp_path / "my-rag" / "gaps.html").read_text(encoding="utf-8")
    assert "Retrieval-augmented generation" in html and AXIS_TITLES[0] in html and not BUNDLED_WORDS.search(html)


def test_bad_input_to_the_example_project_is_a_clear_message(kg, tmp_path):
    project = tmp_path / "rag"
    ok(kg("init", str(project), "--taxonomy", str(EXAMPLE / "taxonomy.ttl"), "--corpus", str(EXAMPLE / "corpus")))
    result = kg("--project", str(project), "gaps")
    assert result.exit_code == 1 and "no graph" in result.message and "kg build" in result.message
    ok(kg("--project", str(project), "build"))
    # a category of the bundled survey is no category of this project
    result = kg("--project", str(project), "report", "--category", "text_generation")
    assert result.exit_code != 0 and "text_generation" in result.message and "question_answering" in result.message


# ---------------------------------------------------------------- the classifier of another field
@pytest.fixture(scope="module")
def rag_taxonomy(tmp_path_factory):
    """The example taxonomy with a modality axis added (image, text, user behaviour), so the
    bundled field's task cues (which imply modalities) would have something to speak for."""
    path = tmp_path_factory.mktemp("rag-taxonomy") / "taxonomy.ttl"
    path.write_text((EXAMPLE / "taxonomy.ttl").read_text(encoding="utf-8") + """
rag:modalities a skos:ConceptScheme ; kg:forProperty kg:inputModality , kg:outputModality .
rag:text a skos:Concept ; skos:inScheme rag:modalities ; skos:notation "text" ; skos:prefLabel "Text"@en .
rag:image a skos:Concept ; skos:inScheme rag:modalities ; skos:notation "image" ; skos:prefLabel "Image"@en ;
    skos:altLabel "images"@en .
rag:behaviour a skos:Concept ; skos:inScheme rag:modalities ; skos:notation "user_behavior" ;
    skos:prefLabel "User behavior"@en .
""", encoding="utf-8")
    return read_taxonomy(path)


def test_the_classifier_of_a_rag_taxonomy_places_by_its_own_labels(rag_taxonomy):
    bundled = read_taxonomy()
    bundled_notations = {c.notation for axis in ("category", "mechanism") for c in bundled.axis(axis)}
    clf = Classifier.train([], rag_taxonomy)
    docs = [
        Doc("Fusion-in-decoder for open-domain question answering",
            "We answer open-domain questions with a reader that uses cross-attention over retrieved passages "
            "from a dense passage retrieval index."),
        Doc("A nearest neighbor language model with token-level interpolation",
            "Language modeling perplexity drops when next-token prediction is interpolated with a kNN-LM datastore."),
        Doc("Personalized subject-driven image generation for recommender systems",
            "A personalized text-to-image model learns user interests from a recommender system."),
    ]
    first, second, third = clf.predict(docs)
    assert first.axes["category"].values[0][0] == "question_answering"
    assert first.axes["mechanism"].values[0][0] == "latent_fusion"
    assert [m[0] for m in first.methods] == ["dpr"]
    assert second.axes["category"].values[0][0] == "language_modeling"
    assert second.axes["mechanism"].values[0][0] == "output_interpolation"
    for pred in (first, second, third):
        for axis in ("category", "mechanism"):
            assert not {v for v, _ in pred.axes[axis].values} & bundled_notations
    # the bundled field's task cues stay silent: a RAG taxonomy names no recommendation or
    # subject-driven generation, so nothing implies user behaviour or reference images
    assert not [h for h in third.hits if h.rule == "implied"]


def test_task_cues_speak_only_for_a_taxonomy_naming_their_task(rag_taxonomy):
    def implied(lexicon, text):
        cleaned, _ = clean(text)
        return {(h.value, h.role) for h in lexicon.match("abstract", tokens(cleaned), cleaned) if h.rule == "implied"}

    text = "Subject-driven generation for a recommender system, with visual question answering."
    bundled = Lexicon.build(read_taxonomy())
    assert implied(bundled, text) >= {("user_behavior", "source"), ("image", "source"), ("text", "target")}
    assert bundled.category_implies  # filing a work under recommendation implies user behaviour in
    # the RAG taxonomy names question answering (answers are text), but no recommendation and
    # no subject-driven or visual question answering: those rules are another field's
    rag = Lexicon.build(rag_taxonomy)
    assert {c.value for c in rag.cues} == {"text"} and rag.category_implies == {}
    assert implied(rag, text) == {("text", "target")}
