"""Gap analysis on small hand-made graphs with known answers, and on the bundled graph."""

from __future__ import annotations

import math

import pytest

from kg.analysis import (
    dataset_gaps,
    empty_cells,
    gap_matrix,
    gap_note,
    gap_pivot,
    load_corpus,
    modality_gaps,
    nearest_papers,
    summary,
    thin_cells,
    trends,
    year_counts,
)
from kg.errors import UsageError

TG, IG, REC, RET = "text_generation", "image_generation", "recommendation", "retrieval"


def cells_graph(rec, make_graph, counts: dict, start: int = 1, **extra):
    """A graph with counts[(category, mechanism)] works in each cell."""
    works, n = [], start
    for (cat, mech), k in counts.items():
        for _ in range(k):
            works.append(rec.work(n, cat, [mech], **extra))
            n += 1
    return works


@pytest.fixture
def skewed(rec, make_graph):
    """4 works each in TG/instruction, TG/alignment, IG/instruction; IG/alignment empty."""
    works = cells_graph(rec, make_graph, {(TG, "instruction"): 4, (TG, "alignment"): 4, (IG, "instruction"): 4})
    # the one IG/instruction work cited by others comes first among IG/alignment's nearest papers
    return make_graph(rec.bundle(works, cites=[(1, 9), (2, 9)]))


def cell(frame, cat, mech):
    row = frame[(frame["category"] == cat) & (frame["mechanism"] == mech)]
    assert len(row) == 1
    return row.iloc[0]


def test_gap_matrix_has_every_cell_with_expected_under_independence(skewed):
    cells = gap_matrix(skewed)
    assert len(cells) == 16  # 4 categories x 4 mechanisms, empty ones included
    empty = cell(cells, IG, "alignment")
    assert empty["count"] == 0 and empty["status"] == "empty"
    # row IG has 4, column alignment has 4, grand total 12 -> 4 * 4 / 12
    assert empty["expected"] == pytest.approx(4 * 4 / 12, abs=1e-3)
    assert empty["score"] == pytest.approx((0 - 4 / 3) / math.sqrt(4 / 3), abs=1e-3)
    full = cell(cells, TG, "instruction")
    assert full["count"] == 4 and full["expected"] == pytest.approx(8 * 8 / 12, abs=1e-3)
    assert full["papers"] == sorted(full["papers"], key=str.lower) and len(full["works"]) == 4
    assert cells["count"].sum() == 12
    assert cells["expected"].sum() == pytest.approx(12, abs=1e-2)


def test_empty_cells_rank_the_surprising_one_first_with_nearest_papers(skewed):
    empty = empty_cells(skewed)
    first = empty.iloc[0]
    assert (first["category"], first["mechanism"]) == (IG, "alignment")
    # the other empty cells are in rows/columns with no papers at all: expected 0, score 0
    assert set(empty["expected"].iloc[1:]) == {0.0}
    nearest = first["nearest"]
    assert len(nearest) == 3
    assert nearest[0]["label"] == "Paper 9"  # shares the category and is cited twice
    assert all(n["shares"] in (["category"], ["mechanism"]) for n in nearest)


def test_thin_cell_holds_at_most_half_of_expected(rec, make_graph):
    works = cells_graph(rec, make_graph, {(TG, "instruction"): 6, (TG, "alignment"): 6,
                                          (IG, "instruction"): 6, (IG, "alignment"): 1})
    graph = make_graph(rec.bundle(works))
    thin = thin_cells(graph)
    assert list(zip(thin["category"], thin["mechanism"])) == [(IG, "alignment")]
    row = thin.iloc[0]
    assert row["expected"] == pytest.approx(7 * 7 / 19, abs=1e-3) and row["count"] == 1
    assert row["score"] == pytest.approx((1 - 49 / 19) / math.sqrt(49 / 19), abs=1e-3)
    assert summary(graph)["thin"] == 1


def test_category_filter_keeps_expected_from_the_whole_table(skewed):
    whole = gap_matrix(skewed)
    only = gap_matrix(skewed, category=IG)
    assert set(only["category"]) == {IG} and len(only) == 4
    assert cell(only, IG, "alignment")["expected"] == cell(whole, IG, "alignment")["expected"]
    pivot = gap_pivot(whole)
    assert pivot.loc[TG, "instruction"] == 4 and pivot.loc[IG, "alignment"] == 0


