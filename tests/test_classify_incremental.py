"""Incremental `kg classify`: the trained model is kept in the store, new works are labelled with it,
and what a user sees equals a run from scratch; a change of the training inputs trains again."""

from __future__ import annotations

import json
import shutil

import pytest

from kg.build import build
from kg.classify import cache
from kg.classify.run import RECORD_FILE
from kg.pipeline import classify as classify_graph
from kg.records import Bundle, Source, Work
from kg.records.file import read_bundle, write_bundle

PVIT = "2410.07113"  # Table 1: text_generation / fine_tuning

NEW_WORKS = [
    ("2501.00001", "PersonaDiff: subject-driven personalized text-to-image generation with LoRA",
     "We propose PersonaDiff, which fine-tunes a diffusion model with LoRA on 3-5 reference images of a "
     "subject to generate personalized images. Experiments on DreamBench show it outperforms DreamBooth."),
    ("2501.00002", "Remembering the user: retrieval-augmented personalized dialogue with large language models",
     "We introduce a training-free method that retrieves a user's past conversations and profile to "
     "personalize the responses of a large language model, evaluated on LaMP."),
    ("2501.00003", "Click histories as prompts for personalized recommendation",
     "A recommendation model that reads click logs and user behaviour sequences as prompts for an LLM."),
]


def _new_works(store) -> None:
    """Records of three new, unlabelled works, as a harvest would bring them."""
    write_bundle(store / "records" / "harvest-new.jsonl", Bundle(
        sources=[Source(id="test-new", title="new works", agent="test", retrieved="2026-01-01")],
        works=[Work(ids={"arxiv": a}, sources=["test-new"], title=t, abstract=ab, year=2025, candidate=True)
               for a, t, ab in NEW_WORKS]))


def _predicted(store) -> dict:
    """What the classifier recorded: work -> sorted (axis, value, confidence, needs review), and its mentions."""
    out = {}
    for work in read_bundle(store / "records" / RECORD_FILE).works:
        key = json.dumps(work.ids, sort_keys=True)
        out[key] = (sorted((lab.axis, lab.value, lab.confidence, lab.needs_review) for lab in work.labels),
                    sorted((m.kind, m.role, m.key, m.confidence) for m in work.mentions))
    return out


@pytest.fixture(scope="module")
def classified(built_store, tmp_path_factory):
    """A copy of the bundled graph after a first `kg classify` (read-only for the tests below)."""
    dest = tmp_path_factory.mktemp("incremental") / "store"
    shutil.copytree(built_store, dest, symlinks=True)
    report = classify_graph(dest)
    return dest, report


def test_the_first_run_trains_and_keeps_the_model(classified):
    store, report = classified
    assert not report.model_cached and report.model["key"]
    assert cache.load(store, report.model["key"]) is not None
    assert cache.load(store, "another key") is None


def test_new_works_are_labelled_with_the_kept_model_as_a_run_from_scratch_labels_them(classified, tmp_path):
    src, first = classified
    store = tmp_path / "incremental"
    shutil.copytree(src, store, symlinks=True)
    _new_works(store)
    build(store)
    report = classify_graph(store)
    assert report.model_cached and report.model["key"] == first.model["key"]  # not trained again
    assert report.labelled == 3 and report.papers == 52
    assert report.unchanged + report.relabelled == 49 and report.rebuilt
    # the same records classified from scratch: no state, no kept model
    scratch = tmp_path / "scratch"
    shutil.copytree(src, scratch, symlinks=True)
    (scratch / "classifier-state.json").unlink()
    (scratch / cache.MODEL_FILE).unlink()
    (scratch / "records" / RECORD_FILE).unlink()
    _new_works(scratch)
    build(scratch)
    full = classify_graph(scratch)
    assert not full.model_cached and full.labelled == 52
    incremental, from_scratch = _predicted(store), _predicted(scratch)
    assert incremental == from_scratch
    new = [v for k, v in from_scratch.items() if "2501.0000" in k]
    assert len(new) == 3 and any(value != "unknown" for labels, _ in new for _, value, _, _ in labels)


