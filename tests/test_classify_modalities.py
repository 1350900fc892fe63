"""Input and output modalities from titles and abstracts: the lexicon's direction rules
("text-to-image", "from reference images", "image captioning"), the task words that imply
a modality (recommendation reads interaction histories, subject-driven generation reads
reference images), evidence that quotes the words, and the classifier trained on the
bundled graph on abstracts written for this test in the style of arXiv abstracts."""

from __future__ import annotations

import pytest

from kg.classify.data import dataset_names, read_works, training_examples
from kg.classify.lexicon import Lexicon
from kg.classify.model import Classifier, Doc
from kg.classify.text import clean, tokens
from kg.rdf.taxonomy import read_taxonomy


@pytest.fixture(scope="module")
def taxonomy():
    return read_taxonomy()


@pytest.fixture(scope="module")
def lexicon(taxonomy):
    return Lexicon.build(taxonomy)


@pytest.fixture(scope="module")
def clf(graph, taxonomy):
    works = read_works(graph)
    return Classifier.train(training_examples(works), taxonomy, dataset_names(graph))


def directed(lexicon, text: str) -> set[tuple[str, str]]:
    """(modality, input|output) pairs the lexicon reads in a text."""
    cleaned, _ = clean(text)
    hits = lexicon.match("abstract", tokens(cleaned), cleaned)
    return {(h.value, {"source": "input", "target": "output"}[h.role]) for h in hits
            if h.axis == "modality" and h.role}


def modalities(pred) -> tuple[set[str], set[str]]:
    return ({v for v, _ in pred.axes["input_modality"].values}, {v for v, _ in pred.axes["output_modality"].values})


# ---------------------------------------------------------------- the direction rules
@pytest.mark.parametrize("text, expected", [
    ("Text-to-image generation with diffusion models", {("text", "input"), ("image", "output")}),
    # personalizing a text-to-image model means teaching it a subject from its images
    ("Personalized text-to-image generation", {("text", "input"), ("image", "input"), ("image", "output")}),
    ("Personalized image captioning with user-aware prefixes", {("image", "input"), ("text", "output")}),
    ("We generate personalized images from reference images of the subject.",
     {("image", "input"), ("image", "output")}),
    ("Given 3-5 images of a subject, the model renders it in new scenes.", {("image", "input")}),
    ("Text-guided image editing", {("text", "input"), ("image", "input"), ("image", "output")}),
    ("A speech synthesis model for a target speaker", {("audio", "output")}),
    ("Video question answering on egocentric recordings", {("video", "input"), ("text", "output")}),
    ("We build 3D avatars from a single photo.", {("image", "input"), ("3d", "output")}),
    ("Streaming recommendation", {("user_behavior", "input")}),
    ("Subject-driven generation", {("image", "input")}),
])
def test_the_lexicon_reads_which_way_a_modality_goes(lexicon, text, expected):
    assert directed(lexicon, text) == expected


@pytest.mark.parametrize("text", [
    "We mine users' purchase histories and click logs.",
    "The model reads the browsing behaviour and sequential behavior of each user.",
    "Ratings: we learn from explicit ratings and the user history of each shopper.",
    "Our encoder takes the interaction history of a user as a sequence of item ids.",
    "clickstream data and watch history",
])
def test_user_behaviour_has_many_names(lexicon, text):
    cleaned, _ = clean(text)
    fired = {h.value for h in lexicon.match("abstract", tokens(cleaned), cleaned) if h.axis == "modality"}
    assert "user_behavior" in fired, text


def test_graphs_video_audio_and_3d_are_recognised(lexicon):
    for text, value in [("a knowledge graph of item attributes", "graph"), ("friends in the social graph", "graph"),
                        ("a graph convolutional network", "graph"), ("short-video platforms", "video"),
                        ("spoken requests", "audio"), ("point clouds and meshes", "3d"),
                        ("3D Gaussian splatting of a person", "3d")]:
        cleaned, _ = clean(text)
        assert value in {h.value for h in lexicon.match("abstract", tokens(cleaned), cleaned)
                         if h.axis == "modality"}, text


