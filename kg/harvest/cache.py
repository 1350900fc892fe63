"""The on-disk response cache: <store>/cache/<source>/<2 hex>/<sha256>.json.

A request is keyed by method, full URL and body (never by headers, so an API
key is not part of the key and never written). Entries are written whole to a
temporary file and renamed. Modes: "use" (answer from the cache, fetch and keep
what is missing), "refresh" (always fetch, then keep), "offline" (only the
cache; a miss is an error).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..fileio import write_atomic

MODES = ("use", "refresh", "offline")


class ResponseCache:
    def __init__(self, root: str | Path, mode: str = "use"):
        if mode not in MODES:
            raise ValueError(f"cache mode must be one of {MODES}")
        self.root = Path(root)
        self.mode = mode

    @staticmethod
    def key(method: str, url: str, body: str | None) -> str:
        return hashlib.sha256("\x1f".join((method.upper(), url, body or "")).encode()).hexdigest()

    def _path(self, namespace: str, key: str) -> Path:
        return self.root / namespace / key[:2] / f"{key}.json"

    def get(self, namespace: str, key: str) -> dict | None:
        path = self._path(namespace, key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):  # a damaged entry is a miss, not a failure
            return None
        return data if isinstance(data, dict) and "status" in data and "text" in data else None

    def put(self, namespace: str, key: str, entry: dict) -> None:
        path = self._path(namespace, key)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(entry, ensure_ascii=False))

    def __len__(self) -> int:
        return sum(1 for _ in self.root.glob("*/*/*.json")) if self.root.is_dir() else 0
