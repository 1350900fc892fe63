"""How relevant a work is to the survey's field: a score in [0, 1] from its title and abstract.

The scope model compares each work's text with what is known to be in scope:

- TF-IDF (word 1-2 grams of the classifier's normalised tokens, the title counted twice,
  sublinear term frequency, smoothed idf, rows of unit length) over every work and the
  taxonomy's concept descriptions (each SKOS label, synonym and definition of the categories
  and mechanisms; modalities such as text or image say nothing about a field);
- three similarities per work: to the centroid of the in-scope works (leaving the work
  itself out), to the closest taxonomy concept, and to the centroid of the works people
  excluded (leaving the work itself out; 0 while nobody has excluded anything);
- a logistic regression over those three (see _fit), trained with the in-scope works as
  positives and every other work with text as a negative (excluded and undecided alike: most
  works a harvest brings in are off-topic), which gives g = P(work is known in scope | text);
- calibration to P(relevant | text) for a work nobody has decided yet, after Elkan &
  Noto (2008, "Learning classifiers from only positive and unlabeled data"): with
  c = the mean g of the in-scope works, relevance = (1 - c) / c * g / (1 - g), cut to [0, 1].
  The sum of the undecided works' relevance estimates how many relevant works are left.

With fewer than MIN_POSITIVES in-scope works or MIN_OTHERS other works to contrast them with,
documented default weights (DEFAULT_WEIGHTS, DEFAULT_C: near the fit on the bundled survey
graph with the 1,881 recorded off-topic citing papers) are used instead of a fit.

It runs at every `kg build`, so it stays light: numpy and scipy.sparse only (no
scikit-learn import), and abstracts are read up to MAX_ABSTRACT_WORDS words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from .. import __version__
from ..rdf.taxonomy import Taxonomy
from .text import clean, stem

AGENT = f"kg-scope {__version__}"
CONCEPT_AXES = ("category", "mechanism")  # modalities (text, image, graph) are not specific to a field
MIN_POSITIVES = 3
MIN_OTHERS = 20  # fewer works to contrast the in-scope ones with: the default weights, not a fit
PRIOR_PRECISION = 0.05  # pull of the fit toward DEFAULT_WEIGHTS (a standard deviation of about 4.5)
# intercept, similarity to in-scope works, to the taxonomy, to excluded works
DEFAULT_WEIGHTS = (-6.0, 6.0, 16.0, -8.0)
DEFAULT_C = 0.5
C_RANGE = (0.05, 0.95)


@dataclass
class Scored:
    """The model's answer for a list of works (same order as given)."""

    relevance: np.ndarray  # P(relevant | text) for an undecided work, in [0, 1]
    features: np.ndarray  # works x 3 similarities
    concept: list[str]  # the closest taxonomy concept's label ("" when nothing is shared)
    has_text: np.ndarray
    weights: tuple[float, ...] = ()
    c: float = DEFAULT_C
    fitted: bool = False
    positives: int = 0
    negatives: int = 0
    notes: list[str] = field(default_factory=list)

    def evidence(self, i: int) -> str:
        """One line saying what the score rests on."""
        if not self.has_text[i]:
            return "no title or abstract to judge"
        f = self.features[i]
        near = f' ("{self.concept[i]}")' if self.concept[i] else ""
        return (f"similarity to in-scope works {f[0]:.2f}, to the taxonomy {f[1]:.2f}{near}, "
                f"to excluded works {f[2]:.2f}")

    def describe(self) -> dict:
        return {"agent": AGENT, "fitted": self.fitted, "positives": self.positives, "negatives": self.negatives,
                "weights": [round(float(w), 3) for w in self.weights], "c": round(float(self.c), 4)}


MAX_ABSTRACT_WORDS = 250
# function words; the idf weighs the remaining common words down
STOP = frozenset("""a about above after again against all also am an and any are as at be because been before
being below between both but by can could did do does doing down during each few for from further had has have
having he her here hers him his how i if in into is it its itself just me more most my no nor not now of off on
once only or other our ours out over own same she should so some such than that the their theirs them then there
these they this those through to too under until up upon very via was we were what when where which while who
whom why will with within without would you your toward towards using use based new""".split())
_WORD = re.compile(r"[^\W_]+")


