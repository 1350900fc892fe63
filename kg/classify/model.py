"""The classifier: lexicon layer + learned layer, combined with calibrated confidences.

- Lexicon layer (kg.classify.lexicon): which taxonomy labels occur in the text.
- Learned layer: TF-IDF (word 1-2 grams of the normalised tokens, the title
  counted twice) + logistic regression per axis, trained on the labelled
  papers of the graph (survey table, list modalities, curated labels).
  Category is single-label (multinomial); mechanisms and modalities are
  multi-label (one binary model per concept).
- Optional embeddings layer (kg.classify.embeddings): the same linear models
  on sentence embeddings, when the `embeddings` extra is installed.
- Combination: per axis, a small logistic regression over (lexicon share,
  lexicon hit, log lexicon score, directional hit, mechanism cues, learned
  probability[, embedding probability]) for each (paper, concept) pair, fitted on
  out-of-fold predictions, so its output is a calibrated probability that the
  concept is right (a softmax over the categories for the single-label
  category). It is fitted with a prior centred on documented default weights
  (DEFAULT_STACK), so with few labelled papers it stays near them, and it is
  shared by all concepts of the axis, so concepts without training papers can
  still be predicted from their labels.
"""

from __future__ import annotations

import hashlib
import json
import math
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from threadpoolctl import threadpool_limits

from .. import __version__
from ..rdf.taxonomy import Taxonomy
from .lexicon import IMPLIED_WEIGHT, Hit, Lexicon, cue_scores, scores
from .text import clean, stem, tokens

CLASSIFIER_VERSION = f"{__version__}"
AGENT = f"kg-classifier {CLASSIFIER_VERSION}"

AXES = ("category", "mechanism", "input_modality", "output_modality")
SCHEME = {"category": "category", "mechanism": "mechanism", "input_modality": "modality", "output_modality": "modality"}
SINGLE = {"category"}
UNKNOWN = "unknown"

REVIEW_THRESHOLD = 0.5  # below this a predicted label is marked "needs review"
INCLUDE_THRESHOLD = 0.5  # multi-label axes: concepts at or above this are predicted
MENTION_CONFIDENCE = {"title": 0.9, "abstract": 0.7}  # named methods and datasets
MODEL_C = 4.0  # inverse regularisation of the learned layer
STACK_PRIOR = 1.0  # strength of the pull toward DEFAULT_STACK (precision of the prior)
MIN_STACK_PAPERS = 6  # fewer labelled papers on an axis: fixed weights instead of a fitted stacker
FOLDS = 5
# The combination's prior weights (used as they are when too few papers are labelled on an axis):
# intercept, lexicon share, lexicon hit, log(1 + lexicon score), directional hit (modalities in
# "X-to-Y": X for input, Y for output), mechanism cues (signed log(1 + |cues for - cues against|):
# "LoRA" for parameter updates, "training-free" against them), learned probability[, embedding
# probability].
# A plain mention of a modality says little about what a work outputs, so the output axis
# leans on directional hits and the learned layer.
DEFAULT_STACK = {
    "category": (-2.5, 2.0, 1.5, 0.5, 0.0, 0.0, 3.0, 2.0),
    "mechanism": (-2.5, 2.0, 1.5, 0.5, 0.0, 2.0, 3.0, 2.0),
    "input_modality": (-2.5, 2.0, 1.5, 0.5, 1.0, 0.0, 3.0, 2.0),
    "output_modality": (-3.0, 0.75, 0.75, 0.25, 2.5, 0.0, 3.0, 2.0),
}
N_LEXICON = 5  # lexicon features per (paper, concept)


@dataclass
class Doc:
    title: str = ""
    abstract: str = ""
    id: str | None = None


@dataclass
class Example:
    """A labelled paper: its text and its labels per axis (not predicted ones)."""

    key: str
    title: str
    abstract: str
    labels: dict[str, set[str]]
    text: str | None = None  # kg.classify.keys.text_key of title and abstract, when known without them


@dataclass
class Prepared:
    title: str
    abstract: str
    truncated: bool
    hits: list[Hit]
    model_text: str

    @property
    def empty(self) -> bool:
        return not (self.title or self.abstract)


def prepare(doc: Doc, lexicon: Lexicon) -> Prepared:
    title, cut1 = clean(doc.title)
    abstract, cut2 = clean(doc.abstract)
    ttoks, atoks = tokens(title), tokens(abstract)
    hits = lexicon.match("title", ttoks, title) + lexicon.match("abstract", atoks, abstract)
    words = [t.norm for t in ttoks]
    model_text = " ".join(words + ["|"] + words + ["|"] + [t.norm for t in atoks])
    return Prepared(title, abstract, cut1 or cut2, hits, model_text)


