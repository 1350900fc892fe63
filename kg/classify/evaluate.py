"""Cross-validated quality and throughput of the classifier.

`evaluate` retrains the whole classifier (learned layer, stacker) on k-1 folds
of the labelled papers and scores the held-out fold, for every axis: the
combined prediction and each layer alone. Accuracy is exact-set accuracy on
multi-label axes; macro-F1 averages over the concepts that occur in the gold
labels (a paper left "unknown" counts as wrong). Top-2 accuracy: a gold concept
is one of the two the combination ranks highest. Calibration, per axis, compares
the confidence of the concept ranked first with whether it is a gold one: mean
confidence against that accuracy, Brier score, expected calibration error (ECE:
the papers' share-weighted gap between confidence and accuracy over confidence
buckets) and the reliability table of those buckets. The top-level
`calibration` is the category's (kept for readers of the older report).
"""

from __future__ import annotations

import time

import numpy as np
from sklearn.metrics import f1_score
from sklearn.model_selection import KFold

from ..rdf.taxonomy import Taxonomy
from .model import AXES, SINGLE, UNKNOWN, Classifier, Doc, Example, Prediction


def _layer_sets(pred: Prediction, axis: str) -> dict[str, set[str]]:
    res = pred.axes[axis]
    combined = {v for v, _ in res.values}
    lex = {v: s for v, s in res.lexicon.items() if s > 0}
    learned = res.learned
    if axis in SINGLE:
        lexicon = {max(lex, key=lex.get)} if lex else {UNKNOWN}
        model = {max(learned, key=learned.get)} if learned and max(learned.values()) > 0 else {UNKNOWN}
    else:
        lexicon = set(lex) or {UNKNOWN}
        model = {v for v, p in learned.items() if p >= 0.5}
        if not model:
            model = {max(learned, key=learned.get)} if learned and max(learned.values()) > 0 else {UNKNOWN}
    return {"combined": combined, "lexicon": lexicon, "learned": model}


def _scores(gold: list[set[str]], pred: list[set[str]], single: bool) -> dict:
    if single:
        g = [next(iter(s)) for s in gold]
        p = [next(iter(s)) for s in pred]
        acc = float(np.mean([a == b for a, b in zip(g, p)]))
        f1 = f1_score(g, p, labels=sorted(set(g)), average="macro", zero_division=0)
    else:
        classes = sorted(set().union(*gold))
        G = np.array([[c in s for c in classes] for s in gold], dtype=int)
        P = np.array([[c in s for c in classes] for s in pred], dtype=int)
        acc = float(np.mean([a == b for a, b in zip(gold, pred)]))
        f1 = f1_score(G, P, average="macro", zero_division=0)
    return {"accuracy": round(acc, 3), "macro_f1": round(float(f1), 3)}


BUCKETS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # confidence buckets of the reliability table


def _ranked(pred: Prediction, axis: str) -> list[tuple[str, float]]:
    """The axis's concepts by combined probability, highest first (empty when "unknown")."""
    return sorted(pred.axes[axis].combined.items(), key=lambda kv: (-kv[1], kv[0]))


def calibration(confidence: list[float], correct: list[bool]) -> dict:
    """Mean confidence vs accuracy, Brier score, ECE and the reliability table by bucket."""
    c, ok = np.array(confidence, dtype=float), np.array(correct, dtype=float)
    buckets, ece = [], 0.0
    for i, (lo, hi) in enumerate(zip(BUCKETS, BUCKETS[1:])):
        inside = (c >= lo) & ((c < hi) if i < len(BUCKETS) - 2 else (c <= hi))
        if not inside.any():
            continue
        conf, acc = float(c[inside].mean()), float(ok[inside].mean())
        ece += inside.sum() / len(c) * abs(conf - acc)
        buckets.append({"confidence": f"{lo:.1f}-{hi:.1f}", "papers": int(inside.sum()),
                        "mean_confidence": round(conf, 3), "accuracy": round(acc, 3)})
    return {"mean_confidence": round(float(c.mean()), 3), "accuracy": round(float(ok.mean()), 3),
            "brier": round(float(np.mean((c - ok) ** 2)), 3), "ece": round(float(ece), 3), "buckets": buckets}


def evaluate(examples: list[Example], taxonomy: Taxonomy, datasets: dict[str, list[str]] | None = None,
             *, folds: int = 5, seed: int = 0, encoder=None) -> dict:
    """Cross-validated accuracy and macro-F1 per axis, for the combined classifier and each layer."""
    examples = [e for e in examples if (e.title or "").strip() or (e.abstract or "").strip()]
    if len(examples) < 2:
        return {"papers": len(examples), "folds": 0, "axes": {}, "note": "fewer than 2 labelled papers with text"}
    k = min(folds, len(examples))
    gold: dict[str, list[set[str]]] = {a: [] for a in AXES}
    preds: dict[str, dict[str, list[set[str]]]] = {a: {"combined": [], "lexicon": [], "learned": []} for a in AXES}
    top2: dict[str, list[bool]] = {a: [] for a in AXES}
    first: dict[str, tuple[list[float], list[bool]]] = {a: ([], []) for a in AXES}  # top concept: confidence, right
    started = time.perf_counter()
    for train, test in KFold(n_splits=k, shuffle=True, random_state=seed).split(examples):
        clf = Classifier.train([examples[i] for i in train], taxonomy, datasets, encoder=encoder)
        held = [examples[i] for i in test]
        for ex, pred in zip(held, clf.predict([Doc(e.title, e.abstract) for e in held], explain=False)):
            for axis in AXES:
                if not ex.labels.get(axis):
                    continue
                gold[axis].append(set(ex.labels[axis]))
                for layer, values in _layer_sets(pred, axis).items():
                    preds[axis][layer].append(values)
                ranked = _ranked(pred, axis)
                top2[axis].append(any(v in ex.labels[axis] for v, _ in ranked[:2]))
                first[axis][0].append(ranked[0][1] if ranked else 0.0)
                first[axis][1].append(bool(ranked) and ranked[0][0] in ex.labels[axis])
    out = {"papers": len(examples), "folds": k, "seconds": round(time.perf_counter() - started, 2), "axes": {}}
    for axis in AXES:
        if not gold[axis]:
            continue
        out["axes"][axis] = {"papers": len(gold[axis]),
                             **{layer: _scores(gold[axis], p, axis in SINGLE) for layer, p in preds[axis].items()},
                             "top2_accuracy": round(float(np.mean(top2[axis])), 3),
                             "calibration": calibration(*first[axis])}
    if "category" in out["axes"]:
        c = out["axes"]["category"]["calibration"]
        out["calibration"] = {"axis": "category", **{k: c[k] for k in ("mean_confidence", "accuracy", "brier")}}
    return out


def measure_throughput(classifier: Classifier, docs: list[Doc], *, repeat: int = 3, explain: bool = True) -> dict:
    """Papers classified per second (best of `repeat` runs over `docs`), for `kg bench`."""
    if not docs:
        return {"papers": 0, "seconds": 0.0, "papers_per_s": 0.0}
    best = float("inf")
    for _ in range(max(1, repeat)):
        started = time.perf_counter()
        classifier.predict(docs, explain=explain)
        best = min(best, time.perf_counter() - started)
    return {"papers": len(docs), "seconds": round(best, 4), "papers_per_s": round(len(docs) / best, 1),
            "layers": "lexicon+tfidf" + ("+embeddings" if classifier.encoder is not None else "")}