class Words:
    """Word -> number, through the classifier's normaliser (lower case, light stemmer) with the
    -ize family folded together (personalization, personalize, personalized: one word); each
    distinct spelling is normalised once; function words and numbers map to -1."""

    def __init__(self):
        self.ids: dict[str, int] = {}  # normalised word -> number
        self.raw: dict[str, int] = {}  # word as found -> number (or -1)

    def _add(self, word: str) -> int:
        norm = stem(word)
        if norm.endswith("ization"):  # personalization, personalize(d) -> personaliz
            norm = norm[:-5]
        elif norm.endswith("ize"):
            norm = norm[:-1]
        number = -1 if (norm in STOP or norm.isdigit()) else self.ids.setdefault(norm, len(self.ids))
        self.raw[word] = number
        return number

    def numbers(self, text: str, limit: int | None = None) -> list[int]:
        found = _WORD.findall(clean(text or "")[0].lower())
        if limit is not None:
            found = found[:limit]
        get, add = self.raw.get, self._add
        out = []
        for word in found:
            number = get(word)
            out.append(add(word) if number is None else number)
        return out


def tfidf(docs: list[list[list[int]]], size: int):
    """TF-IDF rows (scipy CSR) of word 1-2 grams for documents given as segments of word numbers
    (below `size`; -1 for a function word, which is dropped; bigrams stay within a segment):
    sublinear tf, smoothed idf over the documents with words, unit length. Vectorised with numpy."""
    from scipy.sparse import csr_matrix

    n = len(docs)
    lengths = [len(seg) for segments in docs for seg in segments]
    if not sum(lengths):
        return csr_matrix((n, 0))
    u = np.fromiter((w for segments in docs for seg in segments for w in seg), dtype=np.int64, count=sum(lengths))
    seg_doc = np.repeat(np.arange(n), [len(segments) for segments in docs])
    segs = np.repeat(np.arange(len(lengths)), lengths)
    keep = u >= 0
    u, segs = u[keep], segs[keep]
    same = segs[1:] == segs[:-1]  # a bigram: two neighbouring words of one segment
    keys = np.concatenate([u, size + u[:-1][same] * size + u[1:][same]])
    rows = np.concatenate([seg_doc[segs], seg_doc[segs[:-1][same]]])
    if not len(keys):
        return csr_matrix((n, 0))
    _, cols = np.unique(keys, return_inverse=True)
    counts = csr_matrix((np.ones(len(keys)), (rows, cols.ravel())), shape=(n, int(cols.max()) + 1))
    counts.sum_duplicates()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    present = int(np.count_nonzero(np.diff(counts.indptr)))
    idf = np.log((1.0 + present) / (1.0 + df)) + 1.0
    counts.data = (1.0 + np.log(counts.data)) * idf[counts.indices]
    norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
    counts.data /= np.repeat(np.where(norms > 0, norms, 1.0), np.diff(counts.indptr))
    return counts


def concept_texts(taxonomy: Taxonomy) -> tuple[list[str], list[str]]:
    """(concept label, text) pairs for every category, mechanism and modality concept:
    one for each of its labels and synonyms, and one for its definition, so that a short title
    naming one label is as close to it as a long one."""
    labels, texts = [], []
    for axis in CONCEPT_AXES:
        for c in taxonomy.axis(axis):
            for text in dict.fromkeys([c.label, *c.synonyms, c.definition]):
                if text and text.strip():
                    labels.append(c.label)
                    texts.append(text)
    return labels, texts


def _centroid_similarity(X, mask: np.ndarray, self_dot: np.ndarray) -> np.ndarray:
    """Cosine of every row with the centroid of the rows in `mask`, each masked row left out of it."""
    n = X.shape[0]
    if mask.sum() == 0:
        return np.zeros(n)
    total = np.asarray(X[mask].sum(axis=0)).ravel()
    dot = np.asarray(X @ total).ravel()
    norm2 = float(total @ total)
    num = np.where(mask, dot - self_dot, dot)
    den2 = np.where(mask, norm2 - 2 * dot + self_dot, norm2)
    den = np.sqrt(np.clip(den2, 0.0, None))
    return np.divide(num, den, out=np.zeros(n), where=den > 1e-9)


