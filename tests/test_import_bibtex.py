"""Importing BibTeX: messy entries (braces, LaTeX accents, macros, missing fields, duplicates, broken
entries, hostile HTML) import cleanly, each problem named with its line and key."""

from __future__ import annotations

from pathlib import Path

from kg.importers.bibtex import import_bibtex, read_entries, split_authors
from kg.store import LocalGraph

MESSY = Path(__file__).resolve().parent / "fixtures" / "messy.bib"


def test_messy_entries_import_cleanly():
    result = import_bibtex(MESSY)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert set(works) == {"nguyen2024yollava", "mueller2020", "alaluf2024myvlm", "myvlm-eccv", "hostile"}
    yollava = works["nguyen2024yollava"]
    assert yollava.title == "Yo'LLaVA: Your Personalized Language and Vision Assistant"
    assert yollava.ids["arxiv"] == "2406.09400"  # eprint with its version dropped
    assert yollava.venue == "Advances in Neural Information Processing Systems"  # @string macro
    assert yollava.authors[0].name == "Thao Nguyen" and len(yollava.authors) == 6
    mueller = works["mueller2020"]
    assert mueller.title == "Müller's été: naïve ça and Italic GANs — α-tests"
    assert [a.name for a in mueller.authors] == ["Jörg Müller", "Søren Østergaard"]  # 'and others' dropped
    assert mueller.ids["doi"] == "10.1234/abc.def" and mueller.year == 2020
    myvlm = works["alaluf2024myvlm"]
    assert myvlm.ids["arxiv"] == "2403.14599" and myvlm.venue == "arXiv"  # from 'arXiv preprint arXiv:...'
    assert myvlm.abstract == "An abstract the first copy lacks."  # the duplicate key filled the gap
    assert works["myvlm-eccv"].ids["arxiv"] == "2403.14599"
    assert works["hostile"].title == "Safe Title & more" and works["hostile"].year is None
    problems = [str(p) for p in result.problems]
    assert problems == [
        "line 21 (broken2023): not imported: expected ',' after field 'title', found the end of the entry "
        "(unbalanced braces?)",
        "line 27 (notitle): no title; not imported",
        "line 36 (alaluf2024myvlm): duplicate key (first at line 29); merged into it",
        "line 42 (myvlm-eccv): same work as 'alaluf2024myvlm' (line 29, arxiv:2403.14599); they become one node",
        "line 48 (hostile): year 'twenty twenty' is not a year; left out",
    ]


def test_reader_handles_parentheses_quotes_concatenation_and_comments():
    text = """@comment{ignored @article{x, title={no}} }
@String(pre = "Proc. of ")
@Article(paren2020,
  Title = "Quoted {with} {"}braces{"}",
  booktitle = pre # "KDD",
  Year = 2020
)
Some prose between entries is a comment too.
@misc{missingcomma title = {x}}
"""
    entries, problems = read_entries(text)
    assert [(e.kind, e.key, e.line) for e in entries] == [("article", "paren2020", 3)]
    assert entries[0].fields["booktitle"] == "Proc. of KDD"
    assert entries[0].fields["year"] == "2020"
    assert [p.line for p in problems] == [9]
    assert "expected ','" in problems[0].message


def test_author_names():
    assert split_authors("Lee, Yong Jae and {Barack Obama} and de la Cruz, Ana and Smith, Jr, John") == \
        ["Yong Jae Lee", "Barack Obama", "Ana de la Cruz", "John Smith Jr"]
    assert split_authors("{Research and Development Team} and Others") == ["Research and Development Team"]


def test_cli_import_into_the_graph_and_reimport_replaces(store_copy, kg):
    first = kg("import", "bibtex", str(MESSY), store=store_copy)
    assert first.exit_code == 0, first.output + first.message
    assert "imported 5 paper(s)" in first.output
    assert "line 21 (broken2023)" in first.output  # the broken entry is named; the rest is imported
    again = kg("import", "bibtex", str(MESSY), store=store_copy)
    assert again.exit_code == 0
    graph = LocalGraph(store_copy)
    count = graph.query("SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }", trusted=True).records()
    assert count[0]["n"] == 49 + 2  # MüllerEtAl and the hostile entry are new; the rest merge into nodes
    myvlm = graph.query('SELECT ?w WHERE { ?w kg:arxivId "2403.14599" }', trusted=True).records()
    assert len(myvlm) == 1  # two .bib entries and the bundled corpus: one node
    hostile = graph.query('SELECT ?t WHERE { ?w kg:citationKey "hostile" ; dcterms:title ?t }',
                          trusted=True).records()
    assert hostile == [{"t": "Safe Title & more"}]


def test_cli_bad_files(tmp_path, kg):
    broken = tmp_path / "broken.bib"
    broken.write_text("@article{only, title = {never closed\n", encoding="utf-8")
    result = kg("import", "bibtex", str(broken), store=tmp_path / "store")
    assert result.exit_code == 1
    assert "no entries could be imported" in result.message and "line 1 (only)" in result.message
    assert not (tmp_path / "store" / "records").exists() or not list((tmp_path / "store" / "records").glob("*.jsonl"))
    latin = tmp_path / "latin1.bib"
    latin.write_bytes("@misc{l, title={Caf\xe9 au lait and personalization models}, year={2021}}".encode("latin-1"))
    ok = kg("import", "bibtex", str(latin), store=tmp_path / "store")
    assert ok.exit_code == 0, ok.message