def test_advice_implies_nothing(lexicon):
    assert directed(lexicon, "Our study offers practical recommendations for practitioners.") == set()
    assert directed(lexicon, "We close with recommendations for future work.") == set()
    assert directed(lexicon, "Recommendations for cold-start users") == {("user_behavior", "input")}


def test_a_work_filed_under_recommendation_reads_user_behaviour(clf):
    """A title that names no recommendation word still gets user behaviour when the classifier
    files the work under recommendation, and the evidence says it came from the category."""
    [pred] = clf.predict([Doc("PMG: Personalized Multimodal Generation with Large Language Models", "")])
    assert pred.axes["category"].values[0][0] == "recommendation"
    assert "user_behavior" in modalities(pred)[0]
    line = pred.label_evidence("input_modality", "user_behavior")
    assert '"Personalized recommendation" (category) implies user_behavior input' in line


def test_implied_modalities_follow_the_taxonomy(tmp_path):
    """A taxonomy without a user-behaviour concept gets no implied user behaviour; a rule speaks
    only when the taxonomy names its task (here subject-driven generation), else none does."""
    ttl = tmp_path / "tiny.ttl"
    ttl.write_text("""
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ex: <https://example.org/t/> .
ex:cats kg:forProperty kg:category .
ex:mechs kg:forProperty kg:mechanism .
ex:mods kg:forProperty kg:inputModality , kg:outputModality .
ex:widgets skos:inScheme ex:cats ; skos:notation "widgets" ; skos:prefLabel "Widget personalization"@en ;
    skos:altLabel "subject-driven widgets"@en .
ex:knobs skos:inScheme ex:mechs ; skos:notation "knobs" ; skos:prefLabel "Knob turning"@en .
ex:image skos:inScheme ex:mods ; skos:notation "image" ; skos:prefLabel "Image"@en .
""")
    lex = Lexicon.build(read_taxonomy(ttl))
    assert {c.value for c in lex.cues} == {"image"}
    assert directed(lex, "Subject-driven recommendation") == {("image", "input")}
    ttl.write_text(ttl.read_text().replace('    skos:altLabel "subject-driven widgets"@en .', "    ."))
    lex = Lexicon.build(read_taxonomy(ttl))
    assert lex.cues == [] and directed(lex, "Subject-driven recommendation") == set()


def test_evidence_quotes_the_words_and_the_cue(clf):
    [pred] = clf.predict([Doc("Multi-modal self-supervised learning for recommendation", "")])
    out = pred.to_json()
    implied = [e for e in out["evidence"] if e.get("rule") == "implied"]
    assert implied == [{"layer": "lexicon", "axis": "modality", "label": "user_behavior",
                        "term": "recommenders learn from users' interaction histories",
                        "matched": "recommendation", "field": "title", "role": "input", "rule": "implied",
                        "cue": "recommendation"}]
    line = pred.label_evidence("input_modality", "user_behavior")
    assert '"recommendation" (title) implies user_behavior input' in line
    [pred] = clf.predict([Doc("", "We generate personalized images from reference images.")])
    line = pred.label_evidence("output_modality", "image")
    assert '"images" (abstract) -> "Image" as output ("generate")' in line
    assert "reference images" not in line  # an input hit is no evidence for the output
    assert '"reference images" (abstract) -> "reference images" as input ("reference")' in pred.label_evidence(
        "input_modality", "image")