# ---------------------------------------------------------------- learned layer
class AxisModel:
    """Linear models for one axis over any feature matrix; classes = the axis's concepts."""

    def __init__(self, classes: list[str], single: bool):
        self.classes = classes
        self.single = single
        self.W: np.ndarray | None = None  # k x f
        self.b = np.zeros(len(classes))
        self.const: dict[int, float] = {}  # class index -> constant probability (no model)

    def fit(self, X, Y: np.ndarray) -> "AxisModel":
        n, k = Y.shape
        f = X.shape[1]
        self.W = np.zeros((k, f))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            if self.single:
                y = Y.argmax(axis=1)
                present = sorted(set(y.tolist()))
                if len(present) < 2:
                    self.const = {j: (1.0 if j in present else 0.0) for j in range(k)}
                    return self
                lr = LogisticRegression(C=MODEL_C, class_weight="balanced", max_iter=2000)
                lr.fit(X, y)
                if len(lr.classes_) == 2:  # sklearn keeps one row: softmax of (-w/2, w/2) is sigmoid(w)
                    coef = np.vstack([-lr.coef_[0] / 2, lr.coef_[0] / 2])
                    intercept = np.array([-lr.intercept_[0] / 2, lr.intercept_[0] / 2])
                else:
                    coef, intercept = lr.coef_, lr.intercept_
                for row, j in enumerate(lr.classes_):
                    self.W[j], self.b[j] = coef[row], intercept[row]
                self.b[[j for j in range(k) if j not in present]] = -30.0  # never seen: never predicted
                return self
            for j in range(k):
                pos = int(Y[:, j].sum())
                if pos == 0 or pos == n:
                    self.const[j] = (pos + 0.5) / (n + 1.0)
                    continue
                lr = LogisticRegression(C=MODEL_C, class_weight="balanced", max_iter=2000)
                lr.fit(X, Y[:, j])
                self.W[j] = lr.coef_[0]
                self.b[j] = lr.intercept_[0]
        return self

    def predict_proba(self, X) -> np.ndarray:
        z = np.asarray(X @ self.W.T) + self.b
        if self.single:
            z = z - z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
        else:
            p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
        for j, value in self.const.items():
            p[:, j] = value
        return p

    def top_features(self, row: tuple[np.ndarray, np.ndarray], j: int, names, n: int = 3) -> list[str]:
        """The words that pushed one paper (its TF-IDF row as (indices, values)) toward class j most."""
        indices, values = row
        if j in self.const or not len(indices):
            return []
        contrib = values * self.W[j, indices]
        order = np.argsort(-contrib)[:n]
        return [str(names[indices[i]]) for i in order if contrib[i] > 0]


STOP_WORDS = sorted(ENGLISH_STOP_WORDS | {stem(w) for w in ENGLISH_STOP_WORDS})


def _vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(token_pattern=r"[^\s|]+", lowercase=False, ngram_range=(1, 2), stop_words=STOP_WORDS,
                           sublinear_tf=True, dtype=np.float64)


# ---------------------------------------------------------------- combination
_SKIP_ROLE = {"input_modality": "target", "output_modality": "source"}


_ROLE = {"input_modality": "source", "output_modality": "target"}
_GATED = {"output_modality"}  # see Classifier._unsupported


def _lexicon_features(hits: list[Hit], axis: str, classes: list[str]) -> np.ndarray:
    s = scores(hits, SCHEME[axis], _SKIP_ROLE.get(axis, ""))
    total = sum(s.values())
    role = _ROLE.get(axis)
    directed = {h.value for h in hits if role and h.axis == "modality" and h.role == role}
    cues = cue_scores(hits) if axis == "mechanism" else {}
    out = np.zeros((len(classes), N_LEXICON))
    for j, c in enumerate(classes):
        v = s.get(c, 0.0)
        cue = cues.get(c, 0.0)
        out[j] = (v / total if total else 0.0, 1.0 if v else 0.0, math.log1p(v), 1.0 if c in directed else 0.0,
                  math.copysign(math.log1p(abs(cue)), cue))
    return out


