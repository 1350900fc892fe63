"""The lexicon layer: terms only from the taxonomy's SKOS labels (and dataset names), longest
match first, which term fired on which words; text cleaning for hostile input."""

from __future__ import annotations

import pytest

from kg.classify.lexicon import Lexicon, scores
from kg.classify.text import MAX_FIELD_CHARS, clean, stem, tokens
from kg.rdf.taxonomy import read_taxonomy


@pytest.fixture(scope="module")
def taxonomy():
    return read_taxonomy()


@pytest.fixture(scope="module")
def lexicon(taxonomy):
    return Lexicon.build(taxonomy, {"MC-LLaVA": [], "PODS": [], "Yo'LLaVA": ["YoLLaVA-Bench"]})


def hits_of(lexicon, text, field="title"):
    cleaned, _ = clean(text)
    return lexicon.match(field, tokens(cleaned), cleaned)


def test_every_term_is_a_label_of_the_taxonomy(taxonomy, lexicon):
    labels = {(c.axis, c.notation): {c.label, *c.synonyms} for axis in ("category", "mechanism", "modality", "method")
              for c in taxonomy.axis(axis)}
    for term in lexicon.terms:
        if term.axis == "dataset":
            assert term.value in {"MC-LLaVA", "PODS", "Yo'LLaVA"}
        else:
            assert term.label in labels[(term.axis, term.value)], term


def test_terms_follow_the_taxonomy_file(tmp_path):
    """Another taxonomy file gives other terms: nothing is hard-coded."""
    ttl = tmp_path / "tiny.ttl"
    ttl.write_text("""
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/t/> .
ex:cats kg:forProperty kg:category .
ex:mechs kg:forProperty kg:mechanism .
ex:widgets skos:inScheme ex:cats ; skos:notation "widgets" ; skos:prefLabel "Widget personalization"@en ;
    skos:altLabel "gadget tailoring"@en .
ex:knobs skos:inScheme ex:mechs ; skos:notation "knobs" ; skos:prefLabel "Knob turning"@en .
""")
    lex = Lexicon.build(read_taxonomy(ttl))
    fired = {(h.axis, h.value, h.term) for h in hits_of(lex, "Gadget tailoring by knob turning for text-to-image")}
    assert fired == {("category", "widgets", "gadget tailoring"), ("mechanism", "knobs", "Knob turning")}


def test_longest_match_wins_and_reports_what_fired(lexicon):
    hits = hits_of(lexicon, "InstantBooth: Personalized Text-to-Image Generation without Test-Time Finetuning")
    category = [h for h in hits if h.axis == "category"]
    assert [(h.value, h.term, h.matched) for h in category] == [
        ("image_generation", "personalized text-to-image generation", "Personalized Text-to-Image Generation")]
    mech = [h for h in hits if h.axis == "mechanism" and h.rule not in ("cue", "against")]
    assert [(h.value, h.term) for h in mech] == [("generation", "without test-time finetuning")]
    # inside the label, the negated "Finetuning" still argues against parameter updates (a cue)
    assert [(h.value, h.rule, h.cue) for h in hits if h.rule == "against"] == [("fine_tuning", "against", "without")]
    assert {h.field for h in hits} == {"title"}
    # the shorter "visual instruction" parts lose to "visual instruction tuning"
    assert [(h.value, h.term) for h in hits_of(lexicon, "Personalized Visual Instruction Tuning")
            if h.axis == "mechanism"] == [("fine_tuning", "visual instruction tuning")]


def test_inflections_and_spelling_variants_match(lexicon):
    for text in ("Personalizing dialogue agents", "Personalised dialogue", "personalized dialogues"):
        assert ("category", "text_generation") in {(h.axis, h.value) for h in hits_of(lexicon, text)}, text
    assert stem("modalities") == "modality" and stem("models") == "model" and stem("class") == "class"


def test_names_acronyms_are_case_sensitive(lexicon):
    fired = {(h.axis, h.value) for h in hits_of(lexicon, "We use CLIP features and evaluate on PODS.")}
    assert {("method", "clip"), ("dataset", "PODS")} <= fired
    fired = {(h.axis, h.value) for h in hits_of(lexicon, "a short video clip of coffee pods")}
    assert ("method", "clip") not in fired and ("dataset", "PODS") not in fired
    assert ("modality", "video") in fired


def test_dataset_names_and_aliases_in_spelling_variants(lexicon):
    for text in ("Results on Yo’LLaVA", "results on yollava", "MC-LLaVA and MCLLaVA", "the YoLLaVA-Bench split"):
        assert any(h.axis == "dataset" for h in hits_of(lexicon, text)), text
    hits = [h for h in hits_of(lexicon, "MC LLaVA data") if h.axis == "dataset"]
    assert [(h.value, h.matched) for h in hits] == [("MC-LLaVA", "MC LLaVA")]


def test_x_to_y_marks_input_and_output_modalities(lexicon):
    roles = {(h.value, h.role) for h in hits_of(lexicon, "video-to-audio synthesis") if h.axis == "modality"}
    assert roles == {("video", "source"), ("audio", "target")}
    hits = hits_of(lexicon, "video-to-audio synthesis")
    assert scores(hits, "modality", skip_role="target") == {"video": pytest.approx(1.5)}


def test_title_hits_weigh_more_than_abstract_hits(lexicon):
    title = scores(hits_of(lexicon, "sequential recommendation", "title"), "category")
    abstract = scores(hits_of(lexicon, "sequential recommendation", "abstract"), "category")
    assert title["recommendation"] > abstract["recommendation"] > 0


def test_markup_and_latex_are_stripped():
    text, cut = clean("<p>Subject-driven <b>text-to-image</b> &amp; \\textbf{LoRA} $x^2$ <script>alert(1)</script></p>")
    assert "<" not in text and "\\" not in text and "&amp;" not in text and not cut
    assert "text-to-image" in text and "LoRA" in text


def test_very_long_text_is_cut_and_says_so():
    text, cut = clean("recommendation " * 10_000)
    assert cut and len(text) <= MAX_FIELD_CHARS


def test_non_english_text_tokenises_without_firing(lexicon):
    assert hits_of(lexicon, "量子色动力学的格点计算，Gitterrechnung der Quantenchromodynamik") == []
    assert tokens(clean("Überraschung für alle")[0])[0].norm == "uberraschung"