# ---------------------------------------------------------------- abstracts the classifier has not seen
# Written for this test in the style of arXiv abstracts (not taken from any paper):
# (title, abstract, inputs that must be predicted, outputs that must be predicted, outputs that must not).
ABSTRACTS = [
    ("Few-Shot Subject Customization for Diffusion Models",
     ("Text-to-image diffusion models render striking scenes from a prompt but cannot reproduce a particular "
      "subject a user cares about. Given 3-5 images of the subject, we fine-tune a lightweight adapter that "
      "binds the subject to a rare token, and then generate personalized images of it in new contexts, poses "
      "and styles. Compared with prior subject-driven methods, our approach keeps identity fidelity while "
      "following the prompt more closely."),
     {"image", "text"}, {"image"}, {"text"}),
    ("Modeling Shopping Journeys with Language Models for Next-Item Prediction",
     ("E-commerce platforms log rich purchase histories and browsing behaviour for every customer. We cast "
      "sequential recommendation as language modelling: each user's interaction history is serialised into "
      "item tokens, and a pretrained language model is fine-tuned to predict the next purchase. On three "
      "public benchmarks our model outperforms ID-based recommenders, especially for users with short histories."),
     {"user_behavior"}, set(), set()),
    ("Visual Cues for Click-Through Rate Prediction",
     ("Click-through rate prediction drives online advertising. Existing models rely on sparse ID features and "
      "ignore what an ad looks like. We extract features from ad images and titles and fuse them with each "
      "user's click history in a multi-head attention network. Online A/B tests show a 2.1% CTR lift."),
     {"user_behavior", "image"}, set(), set()),
    ("Captions in Your Own Voice: Style-Aware Personalized Image Captioning",
     ("People describe the same photo differently. We study personalized image captioning, where a model must "
      "describe an image in the writing style of a given user. Our captioner conditions a vision-language model "
      "on a short memory of the user's past captions and produces captions that users prefer in a blind study."),
     {"image"}, {"text"}, {"image"}),
    ("Teaching a Vision-Language Assistant About Your Dog",
     ("Multimodal assistants know generic concepts but not the user's own. Given only a handful of images of a "
      "personal concept, such as a pet or a favourite mug, our method learns a few soft tokens that let a frozen "
      "vision-language model recognise the concept in new photos and answer questions about it in natural "
      "language."),
     {"image"}, {"text"}, set()),
    ("Animating Your Subject: Personalized Text-to-Video Generation",
     ("We turn a few reference photos of a subject and a text prompt into short videos in which the subject "
      "moves naturally. A motion module is trained on generic clips while an identity adapter is tuned on the "
      "reference images, so that the generated videos preserve appearance across frames."),
     {"image", "text"}, {"video"}, {"text"}),
    ("Zero-Shot Voice Cloning for Personalized Speech Synthesis",
     ("Personalized text-to-speech should speak in a user's own voice. From a few seconds of reference audio, our "
      "model extracts a speaker embedding and synthesizes speech for arbitrary text with the target speaker's "
      "timbre and prosody. Listening tests show higher similarity than previous zero-shot systems."),
     {"audio", "text"}, {"audio"}, {"text"}),
    ("Single-Photo 3D Avatars",
     ("We create animatable 3D avatars from a single portrait photo. A diffusion prior completes unseen views and "
      "a Gaussian splatting representation is optimised to match them, yielding a personalized 3D avatar in "
      "minutes."),
     {"image"}, {"3d"}, {"text"}),
    ("Knowledge-Aware Multimodal Recommendation",
     ("Item knowledge graphs connect products through shared attributes. We propose a graph neural network that "
      "propagates users' historical interactions over a knowledge graph enriched with item images, and learns "
      "user preferences that transfer to cold-start items."),
     {"graph", "user_behavior"}, set(), set()),
    ("Friends Know Best: Social Graphs for Personalized Ranking",
     ("Social platforms expose who follows whom. We study social recommendation, where a user's friends in the "
      "social graph and their ratings inform what the user may like. A hypergraph encoder mixes social ties with "
      "rating history and beats strong baselines on two datasets."),
     {"graph", "user_behavior"}, set(), set()),
    ("Listening Histories Meet Audio Content for Music Recommendation",
     ("Streaming services recommend songs from listening history alone, which fails for new tracks. We learn "
      "track representations from raw audio and align them with collaborative signals, so new songs can be "
      "recommended on the first day of release."),
     {"user_behavior", "audio"}, set(), set()),
    ("Remembering My Day: Personalized Question Answering over Egocentric Video",
     ("Wearable cameras record hours of egocentric video. We build an assistant that watches a user's recordings "
      "and answers questions about their daily routine, such as where they left their keys, by retrieving and "
      "reasoning over video clips."),
     {"video"}, {"text"}, set()),
    ("Learning a User's Editing Taste",
     ("Photo editors apply recurring adjustments. From a user's editing history we learn a preference embedding "
      "that guides an instruction-based image editing model, so that new photos are edited in the user's style "
      "without manual tuning."),
     {"image", "user_behavior"}, {"image"}, {"text"}),
    ("Generating What You Like: Preference-Conditioned Image Generation from Browsing Histories",
     ("Users reveal their taste through what they click and view. We distil a user's browsing history and "
      "clicked items into a preference prompt for a text-to-image model, which then generates images tailored to "
      "the user. A user study confirms that the generated images match individual taste."),
     {"user_behavior"}, {"image"}, {"text"}),
]


