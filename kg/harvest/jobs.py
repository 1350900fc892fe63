"""Resumable harvests: a checkpoint folder per harvest under <store>/harvest/.

A harvest is split into units (one search page, one batch of ids, one paper's
references). When a unit is done its records are written whole to a part file
(kg.records.file.write_bundle: temporary file + rename) and only then is the unit
marked done in state.json (also written whole and renamed). A kill at any
moment therefore leaves either the old or the new state, never half a record:
rerunning the same command skips the done units and redoes at most the one that
was in flight (its part file is simply overwritten). The graph sees nothing of
a harvest until it finishes and its records are published (see publish.py).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import time
from pathlib import Path

from ..fileio import write_atomic
from ..records.file import read_bundle, write_bundle
from ..records import Bundle


def _write_json(path: Path, data) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))


class Checkpoint:
    """Progress of one harvest (identified by its source and parameters)."""

    def __init__(self, store: str | Path, source: str, params: dict):
        self.params = params
        digest = hashlib.sha1(json.dumps([source, params], sort_keys=True, default=str).encode()).hexdigest()
        self.id = f"{source}-{digest[:12]}"
        self.dir = Path(store) / "harvest" / self.id
        self.state_file = self.dir / "state.json"
        self.resumed = self.state_file.is_file()
        if self.resumed:
            try:
                self.state = json.loads(self.state_file.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                self.resumed = False
        if not self.resumed:
            self.state = {"source": source, "params": params, "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                          "done": {}, "order": [], "values": {}}
            self.dir.mkdir(parents=True, exist_ok=True)
            _write_json(self.state_file, self.state)

    # ---------------------------------------------------------------- units
    def is_done(self, key: str) -> bool:
        return key in self.state["done"]

    def meta(self, key: str) -> dict:
        return self.state["done"][key]["meta"]

    def _part(self, key: str) -> Path:
        return self.dir / f"part-{hashlib.sha1(key.encode()).hexdigest()[:16]}.jsonl"

    def complete(self, key: str, bundle: Bundle | None = None, meta: dict | None = None) -> None:
        """Records first (atomically), then the state that says the unit is done."""
        part = None
        if bundle is not None and (bundle.works or bundle.citations or bundle.datasets or bundle.sources):
            path = self._part(key)
            write_bundle(path, bundle)
            part = path.name
        self.state["done"][key] = {"part": part, "meta": meta or {}}
        if key not in self.state["order"]:
            self.state["order"].append(key)
        _write_json(self.state_file, self.state)

    def units_done(self) -> int:
        return len(self.state["done"])

    # ---------------------------------------------------------------- values
    def value(self, name: str, default=None):
        return self.state["values"].get(name, default)

    def remember(self, name: str, value) -> None:
        self.state["values"][name] = value
        _write_json(self.state_file, self.state)

    # ---------------------------------------------------------------- results
    def bundle(self, keys: list[str] | None = None) -> Bundle:
        """The records of the done units, in the order they were done."""
        out = Bundle()
        for key in keys if keys is not None else self.state["order"]:
            part = self.state["done"].get(key, {}).get("part")
            if part:
                out.extend(read_bundle(self.dir / part))
        return out

    def finish(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)
