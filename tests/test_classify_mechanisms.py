"""Mechanism cues: what a paper says it does to a model argues for or against a mechanism
("LoRA" for parameter updates, "training-free" and "without any fine-tuning" against them),
mapped to the taxonomy's concepts by their labels; and what `--evaluate` reports about it
(top-2 accuracy, calibration per axis)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.classify.data import dataset_names, read_works, training_examples
from kg.classify.evaluate import calibration, evaluate
from kg.classify.lexicon import Lexicon, cue_scores, mechanism_cues
from kg.classify.model import AXES, Classifier, Doc
from kg.classify.text import clean, tokens
from kg.rdf.taxonomy import read_taxonomy

RAG_TAXONOMY = Path(__file__).resolve().parents[1] / "examples" / "rag" / "taxonomy.ttl"

TRAINING_FREE = ("We personalize a frozen diffusion model from one reference image. The method is training-free: "
                 "it needs no additional training and works without any fine-tuning of the model.")
LORA = "We fine-tune the diffusion model with LoRA on three to five images of each subject."


@pytest.fixture(scope="module")
def taxonomy():
    return read_taxonomy()


@pytest.fixture(scope="module")
def lexicon(taxonomy):
    return Lexicon.build(taxonomy)


@pytest.fixture(scope="module")
def bundled(graph):
    works = read_works(graph)
    return training_examples(works), dataset_names(graph)


@pytest.fixture(scope="module")
def clf(bundled, taxonomy):
    examples, datasets = bundled
    return Classifier.train(examples, taxonomy, datasets)


def cues_of(lexicon, text, field="abstract"):
    cleaned, _ = clean(text)
    return cue_scores(lexicon.match(field, tokens(cleaned), cleaned))


def mechanism(clf, title, abstract=""):
    return clf.predict([Doc(title, abstract)])[0].axes["mechanism"]


# ---------------------------------------------------------------- the cues
def test_cues_argue_for_and_against_parameter_updates(lexicon):
    assert cues_of(lexicon, "We train lightweight adapters on the user's photos.")["fine_tuning"] > 0
    assert cues_of(lexicon, "A training-free approach.")["fine_tuning"] < 0
    for negated in ("We do this without any fine-tuning.", "No additional training is required.",
                    "It does not require fine-tuning the model.", "Our method is tuning-free.",
                    "It eliminates the need for retraining.", "Zero-shot personalization of the assistant."):
        assert cues_of(lexicon, negated).get("fine_tuning", 0) < 0, negated
    # negation stays within its phrase: "without" before a comma does not reach the later verb
    assert cues_of(lexicon, "Without a reference image, we retrain the model.")["fine_tuning"] > 0
    # "training data" names data, not what is done to the model
    assert "fine_tuning" not in cues_of(lexicon, "We release the training data.")


def test_cues_for_the_other_kinds(lexicon):
    assert cues_of(lexicon, "A retrieval-augmented assistant built on synthetic data.")["generation"] > 0
    assert cues_of(lexicon, "We use contrastive learning and preference optimization.")["alignment"] > 0
    assert cues_of(lexicon, "We give the model in-context demonstrations of the user's style.")["instruction"] > 0


def test_a_negated_label_argues_against_its_concept(lexicon):
    cleaned, _ = clean("Personalization without prompt engineering.")
    hits = [h for h in lexicon.match("title", tokens(cleaned), cleaned) if h.axis == "mechanism"]
    assert hits and all(h.rule == "against" and h.cue == "without" for h in hits if h.value == "instruction")
    assert cues_of(lexicon, "Personalization without prompt engineering.", "title")["instruction"] < 0


def test_the_taxonomy_label_decides_inside_its_own_words(lexicon):
    """"Multimodal LLM Adapter" is a label of the bundled alignment concept: its "adapter" is
    no cue for parameter updates."""
    assert "fine_tuning" not in cues_of(lexicon, "MoMA: Multimodal LLM Adapter for Fast Personalized Image Generation")


def test_cues_map_to_concepts_by_their_labels(taxonomy):
    kinds = {(c.kind, c.value) for c in mechanism_cues(taxonomy)}
    assert kinds == {("parameter updates", "fine_tuning"), ("instructions", "instruction"),
                     ("generation", "generation"), ("alignment", "alignment")}
    # the RAG example's mechanisms (input augmentation, latent fusion, ...) name none of the kinds
    assert mechanism_cues(read_taxonomy(RAG_TAXONOMY)) == []


def test_cues_follow_the_taxonomy_file(tmp_path):
    """A taxonomy whose concept is labelled "fine-tuning" gets the parameter-update cues, whatever
    its notation."""
    ttl = tmp_path / "tiny.ttl"
    ttl.write_text("""
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/t/> .
ex:what kg:forProperty kg:category .
ex:any a skos:Concept ; skos:inScheme ex:what ; skos:notation "any" ; skos:prefLabel "Anything"@en .
ex:how kg:forProperty kg:mechanism .
ex:tuned a skos:Concept ; skos:inScheme ex:how ; skos:notation "weights" ;
    skos:prefLabel "Weight adaptation"@en ; skos:hiddenLabel "fine-tuning"@en .