@pytest.mark.parametrize("title, abstract, inputs, outputs, not_outputs", ABSTRACTS,
                         ids=[a[0][:40] for a in ABSTRACTS])
def test_unseen_abstracts_get_their_modalities(clf, title, abstract, inputs, outputs, not_outputs):
    [pred] = clf.predict([Doc(title, abstract)])
    got_in, got_out = modalities(pred)
    assert inputs <= got_in, (got_in, pred.label_evidence("input_modality", next(iter(inputs - got_in))))
    assert outputs <= got_out, got_out
    assert not (not_outputs & got_out), got_out
    for value in got_in | got_out:  # every predicted modality carries a confidence in [0, 1]
        assert all(0.0 <= c <= 1.0 for v, c in pred.axes["input_modality"].values + pred.axes["output_modality"].values)


def test_a_text_only_dialogue_paper_gets_no_other_modality(clf):
    [pred] = clf.predict([Doc("Persona-Consistent Dialogue Generation",
                              "Open-domain chatbots contradict the persona they are given. We add a consistency "
                              "reward to dialogue training so that responses stay faithful to a written profile.")])
    assert modalities(pred) == ({"text"}, {"text"})


# ---------------------------------------------------------------- the bundled corpus
def test_recommendation_works_of_the_bundled_graph_read_user_behaviour(graph, clf):
    works = [w for w in read_works(graph) if w.title and not w.review]
    rec = [w for w in works if "recommendation" in w.given_labels().get("category", [])]
    assert len(rec) >= 6
    preds = clf.predict([Doc(w.title, w.abstract) for w in rec])
    for w, pred in zip(rec, preds):
        assert "user_behavior" in modalities(pred)[0], w.title
    others = [w for w in works if w.given_labels().get("category") and "recommendation" not in w.given_labels()["category"]]
    for w, pred in zip(others, clf.predict([Doc(w.title, w.abstract) for w in others])):
        assert "user_behavior" not in modalities(pred)[0], w.title


def test_subject_driven_works_of_the_bundled_graph_read_images_and_output_images(clf):
    for title in ("InstantBooth: Personalized Text-to-Image Generation without Test-Time Finetuning",
                  "Identity Decoupling for Multi-Subject Personalization of Text-to-Image Models"):
        [pred] = clf.predict([Doc(title, "")])
        got_in, got_out = modalities(pred)
        assert {"text", "image"} <= got_in and got_out == {"image"}, (title, got_in, got_out)


def test_classified_graph_has_user_behaviour_in_the_recommendation_row(store_copy):
    from kg.analysis import modality_gaps
    from kg.pipeline import classify as classify_graph
    from kg.store import LocalGraph

    classify_graph(store_copy)
    gaps = modality_gaps(LocalGraph(store_copy)).set_index("modality")
    row = gaps.loc["user_behavior"]
    assert row["status"] != "absent" and row["input"] >= 6
    assert "recommendation" not in row["missing_categories"]
