"""Importing an awesome-list README: the bundled list (with its mojibake) gives every paper and dataset
with arXiv id, venue, year and modalities; bullet lists; broken rows; hostile HTML; the CLI."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from kg.corpus import load_file
from kg.harvest.publish import known_works
from kg.importers.awesome import import_awesome, parse_awesome
from kg.importers.text import plain_text, repair_mojibake
from kg.paths import corpus_dir
from kg.records import Source, to_dict
from kg.store import LocalGraph
from kg.taxonomy import read_taxonomy

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SEED = FIXTURES / "awesome_personalized_lmms_mojibake.md"
MOJIBAKE = re.compile(r"‚Ä|üì|üå|Ô∏|â€|Ã.")


def _text(result) -> str:
    return repr([to_dict(x) for x in result.bundle.works + result.bundle.datasets + result.bundle.sources])


def test_mojibake_repair_leaves_correct_text_alone():
    assert repair_mojibake("\uf8ffüìù Papers ‚Äì ‚ÄúFluffy‚Äù") == "📝 Papers – “Fluffy”"
    assert repair_mojibake("Aurora RamÃ­rez") == "Aurora Ramírez"  # Windows-1252 / Latin-1 too
    for fine in ("café naïve", "📝 🤗", "数据集", "Yo’LLaVA", "plain ascii"):
        assert repair_mojibake(fine) == fine


def test_plain_text_drops_markup_and_script():
    assert plain_text('<script>alert("x")</script>Safe <b>bold</b> &amp; <img src=x onerror=alert(1)>done') == \
        "Safe bold & done"
    assert plain_text("&lt;script&gt;evil()&lt;/script&gt;Title") == "Title"
    assert plain_text("a < b and c > d") == "a < b and c > d"


def test_the_bundled_awesome_list_imports_every_paper_and_dataset(tmp_path):
    every, _ = known_works(tmp_path / "store")  # what the bundled corpus knows (no record files yet)
    result = import_awesome(SEED, has_ref=every.has_ref)
    expected = yaml.safe_load((corpus_dir() / "awesome.yaml").read_text(encoding="utf-8"))
    got = {w.title: w for w in result.bundle.works}
    assert len(got) == len(expected["papers"]) == 15
    for paper in expected["papers"]:
        work = got[paper["title"]]
        assert work.ids.get("arxiv") == paper.get("arxiv"), paper["title"]
        assert work.ids.get("url") == paper["url"]
        assert (work.venue, work.year) == (paper["venue"], paper["year"])
        assert work.code == paper.get("code") and work.page == paper.get("page")
        assert [lab.value for lab in work.labels if lab.axis == "input_modality"] == paper.get("input", [])
        assert [lab.value for lab in work.labels if lab.axis == "output_modality"] == paper.get("output", [])
        assert work.list_section == " / ".join(x for x in (paper.get("section"), paper.get("group")) if x)
    datasets = {d.name: d for d in result.bundle.datasets}
    assert len(datasets) == len(expected["datasets"]) == 5
    for entry in expected["datasets"]:
        ds = datasets[entry["name"]]
        assert (ds.year, ds.concepts, ds.url, ds.notes) == \
            (entry["year"], entry["concepts"], entry["url"], entry.get("notes"))
        assert ds.introduced_by == [entry["introduced_by"]], entry["name"]
    assert result.repaired >= 20
    assert not MOJIBAKE.search(_text(result))
    assert result.bundle.sources[0].title == "Awesome Personalized Large Multimodal Models"
    notes = [str(p) for p in result.problems]
    assert any("line 41" in n and "template row" in n for n in notes)  # the '[paper title] | xx' example row
    assert any("line 79" in n and "Memory and new controls for ChatGPT" in n for n in notes)


def test_bullet_lists_headings_bad_rows_and_hostile_html():
    text = """# My <b>List</b>
