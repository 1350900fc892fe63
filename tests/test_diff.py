"""kg diff: successive versions of a list file (entries added, removed, renamed, reclassified)
give exactly those changes, in every format."""

from __future__ import annotations

import html
import json

import pytest

from diff_support import LIST, ROW, make_changed_store

@pytest.fixture
def changed_store(store_copy, tmp_path, kg):
    return make_changed_store(store_copy, tmp_path, kg)


def _ids(works):
    return {w["id"] for w in works}


def test_diff_reports_exactly_the_list_changes(changed_store, kg):
    result = kg("diff", "v1", "--format", "json", store=changed_store)
    assert result.exit_code == 0, result.output
    diff = json.loads(result.output)
    assert diff["from"]["ref"] == "v1" and diff["to"]["ref"] == "current"
    assert _ids(diff["works_added"]) == {"2501.10004"}
    added = diff["works_added"][0]
    assert added["title"] == "A Brand New Personalized Video Agent"
    assert added["cells"] == ["retrieval x alignment"]
    assert {x["concept"] for x in added["labels"]["inputModality"]} == {"video"}
    assert _ids(diff["works_removed"]) == {"2501.10002"}
    assert [(r["before"], r["after"]) for r in diff["works_renamed"]] == [
        ("Old Name of a Renamed Paper", "New Name of a Renamed Paper")]
    assert [(c["axis"], c["before"], c["after"]) for c in diff["label_changes"]] == [
        ("inputModality", [{"concept": "image", "kind": "asserted"}], [{"concept": "video", "kind": "asserted"}])]
    assert diff["label_changes"][0]["label"].startswith("Lasting Personal Memory")
    cells = {(c["category"], c["mechanism"]): c for c in diff["cells"]}
    assert set(cells) == {("retrieval", "alignment")}
    cell = cells[("retrieval", "alignment")]
    assert cell["change"] == 1 and [w["label"] for w in cell["works_added"]] == [added["label"]]
    assert cell["before"]["count"] + 1 == cell["after"]["count"]
    assert diff["scope_changes"] == [] or all(c["work"] == added["work"] for c in diff["scope_changes"])
    assert diff["citations_added"] == diff["citations_removed"] == []
    assert not diff["nothing_new"] and diff["summary"]["works_added"] == 1


def test_every_format_says_the_same_changes(changed_store, kg, tmp_path):
    table = kg("diff", "v1", store=changed_store)
    assert table.exit_code == 0
    markdown = kg("diff", "v1", "current", "--format", "md", store=changed_store).output
    out = tmp_path / "diff.html"
    assert kg("diff", "v1", "--format", "html", "--output", out, store=changed_store).exit_code == 0
    page = html.unescape(out.read_text(encoding="utf-8"))
    for text in (table.output, markdown.replace("\\", ""), page):
        assert "A Brand New Personalized Video Agent" in text
        assert "A Paper That Will Be Dropped" in text
        assert "Old Name of a Renamed Paper -> New Name of a Renamed Paper" in text
        assert "inputModality image -> video" in text
        assert "retrieval x alignment" in text
        assert "1 work(s) added" in text


def test_no_change_is_nothing_new_and_bad_references_are_clear(store_copy, kg):
    assert kg("snapshot", "create", "now1", store=store_copy).exit_code == 0
    same = kg("diff", "--format", "json", store=store_copy)  # default: the last snapshot -> current
    assert json.loads(same.output)["nothing_new"] is True
    missing = kg("diff", "nope", store=store_copy)
    assert missing.exit_code == 2 and "no snapshot called 'nope'" in missing.message
    bad = kg("diff", "now1", "--format", "xml", store=store_copy)
    assert bad.exit_code == 2 and "--format" in bad.message
    first = kg("diff", "previous", store=store_copy)  # one build so far: no previous generation
    assert first.exit_code == 1 and "no previous build" in first.message