class Stacker:
    """Calibrated combination of the layers' scores for (paper, concept) pairs.

    A logistic regression fitted by maximum a posteriori with a Gaussian prior
    centred on DEFAULT_STACK: with few labelled papers the weights stay near
    that documented weighting; with many, the data decides. Single-label axes
    use the softmax over the axis's concepts (a conditional logit), so the
    category's confidence is a calibrated probability across categories.
    """

    def __init__(self, axis: str, n_features: int):
        self.single = axis in SINGLE
        self.prior = np.array(DEFAULT_STACK[axis][: 1 + n_features], dtype=float)  # intercept first
        self.w = self.prior.copy()
        self.fitted = False

    @property
    def coef(self) -> np.ndarray:
        return self.w[1:]

    def fit(self, F: np.ndarray, Y: np.ndarray) -> "Stacker":
        """F: papers x concepts x features; Y: papers x concepts (0/1)."""
        n, k, d = F.shape
        if Y.sum() == 0 or (not self.single and Y.sum() == Y.size):
            return self
        A = np.concatenate([np.ones((n, k, 1)), F], axis=2)

        def loss(w):
            z = A @ w
            if self.single:
                z = z - z.max(axis=1, keepdims=True)
                logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
                p = np.exp(logp)
                nll = -(Y * logp).sum()
                grad = -np.einsum("nk,nkd->d", Y - p * Y.sum(axis=1, keepdims=True), A)
            else:
                p = 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))
                eps = 1e-12
                nll = -(Y * np.log(p + eps) + (1 - Y) * np.log(1 - p + eps)).sum()
                grad = np.einsum("nk,nkd->d", p - Y, A)
            diff = w - self.prior
            return nll + 0.5 * STACK_PRIOR * diff @ diff, grad + STACK_PRIOR * diff

        result = minimize(loss, self.prior.copy(), jac=True, method="L-BFGS-B")
        if result.success or result.fun < loss(self.prior)[0]:
            self.w, self.fitted = result.x, True
        return self

    def predict(self, F: np.ndarray) -> np.ndarray:
        """F: concepts x features -> one probability per concept."""
        z = F @ self.w[1:] + self.w[0]
        if self.single:
            z = np.exp(z - z.max())
            return z / z.sum()
        return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


@dataclass
class AxisResult:
    """One axis of one paper: predicted (value, confidence) pairs and the layers' scores."""

    values: list[tuple[str, float]]
    lexicon: dict[str, float] = field(default_factory=dict)
    learned: dict[str, float] = field(default_factory=dict)
    features: dict[str, list[str]] = field(default_factory=dict)
    combined: dict[str, float] = field(default_factory=dict)  # every concept's combined probability


@dataclass
class Prediction:
    doc: Doc
    axes: dict[str, AxisResult]
    hits: list[Hit]
    methods: list[tuple[str, str, float, Hit]]  # notation, name, confidence, first hit
    datasets: list[tuple[str, float, Hit]]
    no_text: bool
    no_evidence: bool
    truncated: bool
    review_threshold: float
    agent: str = AGENT

    def to_json(self) -> dict:
        def item(value: str, conf: float) -> dict:
            return {"label": value, "confidence": round(conf, 4), "needs_review": conf < self.review_threshold}

        out: dict = {}
        if self.doc.id is not None:
            out["id"] = self.doc.id
        cat = self.axes["category"].values[0]
        out["category"] = item(*cat)
        out["mechanisms"] = [item(*v) for v in self.axes["mechanism"].values]
        out["input_modalities"] = [item(*v) for v in self.axes["input_modality"].values]
        out["output_modalities"] = [item(*v) for v in self.axes["output_modality"].values]
        out["datasets"] = [{"name": name, "confidence": conf, "matched": hit.matched, "field": hit.field}
                           for name, conf, hit in self.datasets]
        out["methods"] = [{"label": n, "name": name, "confidence": conf, "matched": hit.matched, "field": hit.field}
                          for n, name, conf, hit in self.methods]
        out["needs_review"] = any(v["needs_review"] for key in ("mechanisms", "input_modalities", "output_modalities")
                                  for v in out[key]) or out["category"]["needs_review"]
        out["evidence"] = self.evidence()
        out["classifier"] = self.agent
        return out

    def evidence(self) -> list[dict]:
        if self.no_text:
            return [{"layer": "input", "note": "no title or abstract: nothing to classify"}]
        ev = [h.to_json() for h in self.hits if h.axis in ("category", "mechanism", "modality")]
        for axis, res in self.axes.items():
            for value, _ in res.values:
                if value == UNKNOWN:
                    continue
                item = {"layer": "combined", "axis": axis, "label": value,
                        "lexicon_share": round(res.lexicon.get(value, 0.0), 4),
                        "learned_probability": round(res.learned.get(value, 0.0), 4)}
                if res.features.get(value):
                    item["learned_features"] = res.features[value]
                ev.append(item)
        if self.no_evidence:
            ev.append({"layer": "input", "note": "no taxonomy term and no word the model knows"})
        if self.truncated:
            ev.append({"layer": "input", "note": "text cut to the first 50,000 characters"})
        return ev

    def label_evidence(self, axis: str, value: str) -> str:
        """One line for a stored label: which terms fired and what the model read."""
        if self.no_text:
            return "no title or abstract to classify"
        if value == UNKNOWN:
            return "no taxonomy term and no word the model knows"
        res = self.axes[axis]
        scheme = SCHEME[axis]
        skip = _SKIP_ROLE.get(axis, "")
        terms = sorted({h.describe() for h in self.hits
                        if h.axis == scheme and h.value == value and not (skip and h.role == skip)})
        parts = [("lexicon: " + "; ".join(terms)) if terms else "lexicon: no term"]
        if res.features.get(value):
            parts.append("model words: " + ", ".join(res.features[value]))
        parts.append(f"p(lexicon share)={res.lexicon.get(value, 0.0):.2f}, p(learned)={res.learned.get(value, 0.0):.2f}")
        return "; ".join(parts)