## Papers
### Video
| Paper | Conf | Year | Input | Output | Code |
|---|---|---|---|---|---|
| [<script>alert(1)</script>Personalized <i>Video</i> Captioning](https://arxiv.org/abs/2401.00001v2) | CVPR | 2024 | video, text | text | [code](https://github.com/a/b) |
| [A Second Video Paper on Users](https://doi.org/10.1145/ABC.123) | KDD | twenty | user history | hologram | |
| [Too Many Cells In This Row](https://arxiv.org/abs/2402.00002) | ICML | 2023 | text | text | | surprise |
| Not linked but a real title | AAAI | 2022 | image | image | |

## More
- [Bullet Paper About Personalized Retrieval](https://arxiv.org/abs/2403.00003) - SIGIR 2024 [[Code](https://github.com/c/d)]
- [A blog post](https://example.com/post)
- [Contents](#papers)
"""
    result = parse_awesome(text, Source("t", "t", "t"), read_taxonomy())
    works = {w.title: w for w in result.bundle.works}
    assert set(works) == {"Personalized Video Captioning", "A Second Video Paper on Users",
                          "Too Many Cells In This Row", "Not linked but a real title",
                          "Bullet Paper About Personalized Retrieval"}
    first = works["Personalized Video Captioning"]
    assert first.ids["arxiv"] == "2401.00001" and first.code == "https://github.com/a/b"
    assert [lab.value for lab in first.labels] == ["video", "text", "text"]
    assert first.list_section == "Video"
    second = works["A Second Video Paper on Users"]
    assert second.ids["doi"] == "10.1145/abc.123" and second.year is None
    assert [(lab.axis, lab.value) for lab in second.labels] == [("input_modality", "user_behavior")]
    bullet = works["Bullet Paper About Personalized Retrieval"]
    assert (bullet.venue, bullet.year, bullet.code) == ("SIGIR", 2024, "https://github.com/c/d")
    notes = [str(p) for p in result.problems]
    assert any(n.startswith("line 7 ") and "'twenty' is not a year" in n for n in notes)
    assert any(n.startswith("line 7 ") and "'hologram' is not in the taxonomy" in n for n in notes)
    assert any(n.startswith("line 8 ") and "extra cells ignored" in n for n in notes)
    assert any(n.startswith("line 13 ") and "not a paper link" in n for n in notes)
    assert "<" not in _text(result) and "script" not in _text(result)


def test_cli_import_merges_into_the_bundled_nodes_and_reimport_does_not_duplicate(store_copy, kg):
    first = kg("import", "awesome", str(SEED), store=store_copy)
    assert first.exit_code == 0, first.output + first.message
    assert "imported 15 paper(s) and 5 dataset(s)" in first.output
    assert "0 new to the graph, 15 already known" in first.output
    again = kg("import", "awesome", str(SEED), "--json", store=store_copy)
    assert again.exit_code == 0
    graph = LocalGraph(store_copy)
    n = graph.query("SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }", trusted=True).records()[0]["n"]
    d = graph.query("SELECT (COUNT(?d) AS ?n) WHERE { ?d a dcat:Dataset }", trusted=True).records()[0]["n"]
    assert (n, d) == (49, 5)
    titles = graph.query('SELECT ?t WHERE { ?w kg:arxivId "2406.09400" ; dcterms:title ?t }', trusted=True).records()
    assert len(titles) == 1
    labels = graph.query('SELECT (COUNT(?a) AS ?n) WHERE { ?w kg:arxivId "2406.09400" ; kg:hasLabel ?a . '
                         '?a prov:wasDerivedFrom ?s . FILTER(CONTAINS(STR(?s), "awesome-awesome")) }',
                         trusted=True).records()
    assert labels[0]["n"] == 3  # image+text in, text out, from the imported list


def test_cli_bad_input(tmp_path, kg):
    empty = tmp_path / "empty.md"
    empty.write_text("# Nothing here\n\nJust prose.\n", encoding="utf-8")
    result = kg("import", "awesome", str(empty), store=tmp_path / "store")
    assert result.exit_code == 1 and "found no papers or datasets" in result.message
    missing = kg("import", "awesome", str(tmp_path / "nope.md"), store=tmp_path / "store")
    assert missing.exit_code == 2 and "no such file" in missing.message


def test_yaml_corpus_and_import_agree_on_modalities():
    """The taxonomy, not code, decides modality names: 'user behaviour' and 'images' resolve."""
    from kg.importers.awesome import ModalityMatcher

    matcher = ModalityMatcher(read_taxonomy())
    assert matcher.match("Images, user behaviour / 3D") == (["image", "user_behavior", "3d"], [])
    assert load_file(corpus_dir() / "awesome.yaml", read_taxonomy().vocabulary()).works


def test_stray_separator_rows_are_no_papers():
    text = """## Papers
| Title | Venue | Year |
|---|---|---|
| [Real Paper One](https://arxiv.org/abs/2401.00001) | CVPR | 2024 |
|---|---|---|
| --- | --- | --- |
| [Real Paper Two](https://arxiv.org/abs/2401.00002) | ICML | 2023 |

|---|---|
"""
    result = parse_awesome(text, Source("t", "t", "t"), read_taxonomy())
    assert [w.title for w in result.bundle.works] == ["Real Paper One", "Real Paper Two"]
    assert not any(set(w.title) <= set("-|: ") for w in result.bundle.works)


def test_a_table_without_a_header_row_is_imported_or_named():
    text = """## Papers
| [Headerless Paper One](https://arxiv.org/abs/2401.00001) | NeurIPS 2023 | [code](https://github.com/x/y) |
| 2 | Headerless Paper Two | ICML 2022 | [PDF](https://arxiv.org/pdf/2401.00002.pdf) |

## Notes
| just | some |
| plain | text |
"""
    result = parse_awesome(text, Source("t", "t", "t"), read_taxonomy())
    works = {w.title: w for w in result.bundle.works}
    assert set(works) == {"Headerless Paper One", "Headerless Paper Two"}
    one, two = works["Headerless Paper One"], works["Headerless Paper Two"]
    assert (one.ids["arxiv"], one.venue, one.year) == ("2401.00001", "NeurIPS", 2023)
    assert one.code == "https://github.com/x/y"
    assert (two.ids["arxiv"], two.venue, two.year) == ("2401.00002", "ICML", 2022)
    notes = [str(p) for p in result.problems]
    assert any(n.startswith("line 2") and "without a header row" in n and "2 of its 2 row(s)" in n for n in notes)
    assert any(n.startswith("line 6") and "without a header row" in n and "skipped" in n for n in notes)


def test_only_web_links_are_stored():
    text = """## Papers
| Title | Venue | Year | Code |
|---|---|---|---|
| [Script Paper](javascript:alert(document.cookie)) | CVPR | 2024 | [code](JavaScript:alert(1)) |
| [Data Paper](data:text/html,<script>alert(1)</script>) | ICML | 2024 | [page](file:///etc/passwd) |
| [Web Paper](https://arxiv.org/abs/2401.00003) | KDD | 2024 | [code](https://github.com/a/b) |

## Datasets
| Name | Concepts | Link |
|---|---|---|
| EvilSet | 3 | [link](javascript:alert(1)) |

- [Bullet Set](data:application/zip;base64,AAAA) - a dataset
"""
    result = parse_awesome(text, Source("t", "t", "t"), read_taxonomy())
    works = {w.title: w for w in result.bundle.works}
    assert set(works) == {"Script Paper", "Data Paper", "Web Paper"}
    for title in ("Script Paper", "Data Paper"):
        work = works[title]
        assert "url" not in work.ids and work.code is None and work.page is None, title
    assert works["Web Paper"].ids["url"] == "https://arxiv.org/abs/2401.00003"
    assert works["Web Paper"].code == "https://github.com/a/b"
    datasets = {d.name: d for d in result.bundle.datasets}
    assert datasets["EvilSet"].url is None and datasets["Bullet Set"].url is None
    stored = _text(result).lower()
    assert "javascript:" not in stored and "data:" not in stored and "file:" not in stored
    notes = [str(p) for p in result.problems]
    assert sum("not a web address" in n for n in notes) == 6
