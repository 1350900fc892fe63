"""Importing an awesome-list README: the bundled list (with its mojibake) gives every paper and dataset
with arXiv id, venue, year and modalities; bullet lists; broken rows; hostile HTML; the CLI; two real
lists maintained by others (their arXiv papers with the titles the Markdown gives them); and layouts no
list here uses (numbered lists, <details>, HTML tables, italic titles, venue tags, proceedings links)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from kg.records import ids
from kg.records.corpus import load_file
from kg.harvest.publish import known_works
from kg.importers.awesome import import_awesome, parse_awesome
from kg.importers.text import plain_text, repair_mojibake
from kg.paths import corpus_dir
from kg.records import Source, to_dict
from kg.store import LocalGraph
from kg.rdf.taxonomy import read_taxonomy
from kg.records.titles import is_generic_title

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


# ---------------------------------------------------------------- real lists maintained by others

LISTS = FIXTURES / "awesome_lists"  # copied unedited; see its README.md
JIAHONG = LISTS / "JiahongLiu21-Awesome-Personalized-Large-Language-Models.md"
HQWU = LISTS / "HqWu-HITCS-Awesome-Personalized-LLM.md"
_ARXIV = re.compile(r"arxiv\.org/(?:abs|pdf|html)/(\d{4}\.\d{4,5})", re.I)
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}")


def written_entries(text: str) -> list[tuple[int, set[str], set[str]]]:
    """(line, arXiv ids, titles) of every table row and list item with an arXiv link, the titles as the
    Markdown writes them (read here with plain regexes, not with the importer): the cell under a header
    naming a title, without link syntax, bold and '(former title) <br>'; or a list item's bold / link text."""
    lines = text.splitlines()
    header, out = None, []
    for n, line in enumerate(lines):
        found = set(_ARXIV.findall(line))
        if line.strip().startswith("|"):
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if n + 1 < len(lines) and _SEPARATOR.match(lines[n + 1]):
                header = [c.lower() for c in cells]
                continue
            column = next((i for i, h in enumerate(header or []) if "title" in h), None)
            if not found or column is None or column >= len(cells):
                continue  # not a paper table (datasets, layout)
            cell = cells[column]
            linked = re.match(r"\[(.+?)\]\(", cell)
            cell = linked.group(1) if linked else cell
            titles = [re.sub(r"^\((.*)\)$", r"\1", part.replace("**", "").strip())
                      for part in re.split(r"<br\s*/?>", cell)]
        elif re.match(r"\s*(?:[-*+]|\d+[.)])\s", line) and found:
            m = re.search(r"\*\*(.+?)\*\*", line) or re.search(r"\[(.+?)\]\(", line)
            titles = [m.group(1)] if m else []
        else:
            continue
        out.append((n + 1, found, {ids.normalise_title(t) for t in titles if t}))
    return out


def list_figures(path: Path) -> tuple[int, int, int]:
    """(entries with an arXiv link, imported with that id, imported with their real title)."""
    result = import_awesome(path)
    entries = written_entries(path.read_text(encoding="utf-8"))
    by_id: dict[str, list] = {}
    for work in result.bundle.works:
        if work.ids.get("arxiv"):
            by_id.setdefault(work.ids["arxiv"], []).append(work)
    imported = [e for e in entries if any(a in by_id for a in e[1])]
    titled = [e for e in imported
              if any(ids.normalise_title(w.title) in e[2] for a in e[1] for w in by_id.get(a, []))]
    return len(entries), len(imported), len(titled)


@pytest.mark.parametrize("path, figures", [
    (JIAHONG, (122, 122, 121)),  # 110 distinct ids; PerSEval's row links the arXiv id of the row above it
    (HQWU, (32, 32, 32)),
    (SEED, (12, 12, 12)),
], ids=["JiahongLiu21", "HqWu-HITCS", "seed"])
def test_real_lists_give_every_arxiv_paper_its_real_title(path, figures):
    """The figures in the README's import paragraph: at least 95 % of the arXiv-linked entries with the
    title the Markdown gives them; one record per arXiv id."""
    entries, imported, titled = list_figures(path)
    assert (entries, imported, titled) == figures
    assert imported == entries and titled >= 0.95 * entries
    works = import_awesome(path).bundle.works
    arxiv = [w.ids["arxiv"] for w in works if w.ids.get("arxiv")]
    assert len(arxiv) == len(set(arxiv))  # one record per arXiv id, so no record holds two
    assert {a for e in written_entries(path.read_text(encoding="utf-8")) for a in e[1]} <= set(arxiv)
    for work in works:
        assert work.title and not is_generic_title(work.title), work
        assert not re.search(r"\[|\]\(|\*\*|<|https?://", work.title), work.title


