"""`kg screen` (and `kg curate --exclude`): the next work most worth a decision, include /
exclude decisions kept in curation.yaml with who, when and why, surviving rebuilds; the
ranking refreshed after each decision; the classifier placing and unplacing; bad input."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from kg.build import build
from kg.errors import CorpusError
from kg.sparql.named import run_named
from kg.store import LocalGraph, StoreDir

WORK = "https://w3id.org/kg-survey/id/work/"
PREFIX_TUNING = WORK + "arxiv/2312.04793"  # the survey's possible matches: undecided
UNIFIED = WORK + "arxiv/2403.10667"
LLMREC = WORK + "cite/llmrec-large-language-models-with-graph-augmentation-for-recommendation"
PVIT = WORK + "arxiv/2410.07113"  # Table 1


def scope_of(store, iri: str) -> dict:
    return {r["work"]: r for r in run_named(LocalGraph(store), "scope").records()}[iri]


def category(store, iri: str) -> set[str]:
    rows = LocalGraph(store).query(f"SELECT ?n WHERE {{ <{iri}> kg:category/skos:notation ?n }}", trusted=True)
    return {r["n"] for r in rows.records()}


def decisions(store) -> list[dict]:
    path = store / "curation.yaml"
    return yaml.safe_load(path.read_text())["decisions"] if path.exists() else []


# ---------------------------------------------------------------- showing
def test_screen_shows_the_most_relevant_undecided_work_and_progress(kg, built_store):
    result = kg("screen", store=built_store)
    assert result.exit_code == 0, result.output
    assert "46 decided (46 in scope, 0 excluded; 0 by people), 3 undecided" in result.stdout
    assert "Next to screen" in result.stdout and "relevance" in result.stdout
    assert "kg screen --include" in result.stdout
    data = json.loads(kg("screen", "--json", store=built_store).stdout)
    assert data["progress"]["undecided"] == 3 and data["progress"]["in"] == 46
    assert data["next"]["status"] == "undecided" and data["next"]["relevance"] is not None


def test_screen_list_ranks_the_undecided_works_by_relevance(kg, built_store):
    data = json.loads(kg("screen", "--list", "--json", store=built_store).stdout)
    ranked = data["undecided"]
    assert {r["work"] for r in ranked} == {PREFIX_TUNING, UNIFIED, LLMREC}
    values = [r["relevance"] for r in ranked]
    assert values == sorted(values, reverse=True)
    assert 0 < data["progress"]["estimated_relevant_left"] <= 3
    table = kg("screen", "--list", "--limit", "2", store=built_store)
    assert table.exit_code == 0 and "3 undecided works, most relevant first" in table.stdout
    assert len(re.findall(r"^\s*\d+\s+\d\.\d{3}\s", table.stdout, re.MULTILINE)) == 2  # rank, relevance, ...


def test_the_queue_head_equals_the_whole_screening_cut_to_its_head(kg, store_copy):
    """screening_head (the app's Screening page: no work listed beyond the head) gives the
    progress and the first works of screening's queue, a person's decision counted too."""
    from dataclasses import asdict

    from kg.classify.screen import screening, screening_head

    assert kg("screen", "--exclude", "LLMRec: Large Language Models with Graph Augmentation for Recommendation",
              "--by", "Alice", store=store_copy).exit_code == 0
    graph = LocalGraph(store_copy)
    whole = screening(graph)
    assert whole.progress.decided_by_people == 1 and len(whole.queue) == 2
    for keep in (1, 2, 5):
        head, queued = screening_head(graph, keep)
        assert queued == len(whole.queue)
        ours, theirs = asdict(head.progress), asdict(whole.progress)
        assert ours.pop("estimated_relevant_left") == pytest.approx(theirs.pop("estimated_relevant_left"))
        assert ours == theirs
        assert [asdict(i) for i in head.queue] == [asdict(i) for i in whole.queue[:keep]], keep
    assert screening_head(graph, 0)[0].queue == []


# ---------------------------------------------------------------- deciding
def test_exclude_is_recorded_with_who_when_why_and_survives_rebuild(kg, store_copy):
    before = scope_of(store_copy, LLMREC)
    result = kg("screen", "--exclude", "LLMRec: Large Language Models with Graph Augmentation for Recommendation",
                "--reason", "text-only recommendation", "--by", "Alice", store=store_copy)
    assert result.exit_code == 0, result.output
    assert "Excluded LLMRec" in result.stdout and "1 excluded; 1 by people" in result.stdout
    [d] = decisions(store_copy)
    assert d["scope"] == "exclude" and d["by"] == "Alice" and d["reason"] == "text-only recommendation"
    assert d["at"] and d["title"].startswith("LLMRec")
    row = scope_of(store_copy, LLMREC)
    assert row["status"] == "out" and row["decidedBy"] == "Alice" and row["why"] == "text-only recommendation"
    assert row["source"] == "People's label decisions (curation.yaml)" and row["at"]
    assert float(row["relevance"]) != pytest.approx(-1)  # the model's view is still shown
    assert before["status"] == "undecided"
    # the ranking no longer offers it; a plain rebuild keeps the decision; the graph validates
    ranked = json.loads(kg("screen", "--list", "--json", store=store_copy).stdout)["undecided"]
    assert LLMREC not in {r["work"] for r in ranked}
    assert kg("build", store=store_copy).exit_code == 0
    assert scope_of(store_copy, LLMREC)["status"] == "out"
    assert kg("validate", store=store_copy).exit_code == 0
    listed = kg("curate", "--list", store=store_copy)
    assert "scope=exclude" in listed.stdout


def test_each_decision_retrains_the_ranking(kg, store_copy):
    """An exclusion becomes a negative: works like it drop, and the estimate of what is left too."""
    first = json.loads(kg("screen", "--list", "--json", store=store_copy).stdout)
    assert kg("screen", "--exclude", "2403.10667", store=store_copy).exit_code == 0
    after = json.loads(kg("screen", "--list", "--json", store=store_copy).stdout)
    rel = {r["work"]: r["relevance"] for r in first["undecided"]}
    rel_after = {r["work"]: r["relevance"] for r in after["undecided"]}
    assert set(rel_after) == set(rel) - {UNIFIED}
    assert after["progress"]["estimated_relevant_left"] < first["progress"]["estimated_relevant_left"]
    why = scope_of(store_copy, LLMREC)["why"]
    assert "to excluded works 0.00" not in why  # similarity to the excluded work now counts


def test_include_and_exclude_place_and_unplace_with_the_classifier(kg, store_copy):
    from kg.pipeline import classify as classify_graph

    classify_graph(store_copy)
    assert category(store_copy, PREFIX_TUNING)  # a possible match the classifier placed
    assert kg("screen", "--exclude", "2312.04793", store=store_copy).exit_code == 0
    assert category(store_copy, PREFIX_TUNING) == set()  # out of scope: out of the cells
    assert kg("screen", "--include", "2312.04793", "--reason", "personalized captioning",
              store=store_copy).exit_code == 0
    assert scope_of(store_copy, PREFIX_TUNING)["status"] == "in"
    assert category(store_copy, PREFIX_TUNING)  # placed again
    assert [d["scope"] for d in decisions(store_copy)] == ["exclude", "include"]  # the last one wins


def test_min_relevance_leaves_undecided_works_out_and_inclusion_brings_them_in(kg, store_copy):
    from kg.pipeline import classify as classify_graph

    report = classify_graph(store_copy, min_relevance=1.0)
    assert report.low_relevance >= 1 and not category(store_copy, LLMREC)
    assert kg("screen", "--include", LLMREC, store=store_copy).exit_code == 0
    assert classify_graph(store_copy, min_relevance=1.0).low_relevance == report.low_relevance - 1
    assert category(store_copy, LLMREC)
    result = kg("classify", "--min-relevance", "1", store=store_copy)
    assert result.exit_code == 0 and "relevance below 1" in result.stdout


def test_curate_can_exclude_too(kg, store_copy):
    result = kg("curate", "2403.10667", "--exclude", "--note", "a vision-language recommender survey? no",
                "--by", "Bob", store=store_copy)
    assert result.exit_code == 0, result.output
    row = scope_of(store_copy, UNIFIED)
    assert row["status"] == "out" and row["decidedBy"] == "Bob" and row["why"].startswith("a vision-language")
    bad = kg("curate", "2403.10667", "--exclude", "--category", "retrieval", store=store_copy)
    assert bad.exit_code == 2 and "takes no labels" in bad.message


def test_a_table_work_can_be_excluded_by_a_person(kg, store_copy):
    assert scope_of(store_copy, PVIT)["status"] == "in"
    assert kg("screen", "--exclude", "2410.07113", "--reason", "not multimodal", store=store_copy).exit_code == 0
    assert scope_of(store_copy, PVIT)["status"] == "out"


def test_an_excluded_table_work_leaves_the_cell_listings(kg, store_copy):
    def cells():
        rows = json.loads(kg("query", "--name", "papers-by-cell", "--format", "json", store=store_copy).stdout)
        return sum(int(b["count"]["value"]) for b in rows["results"]["bindings"])

    def in_cell():
        result = kg("query", "--name", "cell-papers", "--bind", "category=text_generation", "--bind",
                    "mechanism=fine_tuning", "--all", "--format", "csv", store=store_copy)
        return "2410.07113" in result.stdout

    before = cells()
    assert kg("screen", "--exclude", "2410.07113", store=store_copy).exit_code == 0
    assert cells() == before - 1 and not in_cell()


def test_interactive_mode_on_a_terminal(kg, store_copy, monkeypatch):
    from kg.cli import classify as cli

    monkeypatch.setattr(cli, "_stdin_is_tty", lambda: True)
    result = kg("screen", "--by", "Carol", store=store_copy, input="s\ne\neconomics\nq\n")
    assert result.exit_code == 0, result.output
    assert "[i]nclude, [e]xclude, [s]kip, [q]uit" in result.stdout
    [d] = decisions(store_copy)
    assert d["scope"] == "exclude" and d["by"] == "Carol" and d["reason"] == "economics"
    # the skipped work (the first) was not decided; the second one was
    ranked = json.loads(kg("screen", "--list", "--json", store=store_copy).stdout)["undecided"]
    assert len(ranked) == 2


def test_hand_written_decision_by_paper_id(store_copy):
    (store_copy / "curation.yaml").write_text("decisions:\n- paper: '2312.04793'\n  scope: exclude\n"
                                              "  reason: by hand\n")
    build(store_copy)
    assert scope_of(store_copy, PREFIX_TUNING)["status"] == "out"
    assert scope_of(store_copy, PREFIX_TUNING)["why"] == "by hand"


def test_decision_matching_no_work_is_kept_with_a_warning(store_copy):
    (store_copy / "curation.yaml").write_text("decisions:\n- paper: '2501.99999'\n  scope: include\n")
    report = build(store_copy)
    assert any("line 2" in w and "matches no work" in w for w in report.warnings)


# ---------------------------------------------------------------- bad input
def test_unknown_paper_is_named_and_nothing_is_written(kg, store_copy):
    result = kg("screen", "--include", "2501.99999", store=store_copy)
    assert result.exit_code == 1 and "no paper matches '2501.99999'" in result.message
    assert not (store_copy / "curation.yaml").exists()


def test_conflicting_options_are_usage_errors(kg, built_store):
    for args, words in ((("--include", "a", "--exclude", "b"), "not both"),
                        (("--list", "--exclude", "b"), "--list"),
                        (("--reason", "why"), "--reason goes with"),
                        (("--limit", "3"), "--limit goes with --list")):
        result = kg("screen", *args, store=built_store)
        assert result.exit_code == 2 and words in result.message, args


def test_a_remote_store_refuses_decisions_clearly(kg):
    result = kg("screen", "--exclude", "2403.10667", store="http://127.0.0.1:9/sparql")
    assert result.exit_code == 1
    assert "remote store" in result.message and "(--store)" in result.message  # the store field, as kg's flag
    assert "local store (a folder)" in result.message


def test_broken_curation_file_is_reported_by_line_and_nothing_is_lost(kg, store_copy):
    text = ("decisions:\n- paper: '2403.10667'\n  scope: include\n- paper: '2312.04793'\n  scope: maybe\n")
    (store_copy / "curation.yaml").write_text(text)
    generation = StoreDir(store_copy).current()
    result = kg("screen", "--exclude", "2406.09400", store=store_copy)
    assert result.exit_code == 1
    assert "decision #2 (2312.04793) at line 4" in result.message and "'maybe'" in result.message
    assert (store_copy / "curation.yaml").read_text() == text  # nothing appended, nothing lost
    with pytest.raises(CorpusError, match="line 4"):
        build(store_copy)
    assert StoreDir(store_copy).current() == generation  # the previous graph stays
    assert kg("build", store=store_copy).exit_code == 1


def test_reason_without_scope_in_the_file_is_an_error(store_copy):
    (store_copy / "curation.yaml").write_text("decisions:\n- paper: '2403.10667'\n  reason: oops\n")
    with pytest.raises(CorpusError, match="has a 'reason' but no 'scope"):
        build(store_copy)