def test_unknown_category_or_by_lists_the_valid_ones(skewed):
    with pytest.raises(UsageError) as exc:
        gap_matrix(skewed, category="poetry")
    assert "text_generation" in exc.value.message and "retrieval" in exc.value.message
    with pytest.raises(UsageError, match="modality, year"):
        gap_matrix(skewed, by="venue")


def test_by_modality_counts_input_and_output_modalities(rec, make_graph):
    works = [rec.work(1, TG, ["instruction"], inputs=["image", "text"], outputs=["text"]),
             rec.work(2, TG, ["instruction"], inputs=["video"]),
             rec.work(3, RET, ["alignment"], inputs=["image"])]
    graph = make_graph(rec.bundle(works))
    cells = gap_matrix(graph, by="modality")
    assert len(cells) == 16 * 7
    tg = cells[(cells["category"] == TG) & (cells["mechanism"] == "instruction")]
    counts = dict(zip(tg["modality"], tg["count"]))
    assert counts == {"text": 1, "image": 1, "video": 1, "audio": 0, "3d": 0, "user_behavior": 0, "graph": 0}
    assert cells["expected"].sum() == pytest.approx(cells["count"].sum(), abs=1e-2)
    gaps = modality_gaps(graph).set_index("modality")
    assert gaps.loc["audio", "status"] == "absent"
    assert gaps.loc["video", "status"] == "input only" and gaps.loc["text", "status"] == "covered"
    assert gaps.loc["image", "categories"] == {TG: 1, IG: 0, REC: 0, RET: 1}
    assert gaps.loc["image", "missing_categories"] == [IG, REC]


def test_trends_growing_fading_new(rec, make_graph):
    years = {(TG, "instruction"): [2020, 2020, 2021],  # only old papers -> fading
             (TG, "alignment"): [2023, 2024, 2024],  # only recent, field has older -> new
             (IG, "instruction"): [2021, 2023, 2024, 2024, 2024]}  # mostly recent -> growing
    works, n = [], 1
    for (cat, mech), ys in years.items():
        for y in ys:
            works.append(rec.work(n, cat, [mech], year=y))
            n += 1
    graph = make_graph(rec.bundle(works))
    t = trends(graph).set_index(["category", "mechanism"])
    assert t.loc[(TG, "instruction"), "trend"] == "fading"
    assert t.loc[(TG, "alignment"), "trend"] == "new"
    assert t.loc[(IG, "instruction"), "trend"] == "growing"
    assert t.loc[(IG, "alignment"), "trend"] == "empty"
    assert t.loc[(TG, "instruction"), "by_year"] == {2020: 2, 2021: 1, 2022: 0, 2023: 0, 2024: 0}
    assert t.loc[(TG, "instruction"), "slope"] < 0 < t.loc[(TG, "alignment"), "slope"]
    assert t.loc[(IG, "instruction"), "field_recent_share"] == pytest.approx(7 / 11, abs=1e-3)
    by_year = gap_matrix(graph, by="year")
    assert sorted(set(by_year["year"])) == [2020, 2021, 2022, 2023, 2024]
    counts = year_counts(graph).set_index("year")
    assert counts.loc[2024, "works"] == 5 and 2022 not in counts.index


def test_dataset_gaps_per_category_and_task(rec, make_graph):
    works = [rec.work(1, TG, ["instruction"], tasks=["personalized_captioning"]),
             rec.work(2, IG, ["instruction"], tasks=["subject_driven_generation"])]
    graph = make_graph(rec.bundle(works, datasets={"CapSet": [1]}))
    gaps = dataset_gaps(graph).set_index(["axis", "notation"])
    assert not gaps.loc[("category", TG), "gap"] and gaps.loc[("category", TG), "datasets"] == ["CapSet"]
    assert gaps.loc[("category", IG), "gap"] and gaps.loc[("category", IG), "works"] == 1
    assert gaps.loc[("task", "subject_driven_generation"), "gap"]
    assert not gaps.loc[("task", "personalized_captioning"), "gap"]


def test_nearest_papers_of_a_cell(skewed):
    near = nearest_papers(skewed, IG, "alignment", k=20)
    assert len(near) == 8  # IG/instruction shares the row, TG/alignment the column; TG/instruction neither
    assert {n["category"] for n in near if n["shares"] == ["category"]} == {IG}
    assert {n["category"] for n in near if n["shares"] == ["mechanism"]} == {TG}