ex:asked a skos:Concept ; skos:inScheme ex:how ; skos:notation "asking" ; skos:prefLabel "Asking nicely"@en .
""", encoding="utf-8")
    lexicon = Lexicon.build(read_taxonomy(ttl))
    assert {c.value for c in lexicon.mechanism_cues} == {"weights"}
    assert cues_of(lexicon, "We adapt it with LoRA.")["weights"] > 0
    assert cues_of(lexicon, "A training-free method.")["weights"] < 0


# ---------------------------------------------------------------- predictions
def test_a_training_free_abstract_is_not_placed_under_parameter_updates(clf):
    res = mechanism(clf, "Personalized image generation", TRAINING_FREE)
    assert "fine_tuning" not in {v for v, _ in res.values}
    assert res.combined["fine_tuning"] < 0.1
    assert res.values[0][0] == "instruction"


def test_a_lora_abstract_is_placed_under_parameter_updates(clf):
    res = mechanism(clf, "Personalized image generation", LORA)
    assert res.values[0][0] == "fine_tuning" and res.values[0][1] >= 0.5


def test_the_cues_move_the_probability_the_way_they_say(clf):
    """The same title with and without the cue: the cue's concept gains, the negated one loses."""
    title = "Personalized multimodal assistant"
    plain = mechanism(clf, title, "We personalize an assistant for each user.").combined
    tuned = mechanism(clf, title, "We personalize an assistant for each user and update the weights with LoRA.").combined
    frozen = mechanism(clf, title, "We personalize an assistant for each user without any fine-tuning.").combined
    synth = mechanism(clf, title, "We personalize an assistant for each user with retrieval-augmented generation.").combined
    assert tuned["fine_tuning"] > plain["fine_tuning"] > frozen["fine_tuning"]
    assert synth["generation"] > plain["generation"]


def test_the_evidence_quotes_the_cue(clf):
    pred = clf.predict([Doc("Personalized image generation", TRAINING_FREE)])[0]
    against = [e for e in pred.evidence() if e.get("rule") == "against"]
    assert any(e["label"] == "fine_tuning" and e["cue"] == "without" for e in against)
    assert "argues against fine_tuning" in pred.label_evidence("mechanism", "fine_tuning")


# ---------------------------------------------------------------- evaluation
def test_calibration_buckets_and_ece():
    report = calibration([0.9, 0.9, 0.1, 0.1], [True, False, False, False])
    assert report["accuracy"] == 0.25 and report["mean_confidence"] == 0.5
    assert [b["papers"] for b in report["buckets"]] == [2, 2]
    assert report["buckets"][1] == {"confidence": "0.8-1.0", "papers": 2, "mean_confidence": 0.9, "accuracy": 0.5}
    assert report["ece"] == pytest.approx(0.5 * 0.1 + 0.5 * 0.4)
    assert calibration([1.0], [True])["ece"] == 0.0  # a confidence of 1 falls in the last bucket


def test_evaluate_reports_top2_and_calibration_per_axis(bundled, taxonomy):
    examples, datasets = bundled
    report = evaluate(examples, taxonomy, datasets, folds=5)
    assert set(report["axes"]) == set(AXES)
    for axis, r in report["axes"].items():
        assert r["combined"]["accuracy"] <= r["top2_accuracy"] <= 1.0, axis
        cal = r["calibration"]
        assert sum(b["papers"] for b in cal["buckets"]) == r["papers"], axis
        assert 0.0 <= cal["ece"] <= 1.0 and 0.0 <= cal["brier"] <= 1.0
    mech = report["axes"]["mechanism"]
    assert mech["top2_accuracy"] > mech["combined"]["accuracy"]  # four mechanisms: the second guess helps
    assert mech["combined"]["accuracy"] >= 0.5  # 0.458 before the cues
