"""Method and dataset mentions (kg.classify.mentions): precision and recall on hand-labelled
real abstracts (tests/fixtures/mentions_gold.yaml), linking, de-duplication and roles."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from kg.classify.mentions import (
    DATASET,
    INTRODUCES,
    METHOD,
    PROPOSES,
    USES,
    Linker,
    entity_key,
    extract,
)
from kg.classify.text import clean

FIXTURES = Path(__file__).resolve().parent / "fixtures"

RELATIONS = {"proposes_method": (METHOD, PROPOSES), "uses_method": (METHOD, USES),
             "introduces_dataset": (DATASET, INTRODUCES), "uses_dataset": (DATASET, USES)}
# Measured (docs/classifier.md): precision 0.742, recall 0.911 (72 right, 25 wrong, 7 missed), the
# same whether the role is scored or only the kind (method or dataset). A regression breaks these.
MIN_PRECISION, MIN_RECALL = 0.70, 0.85
MIN_ENTITY_PRECISION, MIN_ENTITY_RECALL = 0.70, 0.85


def gold_set() -> list[dict]:
    return yaml.safe_load((FIXTURES / "mentions_gold.yaml").read_text(encoding="utf-8"))["abstracts"]


def score(items: list[dict], with_role: bool = True) -> dict:
    tp = fp = fn = 0
    for item in items:
        gold = [(RELATIONS[r] if with_role else RELATIONS[r][0], {entity_key(x) for x in g.split("|")})
                for r in RELATIONS for g in item[r]]
        if not with_role:  # one entity per kind, whatever its role
            merged: list = []
            for kind, keys in gold:
                same = next((m for m in merged if m[0] == kind and m[1] & keys), None)
                if same:
                    same[1].update(keys)
                else:
                    merged.append((kind, set(keys)))
            gold = merged
        matched: set[int] = set()
        for m in extract(item["title"], item["abstract"]):
            keys = {m.key} | {entity_key(a) for a in m.aliases}
            what = (m.kind, m.role) if with_role else m.kind
            hit = next((k for k, (rel, alts) in enumerate(gold) if rel == what and alts & keys and k not in matched), None)
            if hit is None:
                fp += 1
            else:
                tp += 1
                matched.add(hit)
        fn += len(gold) - len(matched)
    return {"precision": tp / (tp + fp), "recall": tp / (tp + fn), "tp": tp, "fp": fp, "fn": fn}


def test_gold_set_is_what_the_docs_say():
    items = gold_set()
    assert len(items) == 39
    assert sum(len(item[r]) for item in items for r in RELATIONS) == 79
    assert all(item["abstract"] and item["title"] for item in items)


def test_precision_and_recall_on_hand_labelled_abstracts():
    result = score(gold_set())
    assert result["precision"] >= MIN_PRECISION, result
    assert result["recall"] >= MIN_RECALL, result
    entity = score(gold_set(), with_role=False)
    assert entity["precision"] >= MIN_ENTITY_PRECISION, entity
    assert entity["recall"] >= MIN_ENTITY_RECALL, entity


def test_roles_evidence_and_linking():
    linker = Linker({"yollava": ["Yo'LLaVA", "YoLLaVA"], "lora": ["LoRA", "low-rank adaptation"],
                     "clip": ["CLIP"]}, {"MyVLM dataset": ["MyVLM data"]})
    title = "Yo'LLaVA: Your Personalized Language and Vision Assistant"
    abstract = ("We propose Yo'LLaVA, which embeds a subject into latent tokens. We fine-tune it with LoRA on "
                "CLIP features. We introduce PerBench, a benchmark of 40 personal concepts. Experiments on "
                "DreamBench, COCO and LAION-400M show that Yo'LLaVA outperforms GPT-4V.")
    found = {(m.kind, m.role, m.name): m for m in extract(title, abstract, linker)}
    own = found[(METHOD, PROPOSES, "YoLLaVA")]
    assert own.known == "yollava" and own.cue == "title prefix"
    assert not any(k[1] == USES and k[2] == "YoLLaVA" for k in found)  # it does not build on itself
    assert found[(METHOD, USES, "LoRA")].known == "lora"
    assert found[(DATASET, INTRODUCES, "PerBench")].sentence.startswith("We introduce PerBench")
    for name in ("DreamBench", "COCO", "LAION"):
        m = found[(DATASET, USES, name)]
        assert m.known is None and m.confidence >= 0.6
    assert found[(METHOD, USES, "GPT-4V")].cue == "outperforms"
    m = found[(DATASET, USES, "COCO")]
    assert clean(abstract)[0][m.start:m.end] == "COCO" and m.field == "abstract"  # offsets into the cleaned text


def test_normalised_names_deduplicate():
    assert entity_key("VM-DDPM") == entity_key("VM DDPM") == entity_key("vm-ddpm")
    assert entity_key("LLaMA-65B") == entity_key("LLaMA") == "llama"
    assert entity_key("the HC3 dataset".removeprefix("the ")) == "hc3"


def test_no_text_and_no_names():
    assert extract("", "") == []
    assert extract("A study of things", "We study how people read. Nothing here has a name.") == []


def test_fast():
    """Processor time, so other jobs on the machine do not decide it. Measured 600-890 abstracts/s
    (about 1,450 characters each) on a shared 2-core machine; this floor only catches a rule that
    went quadratic or a regular expression that backtracks."""
    items = gold_set() * 10
    started = time.process_time()
    for item in items:
        extract(item["title"], item["abstract"])
    per_second = len(items) / max(time.process_time() - started, 1e-9)
    assert per_second > 250, per_second
