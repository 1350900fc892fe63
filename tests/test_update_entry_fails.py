"""kg update when a plan entry fails: the entry's error is said, the other entries run and are
built, snapshotted and digested, and the run exits 1; records an earlier run wrote and never
built (a run stopped before its rebuild) are built by the next run, though it changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from harvest_support import Answer, LocalServer, atom_feed

from kg.store import Store
from kg.store.snapshots import snapshots

ROOT = Path(__file__).resolve().parent.parent
RAG = ROOT / "examples" / "rag" / "references.bib"
LIST = """| Title | Venue | Year | Input | Output | Link |
|---|---|---|---|---|---|
| Listed Personalized Video Captioning | CVPR | 2025 | video | text | [arXiv](https://arxiv.org/abs/2502.00021) |
"""
ENTRIES = [{"id": "2502.00011", "title": "Personalized multimodal assistant with memory of the user",
            "published": "2025-02-01T00:00:00Z",
            "summary": "A personalized vision-language model that remembers user concepts."}]


def _papers(kg, store: Path) -> int:
    return json.loads(kg("stats", "--json", store=store).output)["papers"]


def _plan_lists(kg, store: Path, tmp_path: Path, bad: str) -> Path:
    """A plan of the RAG example's BibTeX file and a second list file that is `bad` (empty,
    malformed or gone by the time the update runs); returns the bad file."""
    good = tmp_path / "rag.bib"
    good.write_text(RAG.read_text(encoding="utf-8"), encoding="utf-8")
    broken = tmp_path / "broken.bib"
    broken.write_text("@article{x, title={unclosed" if bad == "malformed" else "", encoding="utf-8")
    assert kg("plan", "add", "bibtex", good, store=store).exit_code == 0
    assert kg("plan", "add", "bibtex", broken, store=store).exit_code == 0
    if bad == "missing":
        broken.unlink()
    return broken


@pytest.mark.parametrize("bad, says", [("empty", "nothing could be imported"),
                                       ("malformed", "nothing could be imported"),
                                       ("missing", "is missing")])
def test_a_failing_list_file_is_its_steps_error_and_the_other_entries_are_built(store_copy, tmp_path, kg, bad,
                                                                                  says):
    broken = _plan_lists(kg, store_copy, tmp_path, bad)
    papers = _papers(kg, store_copy)
    failed = kg("update", "--offline", store=store_copy)
    assert failed.exit_code == 1 and "Traceback" not in failed.output, failed.output
    assert f"bibtex list {broken}" in failed.message and says in failed.message, failed.message
    assert "5 added" in failed.output and "5 work(s) added" in failed.output  # the other entry ran and was built
    assert _papers(kg, store_copy) == papers + 5
    made = snapshots(store_copy)
    assert len(made) == 1 and made[0].name.startswith("update-")
    assert all((store_copy / "updates" / name).is_file() for name in ("digest.md", "digest.html", "feed.atom"))
    again = kg("update", "--offline", "--json", store=store_copy)  # the same entry fails again: nothing new
    outcome = json.loads(again.output)
    assert again.exit_code == 1 and len(outcome["errors"]) == 1 and says in outcome["errors"][0]
    assert outcome["nothing_new"] is True and outcome["rebuilt"] is False and len(snapshots(store_copy)) == 1


def test_a_failing_search_is_its_steps_error_and_its_window_is_searched_again(store_copy, tmp_path, kg,
                                                                                monkeypatch):
    monkeypatch.setattr("kg.harvest.run.default_sleep", lambda s: None)
    listing = tmp_path / "list.md"
    listing.write_text(LIST, encoding="utf-8")
    assert kg("plan", "add", "arxiv", "abs:personalized", "--max", "5", store=store_copy).exit_code == 0
    assert kg("plan", "add", "awesome", listing, "--source-id", "my-list", store=store_copy).exit_code == 0
    state = store_copy / "updates" / "state.json"
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text(json.dumps({"date": "2025-01-01", "since": None}), encoding="utf-8")
    monkeypatch.setenv("KG_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
    failed = kg("update", "--offline", "--json", store=store_copy)  # nothing cached: the search fails
    outcome = json.loads(failed.output)
    assert failed.exit_code == 1 and len(outcome["errors"]) == 1 and "arxiv search" in outcome["errors"][0]
    assert outcome["since"] == "2025-01-01" and outcome["summary"]["works_added"] == 1  # the list was built
    assert json.loads(state.read_text(encoding="utf-8"))["date"] == "2025-01-01"  # the window is kept
    with LocalServer(lambda req: Answer(200, atom_feed(ENTRIES), {"Content-Type": "application/atom+xml"})) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        done = kg("update", "--json", store=store_copy)
        asked = [r.query.get("search_query", "") for r in srv.requests]
    assert done.exit_code == 0 and json.loads(done.output)["summary"]["works_added"] == 1, done.output
    assert asked and all("submittedDate:[202501010000" in query for query in asked), asked


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_records_a_stopped_first_update_wrote_are_built_by_the_next(store_copy, tmp_path, kg, monkeypatch):
    good = tmp_path / "rag.bib"
    good.write_text(RAG.read_text(encoding="utf-8"), encoding="utf-8")
    assert kg("plan", "add", "bibtex", good, store=store_copy).exit_code == 0
    papers, generation = _papers(kg, store_copy), Store(store_copy).dir.current()
    with monkeypatch.context() as patch:
        patch.setattr("kg.pipeline.refresh", _interrupt)  # stopped after its records, before its rebuild
        stopped = kg("update", "--offline", store=store_copy)
    assert stopped.exit_code == 130 and Store(store_copy).dir.current() == generation
    assert any(p.name.startswith("bibtex-rag") for p in (store_copy / "records").iterdir())
    again = kg("update", "--offline", "--json", store=store_copy)
    outcome = json.loads(again.output)
    assert again.exit_code == 0 and outcome["rebuilt"] is True and outcome["summary"]["works_added"] == 5
    assert _papers(kg, store_copy) == papers + 5 and len(snapshots(store_copy)) == 1


def test_records_a_stopped_later_update_wrote_are_built_by_the_next(store_copy, tmp_path, kg, monkeypatch):
    listing = tmp_path / "list.md"
    listing.write_text(LIST, encoding="utf-8")
    assert kg("plan", "add", "awesome", listing, "--source-id", "my-list", store=store_copy).exit_code == 0
    assert kg("update", store=store_copy).exit_code == 0
    generation = Store(store_copy).dir.current()
    listing.write_text(LIST.replace("Video Captioning", "Video Captioning Again"), encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setattr("kg.pipeline.refresh", _interrupt)
        assert kg("update", store=store_copy).exit_code == 130
    assert Store(store_copy).dir.current() == generation
    again = kg("update", "--json", store=store_copy)
    outcome = json.loads(again.output)
    assert again.exit_code == 0 and outcome["rebuilt"] is True and outcome["nothing_new"] is False
    assert Store(store_copy).dir.current() != generation
    kept = kg("update", store=store_copy)  # built now: the next run keeps the graph in place
    assert kept.exit_code == 0 and "graph in place was kept" in kept.output, kept.output


def test_an_update_after_an_import_of_its_list_keeps_the_graph_in_place(store_copy, tmp_path, kg):
    """No update state yet: the graph built by `kg import` holds the list's records, so an update
    that imports the same list again builds nothing."""
    good = tmp_path / "rag.bib"
    good.write_text(RAG.read_text(encoding="utf-8"), encoding="utf-8")
    imported = kg("import", "bibtex", good, store=store_copy)
    assert imported.exit_code == 0, imported.output
    assert kg("plan", "add", "bibtex", good, store=store_copy).exit_code == 0
    generation = Store(store_copy).dir.current()
    kept = kg("update", "--offline", store=store_copy)
    assert kept.exit_code == 0 and "graph in place was kept" in kept.output, kept.output
    assert Store(store_copy).dir.current() == generation


@pytest.mark.parametrize("body, said", [
    ("entries:\n- kind: arxiv\n", "plan entry 1 (arxiv): a search needs its query"),
    ("entries:\n- kind: arxiv\n  query: persona\n", "max must be a whole number of at least 1, not missing"),
    ("entries:\n- kind: s2\n  references: true\n", "min_links must be a whole number of at least 1, not missing"),
    ("entries:\n- kind: arxiv\n  query: x\n  max: lots\n", "max must be a whole number of at least 1, not 'lots'"),
    ("entries:\n- kind: bibtex\n  file: a.bib\n", "needs the source id"),
    ("entries:\n- kind: awesome\n  source_id: x\n", "needs its file (file: ...) or its URL"),
    ("entries:\n- kind: s2\n  references: true\n  min_links: 2\n  depth: 0\n",
     "depth must be a whole number of at least 1, not 0"),
    ("entries: []\nentries: []\n", "'entries' is written twice"),
])
def test_a_hand_edited_plan_entry_that_cannot_run_is_named(kg, store_copy, body, said):
    """A plan edited by hand: an entry missing what it needs, or a number that is none, is said
    with the file and the entry's number before anything runs (a KeyError traceback before)."""
    (store_copy / "plan.yaml").write_text(body)
    for args in (("plan", "show"), ("update", "--offline")):
        result = kg(*args, store=store_copy)
        assert result.exit_code == 1 and said in result.message, (args, result.output)
        assert "plan.yaml" in result.message
