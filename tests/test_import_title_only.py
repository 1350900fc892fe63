"""Imported references with a title and no identifier (no DOI, arXiv id, web link or key): each is
given a citation key (kg.importers.keys), so an ordinary import never makes a graph that fails its
own shapes ("at least one identifier"). RIS and CSL-JSON give keys silently, as BibTeX entries
carry theirs; an awesome-list entry that links no paper is named in a note."""

from __future__ import annotations

import json

import pytest

from kg.importers.awesome import parse_awesome
from kg.importers.csljson import import_csljson
from kg.importers.keys import KeyMaker, base_key, has_identifier
from kg.importers.ris import import_ris
from kg.rdf.taxonomy import read_taxonomy
from kg.records import Author, Source, Work
from kg.store import LocalGraph

TITLE_ONLY_RIS = b"TY  - JOUR\r\nTI  - Only a title here\r\nER  - \r\n"
TITLE_ONLY_CSL = '[{"title": "Only a csl title"}]'


def _ris(*records: list[str]) -> str:
    """RIS text: one reference per list of tag lines, a blank line between them."""
    return "".join("\n".join(["TY  - JOUR", *lines, "ER  - "]) + "\n\n" for lines in records)


def _keys(problems) -> list[str]:
    """The notes that name a citation key given to a work."""
    return [str(p) for p in problems if "given the citation key" in str(p)]


# ---------------------------------------------------------------- the graph validates
@pytest.mark.parametrize("kind, name, content", [("ris", "t.ris", TITLE_ONLY_RIS),
                                                 ("csljson", "t.json", TITLE_ONLY_CSL.encode())])