def test_the_jiahong_list_reads_its_columns_badges_and_sections():
    result = import_awesome(JIAHONG)
    works = {w.ids.get("arxiv") or w.title: w for w in result.bundle.works}
    cue = works["2305.11792"]
    assert cue.title == "Cue-cot:Chain-of-thought prompting for responding to in-depth dialogue questions with llms"
    assert (cue.short_name, cue.venue, cue.year) == ("Cue-CoT", "EMNLP Findings", 2023)
    assert cue.code == "https://github.com/ruleGreen/Cue-CoT"  # a GitHub stars badge
    assert cue.ids["url"] == "https://arxiv.org/abs/2305.11792"  # a 'Paper' badge
    assert cue.list_section == "Personalized Prompting / Profile-Augmented Prompting (PAG)"
    cos = works["2405.01768"]  # '(CoS: ...) <br> Context Steering: ...', '(arXiv'24) <br> ICLR'25'
    assert cos.title == "Context Steering: Controllable Personalization at Inference Time"
    assert (cos.venue, cos.year) == ("ICLR", 2024)
    assert works["2305.06566"].title.startswith("ONCE:")  # its badge's address is '[old](new)': the new one
    survey = works["2502.11528"]  # a bullet whose link is a bare address
    assert survey.title == "A Survey of Personalized Large Language Models: Progress and Future Directions"
    amulet = works["2502.19148"]
    assert amulet.page == "https://zowiezhang.github.io/projects/Amulet/" and amulet.code  # 'Home' badge
    bench = works["2407.11016"]  # under 'Benchmark', a table with a paper title column: papers
    assert bench.short_name == "LongLaMP" and bench.list_section == "Benchmark"
    assert not result.bundle.datasets
    neurips = works["UniCTokens: Boosting Personalized Understanding and Generation via Unified Concept Tokens"]
    assert neurips.ids["url"] == "https://neurips.cc/virtual/2025/loc/san-diego/poster/116748"
    assert not any("Workshop on" in w.title for w in result.bundle.works)  # the events table
    notes = [str(p) for p in result.problems]
    assert any("link written inside a link's address" in n for n in notes)
    assert any(n.startswith("line 243") and "the same paper (arxiv:2407.00453)" in n for n in notes)
    assert any(n.startswith("line 251") and "listed again (first at line 82)" in n for n in notes)
    assert any(n.startswith("line 296") and "link no paper" in n and "skipped" in n for n in notes)
    assert any(n.startswith("line 90") and "extra cells ignored" in n for n in notes)


def test_the_hqwu_list_reads_dates_demo_columns_and_dataset_bullets():
    result = import_awesome(HQWU)
    works = {w.ids.get("arxiv") or w.title: w for w in result.bundle.works}
    role = works["2403.13679"]
    assert (role.title, role.venue, role.year, role.date) == (
        "RoleInteract: Evaluating the Social Interaction of Role-Playing Agents", "arXiv", 2024, "2024-03-21")
    assert role.code == "https://github.com/X-PLUG/RoleInteract"
    assert works["2310.10158"].ids["url"] == "https://arxiv.org/pdf/2310.10158v1.pdf"
    assert works["2308.09597"].page == "https://huggingface.co/spaces/chengli-thu/ChatHaruhi-OpenAI"  # Demo column
    assert works["2311.05297"].venue == "NeurIPS Workshop"
    assert works["2303.01248"].list_section == \
        "Evaluation Personality of LLM / Myers–Briggs Type Indicator (MBTI) Evaluation"
    acl = works["The Turing Quest: Can Transformers Make Good NPCs?"]
    assert acl.ids["url"] == "https://aclanthology.org/2023.acl-srw.17.pdf" and "arxiv" not in acl.ids
    assert len(result.bundle.datasets) == 7  # the 'Awesome Datasets' bullets
    notes = [str(p) for p in result.problems]
    assert sum("not a paper link" in n for n in notes) == 3  # 'Related Repositories'


def test_real_lists_in_the_graph_keep_arxiv_works_apart(store_copy, kg):
    for path in (JIAHONG, HQWU):
        done = kg("import", "awesome", str(path), store=store_copy)
        assert done.exit_code == 0, done.output + done.message
    graph = LocalGraph(store_copy)
    shared = graph.query("SELECT ?w WHERE { ?w kg:arxivId ?a, ?b . FILTER(?a != ?b) }", trusted=True).records()
    assert shared == []
    titles = graph.query('SELECT ?t WHERE { ?w kg:arxivId "2305.11792" ; dcterms:title ?t }', trusted=True).records()
    assert [r["t"] for r in titles] == [
        "Cue-cot:Chain-of-thought prompting for responding to in-depth dialogue questions with llms"]


