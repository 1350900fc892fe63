"""The trained classifier kept on disk beside a store's graph, keyed by what it was trained on.

Training (TF-IDF + logistic regression per axis, out-of-fold stacking) is most of a
classify run on a large graph, and its result depends only on its inputs: the labelled
works' texts and labels (curated ones included), the lexicon (taxonomy labels and the
graph's dataset names), the taxonomy file, the model's options and the library versions.
`model_key` hashes them; `trained` loads the model saved under that key or trains one and
saves it (<store>/classifier-model.pickle, one model: a new key replaces it). A changed
key (new labelled works, a curation, an edited taxonomy, another kg or scikit-learn
version) retrains.

The file is a pickle written by kg into the store's own folder: like the graph next to it,
it is trusted as the store is. Deleting it only costs the next run a training.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

from ..fileio import write_atomic
from . import model as _model
from .model import Classifier

MODEL_FILE = "classifier-model.pickle"
_FORMAT = 1


def _options() -> dict:
    """What else decides the trained model: its options and the libraries that fit it."""
    import numpy
    import scipy
    import sklearn

    return {"format": _FORMAT, "agent": _model.AGENT, "C": _model.MODEL_C, "prior": _model.STACK_PRIOR,
            "min_stack": _model.MIN_STACK_PAPERS, "folds": _model.FOLDS,
            "stack": {k: list(v) for k, v in _model.DEFAULT_STACK.items()},
            "versions": [sklearn.__version__, numpy.__version__, scipy.__version__]}


def model_key(training: str, taxonomy_file: Path | None, encoder=None) -> str:
    """The cache key: `training` (a fingerprint of the labelled works and the lexicon,
    kg.classify.model.fingerprint), the taxonomy file's bytes, the options, the encoder."""
    h = hashlib.sha1(training.encode())
    if taxonomy_file is not None and Path(taxonomy_file).is_file():
        h.update(hashlib.sha1(Path(taxonomy_file).read_bytes()).digest())
    h.update(json.dumps(_options(), sort_keys=True).encode())
    h.update(("encoder:" + getattr(encoder, "name", "embeddings") if encoder is not None else "tfidf").encode())
    return h.hexdigest()[:20]


def load(store_path: Path, key: str) -> Classifier | None:
    """The model saved under `key`, or None (none saved, another key, unreadable)."""
    path = Path(store_path) / MODEL_FILE
    try:
        with path.open("rb") as fh:
            saved = pickle.load(fh)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError):
        return None
    if not isinstance(saved, dict) or saved.get("key") != key or not isinstance(saved.get("model"), Classifier):
        return None
    return saved["model"]


def save(store_path: Path, key: str, clf: Classifier) -> None:
    encoder = clf.encoder
    clf.encoder = None  # the encoder is loaded again by the caller; its weights stay out of the file
    try:
        data = pickle.dumps({"key": key, "model": clf}, protocol=pickle.HIGHEST_PROTOCOL)
    finally:
        clf.encoder = encoder
    write_atomic(Path(store_path) / MODEL_FILE, data)


def trained(store_path: Path, key: str, train, *, encoder=None, review_threshold: float,
            retrain: bool = False) -> tuple[Classifier, bool]:
    """(the model for `key`, whether it came from the cache): loaded when saved under `key`
    (and not `retrain`), else `train()` and saved."""
    clf = None if retrain else load(store_path, key)
    if clf is not None:
        clf.encoder = encoder
        clf.review_threshold = review_threshold
        return clf, True
    clf = train()
    save(store_path, key, clf)
    return clf, False