def test_empty_graph_gives_empty_frames_and_a_note(make_graph):
    graph = make_graph(None)
    cells = gap_matrix(graph)
    assert len(cells) == 16 and cells["count"].sum() == 0 and cells["expected"].sum() == 0
    assert trends(graph)["trend"].eq("empty").all()
    assert year_counts(graph).empty
    s = summary(graph)
    assert s["works"] == 0 and not s["enough"] and "no works" in s["note"]
    bare = make_graph(None, ontology=False)  # not even a taxonomy
    assert gap_matrix(bare).empty and gap_matrix(bare, by="year").empty
    assert modality_gaps(bare).empty and dataset_gaps(bare).empty


def test_tiny_graph_says_so(rec, make_graph):
    graph = make_graph(rec.bundle([rec.work(1, TG, ["instruction"])]))
    s = summary(graph)
    assert s["in_taxonomy"] == 1 and not s["enough"] and "Only one work" in s["note"]


def test_bundled_graph_cells(graph):
    corpus = load_corpus(graph)
    cells = gap_matrix(corpus)
    assert len(cells) == 16 and set(cells["count"]) == {2}  # two example works per Table-1 cell
    assert set(cells["status"]) == {"ok"} and set(cells["asserted_status"]) == {"ok"}
    assert (cells["asserted"] == cells["count"]).all() and cells["predicted"].sum() == 0  # nothing classified yet
    s = summary(corpus)
    assert (s["works"], s["surveyed"], s["candidates"], s["filled"]) == (49, 32, 3, 16)
    assert (s["placed_asserted"], s["placed_predicted"], s["predicted_labels"]) == (32, 0, 0)
    gaps = modality_gaps(corpus).set_index("modality")
    assert gaps.loc["audio", "status"] == "absent" and gaps.loc["video", "status"] == "absent"
    ds = dataset_gaps(corpus).set_index(["axis", "notation"])
    assert not ds.loc[("category", RET), "gap"]  # Yo'LLaVA and ConCon-Chi
    assert ds.loc[("category", REC), "gap"]


@pytest.mark.parametrize("status, asserted, counts, note", [
    ("empty", "empty", (0, 0), "empty"),
    ("thin", "thin", (1, 1), "thin, 1 predicted"),
    ("ok", "empty", (0, 2), "empty in the asserted evidence, 2 predicted"),
    ("ok", "thin", (1, 3), "thin in the asserted evidence, 3 predicted"),
    ("thin", "empty", (0, 1), "empty in the asserted evidence, thin with 1 predicted"),
    ("thin", "ok", (2, 0), "thin once predictions count (2 asserted)"),
])
def test_gap_note_says_by_which_count_a_cell_is_a_gap(status, asserted, counts, note):
    cell = {"status": status, "asserted_status": asserted, "asserted": counts[0], "predicted": counts[1]}
    assert gap_note(cell) == note


def test_thin_only_in_the_asserted_evidence_is_listed(rec, make_graph):
    """IG/alignment holds 1 asserted work against 7 x 7 / 19 expected (thin); three predicted
    works there make it ok counting predictions, and the list says which."""
    from kg.records import Label, Source, Work

    works = cells_graph(rec, make_graph, {(TG, "instruction"): 6, (TG, "alignment"): 6,
                                          (IG, "instruction"): 6, (IG, "alignment"): 1})
    works += [Work(ids={"arxiv": f"2401.{n:05d}"}, sources=["t"], title=f"Guess {n}", year=2024,
                   labels=[Label("category", IG, "classifier", 0.9), Label("mechanism", "alignment", "classifier", 0.9)])
              for n in (50, 51, 52)]
    bundle = rec.bundle(works)
    bundle.sources.append(Source("classifier", "Labels predicted by the kg classifier", "kg-classifier 0.1.0"))
    graph = make_graph(bundle)
    thin = thin_cells(graph)
    assert list(zip(thin["category"], thin["mechanism"])) == [(IG, "alignment")]
    row = thin.iloc[0]
    assert (row["status"], row["asserted_status"], row["asserted"], row["predicted"]) == ("ok", "thin", 1, 3)
    assert row["note"] == "thin in the asserted evidence, 3 predicted"
    assert row["asserted_expected"] == pytest.approx(7 * 7 / 19, abs=1e-3)
    s = summary(graph)
    assert (s["thin"], s["asserted_thin"]) == (0, 1)