# ---------------------------------------------------------------- layouts no list above uses

def _parse(text: str):
    result = parse_awesome(text, Source("t", "t", "t"), read_taxonomy())
    return {w.title: w for w in result.bundle.works}, [str(p) for p in result.problems], result


def test_a_table_with_dates_paper_titles_and_badges():
    works, notes, _ = _parse("""## Agents
| Date | Paper Title | Venue | Publication | Resources |
|:---:|---|---|---|---|
| 2026.03 | Memory for Personal Agents at Scale | arXiv | Arxiv'26 | [![Paper](https://img.shields.io/badge/Paper-red)](https://arxiv.org/abs/2603.01234v2) [![GitHub](https://img.shields.io/github/stars/a/b)](https://github.com/a/b) |
| 2024-11 | [PDF](https://arxiv.org/pdf/2411.00002v1.pdf) **A Bold Title Beside a PDF Link** | NeurIPS 2024 | | [Project](https://x.github.io/p) |
| 2024-03-21 | [Paper](https://openreview.net/forum?id=abc123) | ICLR | 2024 | |
| 2023 | [![arXiv](https://img.shields.io/badge/arXiv-2301.00001-b31b1b.svg)](https://arxiv.org/abs/2301.00001) | | | |
""")
    assert set(works) == {"Memory for Personal Agents at Scale", "A Bold Title Beside a PDF Link"}
    first = works["Memory for Personal Agents at Scale"]
    assert (first.ids["arxiv"], first.year, first.date, first.venue) == ("2603.01234", 2026, "2026-03", "arXiv")
    assert first.code == "https://github.com/a/b" and first.list_section == "Agents"
    second = works["A Bold Title Beside a PDF Link"]
    assert (second.ids["arxiv"], second.year, second.date, second.venue) == ("2411.00002", 2024, "2024-11", "NeurIPS")
    assert second.page == "https://x.github.io/p"
    assert any(n.startswith("line 6 (Paper)") and "no title" in n and "skipped" in n for n in notes)
    assert any(n.startswith("line 7") and "no title" in n and "skipped" in n for n in notes)


def test_title_column_names_and_short_names():
    works, _, _ = _parse("""## Models
| Model | Paper | Code |
|---|---|---|
| *MyM* | [A Paper Column Title](https://arxiv.org/abs/2401.00001) | [code](https://github.com/a/b) |

| Method | Title | Paper | Year |
|---|---|---|---|
| **XYZ** | The Title Column Wins Over Paper | [PDF](https://arxiv.org/pdf/2401.00002) | 2024 |

| Name | Published At | Link |
|---|---|---|
| A Name Column Holding The Title | ACL'24 | [![Paper](https://img.shields.io/badge/Paper-blue)](https://aclanthology.org/2024.acl-long.1/) |

| Keyword | Paper Name | Conference | Links |
|---|---|---|---|
| Steering | Steering Vectors For Users | CVPR 2025 | [arXiv](https://arxiv.org/abs/2401.00003) |
""")
    assert works["A Paper Column Title"].short_name == "MyM"
    title = works["The Title Column Wins Over Paper"]
    assert (title.short_name, title.ids["arxiv"], title.year) == ("XYZ", "2401.00002", 2024)
    named = works["A Name Column Holding The Title"]
    assert (named.venue, named.year, named.ids["url"]) == ("ACL", 2024, "https://aclanthology.org/2024.acl-long.1/")
    steering = works["Steering Vectors For Users"]
    assert (steering.venue, steering.year, steering.short_name) == ("CVPR", 2025, None)