class Classifier:
    """Train with Classifier.train(...); predict with .predict(docs)."""

    def __init__(self, taxonomy: Taxonomy, lexicon: Lexicon, review_threshold: float = REVIEW_THRESHOLD):
        self.taxonomy = taxonomy
        self.lexicon = lexicon
        self.review_threshold = review_threshold
        self.classes = {axis: [c.notation for c in taxonomy.axis(SCHEME[axis])] for axis in AXES}
        self.method_names = {c.notation: c.label for c in taxonomy.axis("method")}
        self.category_names = {c.notation: c.label for c in taxonomy.axis("category")}
        self.vectorizer: TfidfVectorizer | None = None
        self.models: dict[str, AxisModel] = {}
        self.emb_models: dict[str, AxisModel] = {}
        self.stackers: dict[str, Stacker] = {}
        self.encoder = None
        self.n_train: dict[str, int] = {axis: 0 for axis in AXES}
        self.fingerprint = ""

    # ------------------------------------------------------------ training
    @classmethod
    def train(cls, examples: list[Example], taxonomy: Taxonomy, datasets: dict[str, list[str]] | None = None,
              *, encoder=None, review_threshold: float = REVIEW_THRESHOLD) -> "Classifier":
        self = cls(taxonomy, Lexicon.build(taxonomy, datasets), review_threshold)
        with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
            self._fit(examples, encoder)
        return self

    def _fit(self, examples: list[Example], encoder) -> None:
        self.encoder = encoder
        self.fingerprint = fingerprint(examples, self.lexicon, encoder)
        usable = [e for e in examples if (e.title or "").strip() or (e.abstract or "").strip()]
        prepared = [prepare(Doc(e.title, e.abstract), self.lexicon) for e in usable]
        if not usable:
            self.stackers = {axis: Stacker(axis, N_LEXICON + 1) for axis in AXES}
            return
        self.vectorizer = _vectorizer()
        try:
            X = self.vectorizer.fit_transform([p.model_text for p in prepared])
        except ValueError:  # no words at all
            self.vectorizer = None
            self.stackers = {axis: Stacker(axis, N_LEXICON + 1) for axis in AXES}
            return
        E = encoder.encode([_embed_text(p) for p in prepared]) if encoder is not None else None
        for axis in AXES:
            classes = self.classes[axis]
            rows = [i for i, e in enumerate(usable) if e.labels.get(axis) and set(e.labels[axis]) & set(classes)]
            self.n_train[axis] = len(rows)
            self.stackers[axis] = Stacker(axis, N_LEXICON + (2 if E is not None else 1))
            if not rows:
                continue
            Y = np.array([[c in usable[i].labels[axis] for c in classes] for i in rows], dtype=int)
            Xa = X[rows]
            self.models[axis] = AxisModel(classes, axis in SINGLE).fit(Xa, Y)
            Ea = E[rows] if E is not None else None
            if Ea is not None:
                self.emb_models[axis] = AxisModel(classes, axis in SINGLE).fit(Ea, Y)
            if len(rows) < MIN_STACK_PAPERS:
                continue
            # out-of-fold learned probabilities -> the stacker's training pairs
            oof = np.zeros(Y.shape)
            oof_e = np.zeros(Y.shape)
            folds = KFold(n_splits=min(FOLDS, len(rows)), shuffle=True, random_state=0)
            for tr, te in folds.split(rows):
                oof[te] = AxisModel(classes, axis in SINGLE).fit(Xa[tr], Y[tr]).predict_proba(Xa[te])
                if Ea is not None:
                    oof_e[te] = AxisModel(classes, axis in SINGLE).fit(Ea[tr], Y[tr]).predict_proba(Ea[te])
            F = []
            for r, i in enumerate(rows):
                lex = _lexicon_features(prepared[i].hits, axis, classes)
                F.append(np.hstack([lex, oof[r][:, None]] + ([oof_e[r][:, None]] if Ea is not None else [])))
            self.stackers[axis].fit(np.stack(F), Y)

    # ------------------------------------------------------------ prediction
    def predict(self, docs: list[Doc], explain: bool = True) -> list[Prediction]:
        """One prediction per doc, in order; no docs, no predictions (scikit-learn's
        transformers refuse an empty batch, and a caller may have nothing left to ask)."""
        if not docs:
            return []
        with threadpool_limits(limits=1, user_api="blas"):
            return self._predict(docs, explain)

    def _predict(self, docs: list[Doc], explain: bool) -> list[Prediction]:
        prepared = [prepare(d, self.lexicon) for d in docs]
        X = self.vectorizer.transform([p.model_text for p in prepared]) if self.vectorizer else None
        E = None
        if self.encoder is not None and self.emb_models:
            E = self.encoder.encode([_embed_text(p) for p in prepared])
        learned = {axis: m.predict_proba(X) for axis, m in self.models.items()} if X is not None else {}
        emb = {axis: m.predict_proba(E) for axis, m in self.emb_models.items()} if E is not None else {}
        names = self.vectorizer.get_feature_names_out() if (explain and self.vectorizer) else None
        out = []
        for i, (doc, prep) in enumerate(zip(docs, prepared)):
            row = (X.indices[X.indptr[i]:X.indptr[i + 1]], X.data[X.indptr[i]:X.indptr[i + 1]]) if X is not None else ((), ())
            nnz = len(row[0])
            no_evidence = not prep.empty and nnz == 0 and not prep.hits
            axes = {}
            for axis in AXES:
                if prep.empty or no_evidence:
                    axes[axis] = AxisResult([(UNKNOWN, 0.0)])
                    continue
                if axis == "input_modality":  # the category decided above may imply an input
                    prep = self._category_implies(prep, axes["category"])
                axes[axis] = self._axis(axis, prep, learned.get(axis), emb.get(axis), i,
                                        row if (names is not None) else None, names)
            methods, datasets = self._mentions(prep.hits)
            out.append(Prediction(doc, axes, prep.hits, methods, datasets, prep.empty, no_evidence,
                                  prep.truncated, self.review_threshold, self.agent))
        return out

    def _axis(self, axis, prep, learned, emb, i, row, names) -> AxisResult:
        classes = self.classes[axis]
        lex = _lexicon_features(prep.hits, axis, classes)
        p_model = learned[i] if learned is not None else np.zeros(len(classes))
        cols = [lex, p_model[:, None]]
        if emb is not None:
            cols.append(emb[i][:, None])
        stacker = self.stackers[axis]
        F = np.hstack(cols)
        if F.shape[1] < len(stacker.coef):  # embeddings on, but this axis had no training papers
            F = np.hstack([F, np.zeros((len(classes), len(stacker.coef) - F.shape[1]))])
        if not (lex[:, 1].any() or (lex[:, 4] > 0).any()) and axis not in self.models:
            return AxisResult([(UNKNOWN, 0.0)])  # no term or cue fired and nothing learned for this axis
        p = stacker.predict(F)
        blocked = set() if axis in SINGLE else self._unsupported(axis, lex)
        if axis in SINGLE:
            j = int(np.argmax(p))
            chosen = [(classes[j], float(p[j]))]
        else:
            order = [j for j in np.argsort(-p) if j not in blocked]
            idx = [j for j in order if p[j] >= INCLUDE_THRESHOLD] or order[:1]
            chosen = [(classes[j], float(p[j])) for j in idx]
        res = AxisResult(chosen, {c: float(lex[j, 0]) for j, c in enumerate(classes)},
                         {c: float(p_model[j]) for j, c in enumerate(classes)},
                         combined={c: float(p[j]) for j, c in enumerate(classes) if j not in blocked})
        if row is not None and axis in self.models:
            for value, _ in chosen:
                res.features[value] = self.models[axis].top_features(row, classes.index(value), names)
        return res

    def _category_implies(self, prep: Prepared, category: AxisResult) -> Prepared:
        """Add the modalities the predicted category implies (Lexicon.category_implies: a
        recommendation work reads interaction histories), unless the text already implied them."""
        value, conf = category.values[0]
        cues = self.lexicon.category_implies.get(value) if conf >= self.review_threshold else None
        if not cues:
            return prep
        have = {(h.value, h.role) for h in prep.hits if h.rule == "implied"}
        label = self.category_names.get(value, value)
        extra = [Hit("modality", c.value, c.why, label, "category", IMPLIED_WEIGHT, role=c.role, rule="implied",
                     cue=f"category {value} ({conf:.2f})")
                 for c in cues if (c.value, c.role) not in have]
        return replace(prep, hits=prep.hits + extra) if extra else prep

    def _unsupported(self, axis: str, lex: np.ndarray) -> set[int]:
        """Output modalities the text gives no evidence for, when it says what the work outputs.

        The list papers the learned layer trains on all output text, so its output-text
        probability is one base rate for every paper. When the text itself says what the work
        outputs ("text-to-image", "image generation", "captioning"), a modality the text does not
        say is output, with only such a base rate behind it (a learned model that read no words),
        is not predicted: "synthesizes speech for arbitrary text" outputs audio, not text.
        Inputs are left alone: works usually read several (a prompt beside images or histories).
        """
        if axis not in _GATED or not lex[:, 3].any():
            return set()
        model = self.models.get(axis)
        return {j for j in range(lex.shape[0]) if not lex[j, 3] and (model is None or j in model.const)}

    def _mentions(self, hits: list[Hit]):
        methods: dict[str, tuple] = {}
        datasets: dict[str, tuple] = {}
        for h in hits:
            if h.axis == "method":
                conf = MENTION_CONFIDENCE[h.field]
                if h.value not in methods or methods[h.value][2] < conf:
                    methods[h.value] = (h.value, self.method_names.get(h.value, h.value), conf, h)
            elif h.axis == "dataset":
                conf = MENTION_CONFIDENCE[h.field]
                if h.value not in datasets or datasets[h.value][1] < conf:
                    datasets[h.value] = (h.value, conf, h)
        return sorted(methods.values()), sorted(datasets.values())

    @property
    def agent(self) -> str:
        """Who the predictions are attributed to: classifier version and layers."""
        return AGENT + (f" +{getattr(self.encoder, 'name', 'embeddings')}" if self.encoder is not None else "")

    def describe(self) -> dict:
        return {"classifier": self.agent, "fingerprint": self.fingerprint, "labelled_papers": dict(self.n_train),
                "stacker_fitted": {a: s.fitted for a, s in self.stackers.items()},
                "stacker_weights": {a: [round(float(x), 3) for x in s.w] for a, s in self.stackers.items()},
                "embeddings": self.encoder is not None}


def _embed_text(p: Prepared) -> str:
    return (p.title + ". " + p.abstract).strip(". ")


def fingerprint(examples: list[Example], lexicon: Lexicon, encoder=None) -> str:
    """Changes when the training papers, their labels, the lexicon or the layers change."""
    from .keys import text_key

    h = hashlib.sha1(AGENT.encode())
    for e in sorted(examples, key=lambda e: e.key):
        text = e.text or text_key(e.title, e.abstract)  # the text's hash: known without reading it
        h.update(json.dumps([e.key, text, {a: sorted(v) for a, v in sorted(e.labels.items())}],
                            ensure_ascii=False).encode())
    for t in lexicon.terms:
        h.update(f"{t.axis}\x1f{t.value}\x1f{t.label}".encode())
    for c in lexicon.cues:  # task words implying a modality
        h.update(f"cue\x1f{c.value}\x1f{c.role}\x1f{c.label}".encode())
    for m in lexicon.mechanism_cues:  # phrases for and against kinds of mechanism
        h.update(f"mechanism-cue\x1f{m.value}\x1f{m.sign}\x1f{m.weight}\x1f{m.label}".encode())
    h.update(b"embeddings" if encoder is not None else b"tfidf")
    return h.hexdigest()[:16]