def test_all_trains_again_and_labels_every_work(classified, tmp_path, kg):
    src, _ = classified
    store = tmp_path / "store"
    shutil.copytree(src, store, symlinks=True)
    result = kg("classify", "--all", "--json", store=store)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert not report["model_cached"] and report["unchanged"] == 0 and report["labelled"] == 49
    again = json.loads(kg("classify", "--json", store=store).stdout)
    assert again["unchanged"] == 49 and not again["rebuilt"]


def test_a_curation_trains_again_and_labels_every_work(classified, tmp_path, kg):
    src, first = classified
    store = tmp_path / "store"
    shutil.copytree(src, store, symlinks=True)
    assert kg("curate", PVIT, "--category", "retrieval", store=store).exit_code == 0
    report = classify_graph(store)
    assert not report.model_cached and report.model["key"] != first.model["key"]
    assert report.unchanged == 0 and report.relabelled == 49
    assert cache.load(store, report.model["key"]) is not None  # the new model replaced the old one
    assert cache.load(store, first.model["key"]) is None


def test_a_damaged_model_file_is_trained_again(classified, tmp_path):
    src, first = classified
    store = tmp_path / "store"
    shutil.copytree(src, store, symlinks=True)
    (store / cache.MODEL_FILE).write_bytes(b"not a pickle")
    _new_works(store)
    build(store)
    report = classify_graph(store)
    assert not report.model_cached and report.model["key"] == first.model["key"] and report.labelled == 3
    assert cache.load(store, first.model["key"]) is not None


def test_the_key_follows_the_taxonomy_file_the_options_and_the_encoder(tmp_path, monkeypatch):
    taxonomy = tmp_path / "taxonomy.ttl"
    taxonomy.write_text("# a taxonomy\n")
    key = cache.model_key("training", taxonomy)
    assert cache.model_key("training", taxonomy) == key
    assert cache.model_key("other training", taxonomy) != key
    taxonomy.write_text("# a taxonomy, edited\n")
    assert cache.model_key("training", taxonomy) != key
    edited = cache.model_key("training", taxonomy)

    class Encoder:
        name = "minilm"

    assert cache.model_key("training", taxonomy, Encoder()) != edited
    monkeypatch.setattr("kg.classify.model.MODEL_C", 1.0)
    assert cache.model_key("training", taxonomy) != edited


def test_new_works_left_out_of_the_taxonomy_change_no_record_and_build_nothing(classified, tmp_path):
    src, _ = classified
    store = tmp_path / "store"
    shutil.copytree(src, store, symlinks=True)
    before = (store / "records" / RECORD_FILE).read_bytes()
    write_bundle(store / "records" / "harvest-off-topic.jsonl", Bundle(
        sources=[Source(id="test-off-topic", title="off-topic works", agent="test", retrieved="2026-01-01")],
        works=[Work(ids={"arxiv": "2501.09999"}, sources=["test-off-topic"], year=2025, candidate=True,
                    title="Sediment transport and soil erosion in alpine river basins",
                    abstract="We measure sediment yield and bank erosion across twelve alpine catchments.")]))
    build(store)
    report = classify_graph(store)
    assert report.labelled == 1 and report.low_relevance >= 1
    assert not report.records_changed and not report.rebuilt  # nothing to place: no second build
    assert (store / "records" / RECORD_FILE).read_bytes() == before
    again = classify_graph(store)
    assert again.unchanged == 50 and again.labelled == 0 and not again.rebuilt


def test_classifying_text_uses_the_kept_model_and_writes_nothing(classified, tmp_path, kg):
    src, _ = classified
    store = tmp_path / "store"
    shutil.copytree(src, store, symlinks=True)
    (store / cache.MODEL_FILE).write_bytes(b"not a pickle")  # a model it cannot use: it trains one
    result = kg("classify", "--title", "Personalized text-to-image generation with LoRA", "--json", store=store)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["category"]["label"] == "image_generation"
    assert (store / cache.MODEL_FILE).read_bytes() == b"not a pickle"
