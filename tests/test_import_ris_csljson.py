"""Importing and exporting RIS and CSL-JSON (Zotero, Mendeley, EndNote): realistic libraries import
cleanly, broken lines and items are named by line / item while the rest import, any encoding is
read, and an export opens back (in kg and in Zotero's reading of the formats) to the same works."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import rispy

from kg.output.export import ALL_FORMATS, export
from kg.importers.csljson import import_csljson
from kg.importers.references import ris_name, split_name
from kg.importers.ris import import_ris
from kg.store import LocalGraph

FIXTURES = Path(__file__).resolve().parent / "fixtures"
RIS = FIXTURES / "zotero_library.ris"
CSL = FIXTURES / "zotero_library.json"
CSL_SCHEMA = json.loads((FIXTURES / "csl-data.schema.json").read_text(encoding="utf-8"))
# A line Zotero's RIS reader takes: two capitals (or capital + digit), two spaces, '-', a space, the value.
RIS_LINE = re.compile(r"^[A-Z][A-Z0-9]  - ")


def _facts(works) -> dict:
    """What a round trip keeps: title, authors in order, year, identifiers (by citation key or title)."""
    return {w.ids.get("cite") or w.title: (w.title, [a.name for a in w.authors], w.year,
                                           {k: v for k, v in w.ids.items()})
            for w in works}


def _count(graph) -> int:
    rows = graph.query("SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }", trusted=True).records()
    return rows[0]["n"]


# ---------------------------------------------------------------- reading the fixtures
def test_zotero_ris_library_imports():
    result = import_ris(RIS)
    assert result.problems == [] and result.entries == 6
    works = _facts(result.bundle.works)
    assert works["schmidhuber2015deep"] == (
        "Deep learning in neural networks: An overview", ["Jürgen Schmidhuber"], 2015,
        {"cite": "schmidhuber2015deep", "doi": "10.1016/j.neunet.2014.09.003",
         "url": "https://www.sciencedirect.com/science/article/pii/S0893608014002135"})
    dreambooth = works["ruiz2023dreambooth"]
    assert dreambooth[1][:2] == ["Nataniel Ruiz", "Yuanzhen Li"] and len(dreambooth[1]) == 6
    assert dreambooth[3]["arxiv"] == "2208.12242"  # from the note 'arXiv: 2208.12242'
    assert dreambooth[3]["doi"] == "10.1109/cvpr52729.2023.02155"  # DOIs are kept lowercase
    sparks = works["bubeck2023sparks"]
    assert sparks[1][0] == "Sébastien Bubeck" and len(sparks[1]) == 6  # 'others' is no author
    assert sparks[3]["arxiv"] == "2303.12712"
    # the authors, not the A2 editors
    assert works["ricci2015recommender"][1] == ["Francesco Ricci", "Lior Rokach", "Bracha Shapira"]
    inversion = works["An Image is Worth One Word: Personalizing Text-to-Image Generation using Textual Inversion"]
    assert inversion[2] == 2022 and inversion[3] == {"arxiv": "2208.01618"}  # EndNote's T1/A1/Y1/JO, no ID
    assert works["cruz2022personalized"][1] == ["Ana de la Cruz", "Søren Østergaard", "John Smith Jr."]
    by_key = {w.ids.get("cite"): w for w in result.bundle.works}
    assert by_key["schmidhuber2015deep"].venue == "Neural Networks"
    assert by_key["schmidhuber2015deep"].date == "2015-01-01"
    assert by_key["schmidhuber2015deep"].abstract.endswith("much of it from the previous millennium.")  # 2 lines
    assert by_key["ruiz2023dreambooth"].date == "2023-06"
    assert by_key["bubeck2023sparks"].venue == "arXiv" and by_key[None].venue == "arXiv"
    assert by_key["ricci2015recommender"].venue == "Recommender Systems Handbook"
    assert by_key["cruz2022personalized"].page == "https://example.org/papers/personalized-captioning"


def test_zotero_csljson_library_imports():
    result = import_csljson(CSL)
    assert result.problems == [] and result.entries == 6
    jsonschema.validate(json.loads(CSL.read_text(encoding="utf-8")), CSL_SCHEMA)
    works = _facts(result.bundle.works)
    assert works["pedregosa2011scikit"][1] == ["Fabian Pedregosa", "Gaël Varoquaux", "Alexandre Gramfort",
                                              "Vincent Michel", "Bertrand Thirion"]  # {"family": "others"} dropped
    assert works["pedregosa2011scikit"][2] == 2011  # date-parts as strings
    assert works["rombach2022high"][3] == {"cite": "rombach2022high", "arxiv": "2112.10752",
                                           "doi": "10.1109/cvpr52688.2022.01042",
                                           "url": "https://ieeexplore.ieee.org/document/9878449/"}
    lora = works["http://zotero.org/users/local/kQ3zPx9L/items/8TNGQ2WX"]  # Zotero's item URI is the key
    assert lora[3]["arxiv"] == "2106.09685" and lora[2] == 2021
    assert works["lops2011content"][1] == ["Pasquale Lops", "Marco de Gemmis", "Giovanni Semeraro"]
    assert works["openai2023gpt4"][1:3] == (["OpenAI"], 2023)  # a literal name; a raw date
    assert works["openai2023gpt4"][3]["arxiv"] == "2303.08774"  # archive arXiv + archive_location
    album = works["nguyen2025album"]
    assert album[0] == "Đà Lạt Photo Albums: Personalizing Captions with Your Words"  # rich-text tags dropped
    assert album[1] == ["Thảo Nguyễn", "Jörg Müller", "John Smith Jr."]
    by_key = {w.ids["cite"]: w for w in result.bundle.works}
    assert by_key["nguyen2025album"].date == "2025-10-27"
    assert by_key["http://zotero.org/users/local/kQ3zPx9L/items/8TNGQ2WX"].venue == "arXiv"
    assert by_key["lops2011content"].venue == "Recommender Systems Handbook"


def test_names():
    assert ris_name("Müller, Jörg") == "Jörg Müller"
    assert ris_name("Smith, John, Jr.") == "John Smith Jr."
    assert ris_name("World Health Organization") == "World Health Organization"
    assert ris_name("others") is None and ris_name("et al.") is None
    assert split_name("Jörg Müller") == ("Müller", "Jörg", "")
    assert split_name("Ana de la Cruz") == ("de la Cruz", "Ana", "")
    assert split_name("Yong Jae Lee") == ("Lee", "Yong Jae", "")
    assert split_name("John Smith Jr.") == ("Smith", "John", "Jr.")
    assert split_name("OpenAI") == ("OpenAI", "", "")


# ---------------------------------------------------------------- bad input
BROKEN_RIS = """Provider: A database
TI  - A title before any TY
AU  - Orphan, Author