def test_bullets_with_venue_tags_and_titles_around_generic_links():
    works, notes, _ = _parse("""## Agents
+ **[2026 Arxiv-2602]** Toward Personalized LLM-Powered Agents. ([Paper](https://arxiv.org/pdf/2602.22680v1))
* *An Italic Title About Personal Memory*, EMNLP'23 Findings, [paper](https://aclanthology.org/2023.findings-emnlp.1/)
- [arXiv](https://arxiv.org/abs/2310.10158) Character Models Learn Roles From Data - NeurIPS 2024 [[code](https://github.com/c/d)]
- Arxiv24 | [Personalized Retrieval With Profiles](https://arxiv.org/abs/2402.00004) | [Code](https://github.com/e/f)
- [Paper](https://arxiv.org/abs/2401.00013)
- [![arXiv](https://img.shields.io/badge/arXiv-2401.00014-b31b1b.svg)](https://arxiv.org/abs/2401.00014)
""")
    agents = works["Toward Personalized LLM-Powered Agents"]
    assert (agents.ids["arxiv"], agents.venue, agents.year) == ("2602.22680", "arXiv", 2026)
    italic = works["An Italic Title About Personal Memory"]
    assert (italic.venue, italic.year) == ("EMNLP Findings", 2023)
    assert italic.ids["url"] == "https://aclanthology.org/2023.findings-emnlp.1/"
    roles = works["Character Models Learn Roles From Data"]
    assert (roles.ids["arxiv"], roles.venue, roles.year, roles.code) == ("2310.10158", "NeurIPS", 2024,
                                                                         "https://github.com/c/d")
    assert (works["Personalized Retrieval With Profiles"].venue, works["Personalized Retrieval With Profiles"].year) \
        == ("arXiv", 2024)
    assert len(works) == 4 and not any(is_generic_title(t) for t in works)
    assert any(n.startswith("line 6:") and "no title" in n and "skipped" in n for n in notes)
    assert any(n.startswith("line 7:") and "no title" in n and "skipped" in n for n in notes)


def test_numbered_lists_proceedings_dois_and_titles_with_authors():
    works, _, _ = _parse("""### Alignment
1. Numbered Entry About Preference Alignment [[PDF](https://proceedings.neurips.cc/paper_files/paper/2023/hash/abc-Abstract-Conference.html)] (NeurIPS 2023)
2) Another Numbered Entry With A DOI. Alice Smith, Bob Jones. KDD 2023. [doi](https://doi.org/10.1145/3580305.3599256)
3. [Third Entry From The ACM Library](https://dl.acm.org/doi/abs/10.1145/3626772.3657000), SIGIR 2024
4. _Fourth: An OpenReview Paper_ [[OpenReview](https://openreview.net/forum?id=xyz)] ICLR 2025
5. **A CVF Paper Title** [[Paper](https://openaccess.thecvf.com/content/CVPR2024/html/X_CVPR_2024_paper.html)]
""")
    neurips = works["Numbered Entry About Preference Alignment"]
    assert neurips.ids["url"].startswith("https://proceedings.neurips.cc/") and (neurips.venue, neurips.year) == \
        ("NeurIPS", 2023)
    doi = works["Another Numbered Entry With A DOI"]
    assert (doi.ids["doi"], doi.venue, doi.year) == ("10.1145/3580305.3599256", "KDD", 2023)
    assert works["Third Entry From The ACM Library"].ids["doi"] == "10.1145/3626772.3657000"
    assert works["Fourth: An OpenReview Paper"].ids["url"] == "https://openreview.net/forum?id=xyz"
    assert works["A CVF Paper Title"].ids["url"].startswith("https://openaccess.thecvf.com/")
    assert all(w.list_section == "Alignment" for w in works.values())


def test_details_blocks_html_tables_and_html_lists():
    works, _, _ = _parse("""## Models
<details>
<summary>Video models</summary>

- [Personalized Video Question Answering](https://arxiv.org/html/2401.00003v1)
</details>

<details><summary>Compact details</summary>
- [Compact Details Paper Title](https://arxiv.org/abs/2401.00004)
</details>

<table>
<tr><th>Model</th><th>Title</th><th>Links</th></tr>
<tr><td>MyM</td><td><b>An HTML Table Paper Title</b></td><td><a href="https://arxiv.org/abs/2401.00005">arXiv</a> <a href="https://github.com/g/h">Code</a></td></tr>
<tr><td>Two</td><td><i>Second HTML Paper</i> <br> Alice Smith, Bob Jones</td><td><a href="https://arxiv.org/pdf/2401.00006v3">
<img src="https://img.shields.io/badge/arXiv-2401.00006-b31b1b.svg"></a></td></tr>
</table>

<ul>
<li><a href="https://arxiv.org/abs/2401.00007">HTML List Paper Title Here</a>, CVPR 2024</li>
<li><b>Bold HTML Item Title</b> <a href="https://arxiv.org/abs/2401.00008">[PDF]</a></li>
<li><script>alert(1)</script><a href="javascript:alert(1)">Evil Item Title Here</a> 2024</li>
</ul>
""")
    video = works["Personalized Video Question Answering"]
    assert (video.ids["arxiv"], video.list_section) == ("2401.00003", "Models / Video models")
    assert works["Compact Details Paper Title"].list_section == "Models / Compact details"
    table = works["An HTML Table Paper Title"]
    assert (table.ids["arxiv"], table.short_name, table.code, table.list_section) == \
        ("2401.00005", "MyM", "https://github.com/g/h", "Models")
    assert works["Second HTML Paper"].ids["arxiv"] == "2401.00006"
    assert (works["HTML List Paper Title Here"].venue, works["HTML List Paper Title Here"].year) == ("CVPR", 2024)
    assert works["Bold HTML Item Title"].ids["arxiv"] == "2401.00008"
    evil = works["Evil Item Title Here"]
    assert "url" not in evil.ids and "alert" not in evil.title