def test_a_title_only_import_leaves_a_valid_graph(kg, store_copy, tmp_path, kind, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    result = kg("import", kind, str(path), store=store_copy)
    assert result.exit_code == 0, result.output + result.message
    assert "0 note(s)" in result.output
    validated = kg("validate", store=store_copy)
    assert validated.exit_code == 0, validated.output + validated.message
    again = kg("import", kind, str(path), "--json", store=store_copy)  # the same key again: nothing changes
    assert json.loads(again.stdout)["changes"]["unchanged"] == 1


def test_an_awesome_entry_with_only_a_code_link_leaves_a_valid_graph(kg, store_copy, tmp_path):
    path = tmp_path / "list.md"
    path.write_text("# Awesome X\n\n## Papers\n\n"
                    "- Personalized Widgets For Every User, 2023. [code](https://github.com/a/b)\n", encoding="utf-8")
    result = kg("import", "awesome", str(path), store=store_copy)
    assert result.exit_code == 0, result.output + result.message
    validated = kg("validate", store=store_copy)
    assert validated.exit_code == 0, validated.output + validated.message
    rows = LocalGraph(store_copy).query(
        'SELECT ?k WHERE { ?w dcterms:title "Personalized Widgets For Every User" ; kg:citationKey ?k }',
        trusted=True).records()
    assert [str(r["k"]) for r in rows] == ["personalizedwidgetsforeveryuser2023"]


# ---------------------------------------------------------------- which references get a key
def test_ris_references_without_identifiers_get_unique_keys(tmp_path):
    path = tmp_path / "refs.ris"
    path.write_text(_ris(
        ["TI  - Only a title here"],
        ["TI  - Only a title here"],  # the same words again: another key
        ["TI  - A Book On Personal Agents", "AU  - Müller, Jörg", "PY  - 2020"],
        ["TI  - Hostile link only", "UR  - javascript:alert(1)"],  # a link that is left out is no identifier
        ["TI  - 个性化推荐"],  # no ASCII words
        ["ID  - onlytitlehereb", "TI  - Keyed"],  # a key of the file's own is never given out again
        ["TI  - With a DOI", "DO  - 10.1234/abc"],
        ["TI  - With a page", "UR  - https://example.org/paper"],
    ), encoding="utf-8")
    result = import_ris(path)
    works = {w.title: w for w in result.bundle.works}
    assert len(result.bundle.works) == 8
    assert all(has_identifier(w) for w in result.bundle.works)
    cites = [w.ids.get("cite") for w in result.bundle.works]
    assert cites[:2] == ["onlytitlehere", "onlytitleherea"]
    assert works["A Book On Personal Agents"].ids == {"cite": "muller2020bookpersonalagents"}
    assert works["Hostile link only"].ids == {"cite": "hostilelinkonly"}
    assert works["个性化推荐"].ids["cite"].startswith("t") and len(works["个性化推荐"].ids["cite"]) == 9
    assert works["Keyed"].ids == {"cite": "onlytitlehereb"}
    assert works["With a DOI"].ids == {"doi": "10.1234/abc"}
    assert works["With a page"].ids == {"url": "https://example.org/paper"}
    assert [str(p) for p in result.problems] == [("line 15 ('Hostile link only'): url 'javascript:alert(1)' is "
                                                  "not a web address (http or https); left out")]


def test_csl_items_without_identifiers_get_keys_and_items_with_an_id_keep_it(tmp_path):
    path = tmp_path / "refs.json"
    path.write_text(json.dumps([
        {"title": "Only a csl title"},
        {"type": "book", "title": "Recommender Systems Handbook", "author": [{"family": "Ricci", "given": "F."}],
         "issued": {"date-parts": [[2015]]}},
        {"id": "given-id", "title": "An item with its own id"},
    ]), encoding="utf-8")
    result = import_csljson(path)
    assert [w.ids for w in result.bundle.works] == [
        {"cite": "onlycsltitle"}, {"cite": "ricci2015recommendersystemshandbook"}, {"cite": "given-id"}]
    assert result.problems == []


def test_awesome_entries_without_a_paper_link_get_keys_and_a_note():
    text = ("# Awesome X\n\n## Papers\n\n"
            "- Personalized thing for users, 2023. [code](https://github.com/a/b)\n"
            "- [Linked Paper](https://arxiv.org/abs/2401.00001)\n")
    result = parse_awesome(text, Source("t", "t", "t"), read_taxonomy())
    works = {w.title: w for w in result.bundle.works}
    assert works["Personalized thing for users"].ids == {"cite": "personalizedthingforusers2023"}
    assert "cite" not in works["Linked Paper"].ids
    assert _keys(result.problems) == [("line 5 (Personalized thing for users): no arXiv, DOI or paper link; "
                                       "given the citation key 'personalizedthingforusers2023'")]


def test_keys_are_made_from_the_work_and_unique_ignoring_case():
    work = Work(ids={}, sources=["s"], title="Only a title here", year=2021, authors=[Author("Ana de la Cruz")])
    assert base_key(work) == "cruz2021onlytitlehere"
    maker = KeyMaker(["CRUZ2021onlytitlehere"])
    assert maker.give(work) == "cruz2021onlytitleherea" and work.ids == {"cite": "cruz2021onlytitleherea"}
    assert maker.give(work) is None  # it has an identifier now
    assert maker.unique("cruz2021onlytitlehere") == "cruz2021onlytitlehereb"


def test_works_whose_titles_only_begin_alike_stay_two_works_across_imports(kg, store_copy, tmp_path):
    """A citation key merges the records holding it: keys made for two works of one author and
    year whose titles share their first words must differ, or the second import would fold its
    work into the first and its title would vanish."""
    before = LocalGraph(store_copy).values('SELECT (COUNT(*) AS ?n) WHERE { ?w a fabio:ScholarlyWork }')
    titles = ["Deep Learning for Medical Imaging: A Survey",
              "Deep Learning for Medical Imaging Segmentation with Transformers"]
    for n, title in enumerate(titles):
        path = tmp_path / f"{n}.ris"
        path.write_text(_ris([f"TI  - {title}", "AU  - Smith, John", "PY  - 2020"]), encoding="utf-8")
        assert kg("import", "ris", str(path), store=store_copy).exit_code == 0
    papers = LocalGraph(store_copy).values('SELECT (COUNT(*) AS ?n) WHERE { ?w a fabio:ScholarlyWork }')
    assert int(papers[0][0]) == int(before[0][0]) + 2
    held = {str(r["t"]) for r in LocalGraph(store_copy).query(
        'SELECT ?t WHERE { ?w dcterms:title ?t FILTER(STRSTARTS(?t, "Deep Learning for Medical")) }',
        trusted=True).records()}
    assert held == set(titles)
    long = Work(ids={}, sources=["s"], title=titles[1] + " and Much More Besides", year=2020)
    assert len(base_key(long)) <= 48 + 4 and base_key(long) != base_key(Work(ids={}, sources=["s"],
                                                                            title=titles[1], year=2020))