def test_report_since_a_snapshot(changed_store, kg, tmp_path):
    import jsonschema

    from kg.report import report_schema

    data = json.loads(kg("report", "--format", "json", "--since", "v1", store=changed_store).output)
    jsonschema.validate(data, report_schema())
    assert _ids(data["since"]["works_added"]) == {"2501.10004"} and data["cells"]
    markdown = kg("report", "--since", "v1", store=changed_store).output
    assert "## Changes since v1" in markdown and "A Brand New Personalized Video Agent" in markdown
    page = tmp_path / "report.html"
    assert kg("report", "--format", "html", "--since", "v1", "-o", page, store=changed_store).exit_code == 0
    text = page.read_text(encoding="utf-8")
    assert '<section id="since">' in text and text.index("since") < text.index("</body>")
    refused = kg("report", "--format", "tex", "--since", "v1", store=changed_store)
    assert refused.exit_code == 2 and "--since" in refused.message


@pytest.mark.parametrize("min_confidence", [0.5, 0.8])
def test_the_cells_and_citations_compared_are_the_analysis_corpus_s(changed_store, min_confidence):
    """The diff counts cells and reads citations in the store; they equal what the analysis corpus
    (load_corpus + gap_matrix) gives, on the snapshot and on the graph now."""
    from kg.analysis.data import load_corpus
    from kg.analysis.diff import _State
    from kg.analysis.gaps import gap_matrix
    from kg.store import Store
    from kg.store.snapshots import snapshots

    store = Store(changed_store)
    for graph in (store.open_at(snapshots(changed_store)[0].generation), store.open()):
        state = _State(graph, min_confidence)
        corpus = load_corpus(graph, min_confidence)
        assert state.citations == set(zip(corpus.edges["citing"], corpus.edges["cited"]))
        assert len(state.citations) > 0
        reference = {(r["category"], r["mechanism"]): r for r in gap_matrix(corpus).to_dict("records")}
        assert set(state.cells) == set(reference)
        for key, row in reference.items():
            mine = state.cells[key]
            assert {k: mine[k] for k in ("count", "asserted", "predicted", "status")} == \
                {k: row[k] for k in ("count", "asserted", "predicted", "status")}, key
            assert set(mine["works"]) == set(row["works"]), key


def test_a_work_that_gains_an_identifier_is_the_same_work_not_removed_and_added(store_copy, tmp_path, kg):
    """A list entry first without a link (its IRI from its title), then with its arXiv link (its IRI
    from the arXiv id): one work known by a new identifier, not a removal and an addition."""
    readme = tmp_path / "awesome.md"
    title = "Lasting Personal Memory for Multimodal Assistants"
    readme.write_text(LIST.format(rows=f"| {title} | NeurIPS | 2025 | image | text | |\n"
                                       + ROW.format(title="Another Personal Agent With Memory", input="text",
                                                    id="2501.10009")), encoding="utf-8")
    assert kg("import", "awesome", readme, "--source-id", "mylist", store=store_copy).exit_code == 0
    assert kg("snapshot", "create", "v1", store=store_copy).exit_code == 0
    readme.write_text(LIST.format(rows=ROW.format(title=title, input="image", id="2501.10005") + "\n"
                                  + ROW.format(title="Another Personal Agent With Memory", input="text",
                                               id="2501.10009")), encoding="utf-8")
    assert kg("import", "awesome", readme, "--source-id", "mylist", store=store_copy).exit_code == 0
    diff = json.loads(kg("diff", "--format", "json", store=store_copy).output)
    assert diff["works_added"] == [] and diff["works_removed"] == []
    [moved] = diff["works_reidentified"]
    assert moved["work"].endswith("2501.10005") and "cite" in moved["before"] and moved["label"]
    assert diff["summary"]["works_reidentified"] == 1 and diff["nothing_new"] is False
    assert not any(w["work"] == moved["before"] for c in diff["cells"] for w in c["works_removed"])
    table = kg("diff", store=store_copy).output
    assert "Works known by a new identifier" in table and moved["before"] in table