def test_headings_paragraphs_and_grouping_items():
    works, _, _ = _parse("""## Papers
### A Heading That Is The Paper Title
[Paper](https://arxiv.org/abs/2401.00001) | [Code](https://github.com/e/f)

### Images
- **Portraits**
  - [Nested Portrait Paper Title](https://arxiv.org/abs/2401.00009)
- **Grouped Title With Links Below**
  - [Paper](https://arxiv.org/abs/2401.00010)
  - [Code](https://github.com/i/j)

**Paragraph Paper One** [[paper](https://arxiv.org/abs/2401.00011)]
**Paragraph Paper Two** [[paper](https://arxiv.org/abs/2401.00012)]

See [our repo](https://github.com/k/l) for more.
""")
    heading = works["A Heading That Is The Paper Title"]
    assert (heading.ids["arxiv"], heading.code, heading.list_section) == ("2401.00001", "https://github.com/e/f", None)
    assert works["Nested Portrait Paper Title"].list_section == "Images / Portraits"
    grouped = works["Grouped Title With Links Below"]
    assert (grouped.ids["arxiv"], grouped.code) == ("2401.00010", "https://github.com/i/j")
    assert works["Paragraph Paper One"].ids["arxiv"] == "2401.00011"
    assert works["Paragraph Paper Two"].ids["arxiv"] == "2401.00012"
    assert len(works) == 5


def test_one_record_per_arxiv_id_and_one_arxiv_id_per_record():
    works, notes, result = _parse("""## Papers
| Title | Links |
|---|---|
| [The First Listing Of A Paper](https://arxiv.org/abs/2401.00001v1) | [code](https://github.com/a/b) |
| [Another Paper With Two Ids](https://arxiv.org/abs/2401.00002) | [v2](https://arxiv.org/abs/2401.00003) |

- [The First Listing Of A Paper](https://arxiv.org/pdf/2401.00001v2.pdf) - ICML 2024
- [A Different Title For It](https://arxiv.org/abs/2401.00001/)
""")
    assert len(result.bundle.works) == 2
    first = works["The First Listing Of A Paper"]
    assert (first.ids["arxiv"], first.code, first.year) == ("2401.00001", "https://github.com/a/b", 2024)
    assert works["Another Paper With Two Ids"].ids["arxiv"] == "2401.00002"
    assert any(n.startswith("line 5") and "second arXiv id 2401.00003" in n for n in notes)
    assert any(n.startswith("line 7") and "listed again (first at line 4)" in n for n in notes)
    assert any(n.startswith("line 8") and "as line 4, listed there as 'The First Listing Of A Paper'" in n
               for n in notes)


def test_venue_tags_dates_and_authors():
    from kg.importers.list_fields import is_tag, looks_like_authors, venue_year, year_date

    assert venue_year("[2026 Arxiv-2602]") == ("arXiv", 2026)
    assert venue_year("EMNLP'23 Findings") == ("EMNLP Findings", 2023)
    assert venue_year("NeurIPS 2024") == ("NeurIPS", 2024)
    assert venue_year("Arxiv24") == ("arXiv", 2024)
    assert venue_year("(Arxiv'24) ICTIR'25") == ("ICTIR", 2024)
    assert venue_year("NeurIPS23-Workshop") == ("NeurIPS Workshop", 2023)
    assert year_date("2026.03") == (2026, "2026-03")
    assert year_date("2024-11") == (2024, "2024-11")
    assert year_date("2024-03-21") == (2024, "2024-03-21")
    assert all(is_tag(t) for t in ("[2026 Arxiv-2602]", "EMNLP'23 Findings", "NeurIPS 2024", "Arxiv24", "2024-03-21"))
    assert not any(is_tag(t) for t in ("CVPR", "GPT-4V in the Wild", "LaMP: When Large Language Models Meet"))
    assert looks_like_authors("Alice Smith, Bob Jones and C. Lee") and looks_like_authors("Smith et al.")
    assert not looks_like_authors("Large Language Models, Personalization")