def _fit(F: np.ndarray, y: np.ndarray) -> tuple[float, ...]:
    """Logistic regression by maximum a posteriori: a Gaussian prior centred on DEFAULT_WEIGHTS
    (precision PRIOR_PRECISION) keeps a small graph near the documented weights, and the signs
    are bounded (similar to in-scope works or the taxonomy: never less relevant; similar to
    excluded works: never more), so a handful of undecided works that happen to be on-topic
    cannot turn the model around. Projected Newton steps (four weights: a 4 x 4 system)."""
    A = np.hstack([np.ones((F.shape[0], 1)), F])
    t = y.astype(float)
    prior = np.array(DEFAULT_WEIGHTS, dtype=float)
    lower = np.array([-np.inf, 0.0, 0.0, -np.inf])
    upper = np.array([np.inf, np.inf, np.inf, 0.0])

    def loss(w):
        z = A @ w
        diff = w - prior
        return float(np.sum(np.logaddexp(0.0, z) - t * z)) + 0.5 * PRIOR_PRECISION * float(diff @ diff)

    w = np.clip(prior.copy(), lower, upper)
    current = loss(w)
    for _ in range(100):
        p = _sigmoid(A @ w)
        grad = A.T @ (p - t) + PRIOR_PRECISION * (w - prior)
        hess = (A * (p * (1 - p))[:, None]).T @ A + PRIOR_PRECISION * np.eye(len(w))
        # weights held at a bound with the gradient pushing outward stay there
        free = ~(((w <= lower) & (grad > 0)) | ((w >= upper) & (grad < 0)))
        step = np.zeros_like(w)
        step[free] = np.linalg.solve(hess[np.ix_(free, free)], grad[free])
        size = 1.0
        while size > 1e-6:
            candidate = np.clip(w - size * step, lower, upper)
            value = loss(candidate)
            if value <= current:
                break
            size /= 2
        else:
            break
        done = abs(current - value) < 1e-9 * max(1.0, abs(current))
        w, current = candidate, value
        if done:
            break
    return tuple(float(x) for x in w)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class RelevanceModel:
    """The texts of a set of works, vectorised once; `score(status)` fits and scores for any
    statuses (the screening simulation rescores after every decision)."""

    def __init__(self, titles: list[str], abstracts: list[str], taxonomy: Taxonomy):
        self.n = n = len(titles)
        vocab = Words()
        docs = []
        for title, abstract in zip(titles, abstracts):
            t = vocab.numbers(title)
            docs.append([t, t, vocab.numbers(abstract, MAX_ABSTRACT_WORDS)])  # the title counts twice
        self.has_text = np.array([any(w >= 0 for seg in doc for w in seg) for doc in docs], dtype=bool)
        self.X = None
        self.self_dot = np.zeros(n)
        self.taxonomy_similarity = np.zeros(n)
        self.concept = [""] * n
        if not self.has_text.any():
            return
        names, ctexts = concept_texts(taxonomy)
        cdocs = [[vocab.numbers(text)] for text in ctexts]
        M = tfidf(docs + cdocs, len(vocab.ids))
        self.X = X = M[:n]
        self.self_dot = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        if cdocs and M.shape[1]:
            sims = (X @ M[n:].T).toarray()
            best = sims.argmax(axis=1)
            self.taxonomy_similarity = sims[np.arange(n), best]
            self.concept = [names[j] if self.taxonomy_similarity[i] > 0 else "" for i, j in enumerate(best)]

    def score(self, status) -> Scored:
        """Relevance of every work. `status` per work: "in" (a positive), "out" (a negative) or
        "undecided"."""
        has_text = self.has_text
        status = np.asarray(status)
        pos = (status == "in") & has_text
        neg = (status == "out") & has_text
        features = np.zeros((self.n, 3))
        features[:, 1] = self.taxonomy_similarity
        if self.X is not None:
            features[:, 0] = _centroid_similarity(self.X, pos, self.self_dot)
            features[:, 2] = _centroid_similarity(self.X, neg, self.self_dot)
        out = Scored(np.zeros(self.n), features, self.concept, has_text, positives=int(pos.sum()),
                     negatives=int(neg.sum()))
        others = has_text & ~pos
        out.fitted = bool(pos.sum() >= MIN_POSITIVES and others.sum() >= MIN_OTHERS)
        weights = _fit(features[has_text], pos[has_text]) if out.fitted else DEFAULT_WEIGHTS
        g = _sigmoid(features @ np.array(weights[1:]) + weights[0])
        c = float(np.clip(g[pos].mean(), *C_RANGE)) if pos.sum() >= MIN_POSITIVES else DEFAULT_C
        if not out.fitted:
            out.notes.append(f"fewer than {MIN_POSITIVES} in-scope works or {MIN_OTHERS} other works to contrast "
                             "them with: default weights")
        g = np.clip(g, 0.0, 1.0 - 1e-9)
        relevance = np.clip((1.0 - c) / c * g / (1.0 - g), 0.0, 1.0)
        relevance[~has_text] = 0.0
        out.relevance, out.weights, out.c = relevance, weights, c
        return out


def score(titles: list[str], abstracts: list[str], status: list[str], taxonomy: Taxonomy) -> Scored:
    """Relevance of every work. `status` per work: "in" (a positive), "out" (a negative) or
    "undecided"."""
    return RelevanceModel(titles, abstracts, taxonomy).score(status)