TY  - JOUR
ID  - good1
TI  - Personalized Retrieval for Vision-Language Assistants
AU -Broken, Line
AU  - Kept, Author
PY  - 2024
ER  -

TY  - JOUR
ID  - notitle
AU  - Nobody, Here
PY  - 2021
ER  -

TY  - CPAPER
ID  - hostile
TI  - <b>Safe</b> Title<script>alert(1)</script>
UR  - javascript:alert(1)
DO  - not-a-doi
PY  - n.d.
ER  -

TY  - GEN
ID  - unclosed
TI  - A Reference Without Its End Line
UR  - https://arxiv.org/abs/2406.09400v2
TY  - JOUR
ID  - last
TI  - The Last Reference Runs Off the End of the File
AU  - Last, Author
"""


def test_broken_ris_lines_are_named_and_the_rest_imports(tmp_path):
    path = tmp_path / "broken.ris"
    path.write_text(BROKEN_RIS, encoding="utf-8")
    result = import_ris(path)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert set(works) == {"good1", "hostile", "unclosed", "last"}
    assert [a.name for a in works["good1"].authors] == ["Author Kept"]  # the broken AU line is skipped
    assert works["hostile"].title == "Safe Title" and works["hostile"].year is None
    assert "url" not in works["hostile"].ids and "doi" not in works["hostile"].ids
    assert works["unclosed"].ids["arxiv"] == "2406.09400"
    assert [str(p) for p in result.problems] == [
        "lines 2-3: tag line(s) outside a reference (no 'TY  - ' before them); skipped",
        "line 8 (good1): not a RIS line (a tag is two capitals, two spaces, '-', a space): 'AU -Broken, Line'; "
        "skipped",
        "line 13 (notitle): no title; not imported",
        "line 19 (hostile): doi 'not-a-doi' is not a DOI; left out",
        "line 19 (hostile): url 'javascript:alert(1)' is not a web address (http or https); left out",
        "line 19 (hostile): year 'n.d.' is not a year; left out",
        "line 27 (unclosed): not closed with 'ER  - ' before the next 'TY  - ' (line 31); imported as it stands",
        "line 31 (last): not closed with 'ER  - ' at the end of the file; imported as it stands",
    ]


BROKEN_JSON = """[
  {"id": "ok1", "type": "article-journal", "title": "Personalized Retrieval for Vision-Language Assistants",
   "author": [{"family": "Kept", "given": "Author"}, "not a name", {"family": "others"}],
   "issued": {"date-parts": [[2024, 13]]}},
  {"id": "broken", "type": "article", "title": "A missing comma" "author": []},
  {"id": "ok2", "type": "article", "title": "The Item After the Broken One", "issued": {"raw": "2023"}}
]
"""


def test_invalid_json_names_the_broken_item_and_keeps_the_rest(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text(BROKEN_JSON, encoding="utf-8")
    result = import_csljson(path)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert set(works) == {"ok1", "ok2"}
    assert [a.name for a in works["ok1"].authors] == ["Author Kept"]
    assert works["ok1"].year == 2024 and works["ok1"].date is None  # month 13 is no month
    assert works["ok2"].year == 2023
    assert [str(p) for p in result.problems] == [
        "item 1, line 2 (ok1): author 2 is not a name object ({family, given} or {literal}); left out",
        "line 5 (broken): not valid JSON (Expecting ',' delimiter at line 5, column 66); this part is skipped"]


def test_csljson_items_that_cannot_be_imported(tmp_path):
    path = tmp_path / "items.json"
    path.write_text(json.dumps([
        {"id": "fine", "type": "article", "title": "Fine", "issued": {"date-parts": [["twenty"]]}},
        "just text",
        {"id": "untitled", "type": "book", "author": [{"literal": "Somebody"}]},
        {"id": 7, "type": "article", "title": ["A title given as a list"], "URL": "file:///etc/passwd",
         "DOI": "https://doi.org/10.1234/ABC"},
        {"id": "fine", "type": "article", "title": "Fine", "abstract": "The duplicate fills the gap."},
    ]), encoding="utf-8")
    result = import_csljson(path)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert set(works) == {"fine", "7"}
    assert works["fine"].abstract == "The duplicate fills the gap."
    assert works["7"].title == "A title given as a list" and works["7"].ids["doi"] == "10.1234/abc"
    assert [str(p) for p in result.problems] == [
        "item 1 (fine): year 'twenty' is not a year; left out",
        "item 2: not a JSON object but a text; skipped",
        "item 3 (untitled): no title; not imported",
        "item 4 (7): url 'file:///etc/passwd' is not a web address (http or https); left out",
        "item 5 (fine): duplicate key (first at item 1); merged into it",
    ]


def test_files_that_are_not_utf8(tmp_path):
    ris = ("TY  - JOUR\nID  - cafe\nTI  - Caf\xe9 cr\xe8me and na\xefve personalization\n"
           "AU  - M\xfcller, J\xf6rg\nER  - \n")
    latin = tmp_path / "endnote.ris"
    latin.write_bytes(ris.encode("cp1252"))
    result = import_ris(latin)
    (work,) = result.bundle.works
    assert work.title == "Café crème and naïve personalization" and work.authors[0].name == "Jörg Müller"
    assert [str(p) for p in result.problems] == ["line 3: the file is not UTF-8; read as Windows-1252"]
    utf16 = tmp_path / "utf16.ris"
    utf16.write_bytes(ris.replace("\n", "\r\n").encode("utf-16"))
    assert import_ris(utf16).bundle.works[0].title == "Café crème and naïve personalization"
    latin_json = tmp_path / "latin.json"
    latin_json.write_bytes('[{"id": "l", "type": "article", "title": "Caf\xe9"}]'.encode("latin-1"))
    assert import_csljson(latin_json).bundle.works[0].title == "Café"


def test_cli_bad_files(tmp_path, kg):
    store = tmp_path / "store"
    junk = tmp_path / "junk.json"
    junk.write_text("this is not JSON at all", encoding="utf-8")
    result = kg("import", "csljson", str(junk), store=store)
    assert result.exit_code == 1
    assert "no references could be imported" in result.message and "line 1: not valid JSON" in result.message
    empty = tmp_path / "empty.ris"
    empty.write_text("TY  - JOUR\nAU  - Nobody, Here\nER  - \n", encoding="utf-8")
    result = kg("import", "ris", str(empty), store=store)
    assert result.exit_code == 1 and "line 1: no title; not imported" in result.message
    assert not (store / "records").exists() or not list((store / "records").glob("*.jsonl"))
    missing = kg("import", "ris", str(tmp_path / "nope.ris"), store=store)
    assert missing.exit_code != 0


# ---------------------------------------------------------------- round trips through the graph
def _ris_records(text: str) -> list[list[str]]:
    """The references of an exported RIS file, checked line by line the way Zotero reads them."""
    records, current = [], None
    for line in text.split("\r\n"):
        if not line:
            assert current is None, "a blank line inside a reference"
            continue
        assert RIS_LINE.match(line + " " if line.startswith("ER  -") else line), line
        if line.startswith("TY  - "):
            assert current is None, "TY inside an open reference"
            current = [line]
        else:
            assert current is not None, f"{line!r} outside a reference"
            current.append(line)
            if line.startswith("ER  -"):
                records.append(current)
                current = None
    assert current is None
    return records


def test_ris_round_trip(store_copy, kg, tmp_path):
    first = kg("import", "ris", str(RIS), store=store_copy)
    assert first.exit_code == 0, first.output + first.message
    assert "imported 6 paper(s)" in first.output and "6 new to the graph" in first.output
    graph = LocalGraph(store_copy)
    papers = _count(graph)
    out = tmp_path / "library.ris"
    summary = export(graph, "ris", out)
    assert "ris" in summary and "works" in summary
    raw = out.read_bytes()
    assert raw.startswith(b"TY  - ") and b"\r\n" in raw and not raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8")
    records = _ris_records(text)
    assert all(r[0].startswith("TY  - ") and r[-1].startswith("ER  -") for r in records)
    assert len(records) == len(rispy.loads(text.replace("\r\n", "\n")))  # rispy reads the same references
    again = import_ris(out)
    assert again.problems == []
    original, back = _facts(import_ris(RIS).bundle.works), _facts(again.bundle.works)
    for key, facts in original.items():
        assert back[key] == facts, key
    by_key = {w.ids.get("cite") or w.title: w for w in again.bundle.works}
    assert by_key["schmidhuber2015deep"].venue == "Neural Networks"
    assert by_key["bubeck2023sparks"].venue == "arXiv" and by_key["bubeck2023sparks"].date == "2023-03-22"
    sparks = next(r for r in records if "ID  - bubeck2023sparks" in r)
    assert sparks[0] == "TY  - GEN" and "AU  - Bubeck, Sébastien" in sparks and "PB  - arXiv" in sparks
    assert "DA  - 2023/03/22/" in sparks and "PY  - 2023" in sparks
    cruz = next(r for r in records if "ID  - cruz2022personalized" in r)
    assert cruz[0] == "TY  - CPAPER" and "AU  - de la Cruz, Ana" in cruz and "AU  - Smith, John, Jr." in cruz
    assert next(r for r in records if "ID  - schmidhuber2015deep" in r)[0] == "TY  - JOUR"
    assert next(r for r in records if "ID  - ricci2015recommender" in r)[0] == "TY  - CHAP"
    # importing the export again adds nothing: every reference is a work the graph has
    reimport = kg("import", "ris", str(out), store=store_copy)
    assert reimport.exit_code == 0, reimport.output + reimport.message
    assert "0 new to the graph" in reimport.output
    assert _count(LocalGraph(store_copy)) == papers


def test_csljson_round_trip(store_copy, kg, tmp_path):
    first = kg("import", "csljson", str(CSL), store=store_copy)
    assert first.exit_code == 0, first.output + first.message
    graph = LocalGraph(store_copy)
    papers = _count(graph)
    out = tmp_path / "library.json"
    export(graph, "csljson", out)
    items = json.loads(out.read_text(encoding="utf-8"))
    jsonschema.validate(items, CSL_SCHEMA)
    assert len({item["id"] for item in items}) == len(items)  # ids are unique
    again = import_csljson(out)
    assert again.problems == []
    original, back = _facts(import_csljson(CSL).bundle.works), _facts(again.bundle.works)
    for key, facts in original.items():
        assert back[key] == facts, key
    by_id = {item["id"]: item for item in items}
    assert by_id["lops2011content"]["type"] == "chapter"
    assert by_id["lops2011content"]["author"][1] == {"family": "de Gemmis", "given": "Marco"}
    assert by_id["openai2023gpt4"]["author"] == [{"literal": "OpenAI"}]
    assert by_id["openai2023gpt4"]["type"] == "article" and by_id["openai2023gpt4"]["number"] == "arXiv:2303.08774"
    assert by_id["nguyen2025album"]["issued"] == {"date-parts": [[2025, 10, 27]]}
    assert by_id["nguyen2025album"]["author"][2] == {"family": "Smith", "given": "John", "suffix": "Jr."}
    assert by_id["rombach2022high"]["type"] == "paper-conference" and by_id["rombach2022high"]["note"] == \
        "arXiv: 2112.10752"
    assert by_id["pedregosa2011scikit"]["type"] == "article-journal"
    assert by_id["Nguyen et al. (2024)"]["title"] == "Yo'LLaVA: Your Personalized Language and Vision Assistant"
    reimport = kg("import", "csljson", str(out), store=store_copy)
    assert reimport.exit_code == 0, reimport.output + reimport.message
    assert "0 new to the graph" in reimport.output
    assert _count(LocalGraph(store_copy)) == papers


def test_export_leaves_out_untitled_citations_and_knows_the_formats(graph, tmp_path):
    summary = export(graph, "csljson", tmp_path / "bundled.json")
    assert re.search(r"\d+ works; 8 without a title \(unresolved citations\) left out", summary)
    assert {"ris", "csljson"} <= set(ALL_FORMATS)
    with pytest.raises(Exception, match="csljson"):
        export(graph, "endnote", tmp_path / "x.enw")


def test_cli_export(kg, built_store, tmp_path):
    out = tmp_path / "bundled.ris"
    result = kg("export", "--format", "ris", "--output", str(out), store=built_store)
    assert result.exit_code == 0, result.output + result.message
    assert "wrote" in result.output and out.read_bytes().startswith(b"TY  - ")
