"""What `kg classify` needs to know of every work, kept by the build beside each generation.

To find the works that are new or changed since its last run, the classifier compares a key
per work: a hash of its title and abstract, whether it is a survey, its scope status and
relevance, and its labels from every source but the classifier (what decides the axes it
labels). Reading those from the graph means reading every work's text (tens of seconds at
100,000 papers); the build writes them instead, as it writes each work, into the generation
folder (KEYS_FILE, compact JSON, about 100 bytes a work), and the classifier reads that file.
A generation without it (built by an older kg, or a graph being built) is read in full.

The rows say what the graph says: the title and abstract a work's quads hold, labels whose
concept is in the taxonomy with their confidence as written (4 decimals) and their time.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..records.labels import LABEL_AXIS_SCHEME, effective_labels, is_predicted

KEYS_FILE = "kg-classify-keys.json"
_FORMAT = 1


def text_key(title: str | None, abstract: str | None) -> str:
    """A work's text as the classifier's fingerprints name it."""
    return hashlib.sha1(f"{title or ''}\x01{abstract or ''}".encode()).hexdigest()[:16]


class KeyTable:
    """The rows a build collects, a work at a time (kg.classify.scope.ScopingWriter)."""

    def __init__(self, taxonomy):
        self.taxonomy = taxonomy
        self.rows: dict[str, list] = {}

    def work(self, node, sources: dict) -> None:
        title, abstract = node.first("title") or "", node.first("abstract") or ""
        labels = []
        for rec in node.records:
            for lab in rec.labels:
                if is_predicted(lab) or self.taxonomy.get(LABEL_AXIS_SCHEME.get(lab.axis, ""), lab.value) is None:
                    continue
                src = sources.get(lab.source)
                labels.append(type(lab)(lab.axis, lab.value, lab.source, round(float(lab.confidence), 4),
                                        agent=lab.agent, at=lab.at or (src.retrieved if src else None)))
        given = effective_labels(labels)
        self.rows[node.iri] = [text_key(title, abstract), bool(title.strip() or abstract.strip()),
                               any(r.is_survey for r in node.records), given, None, None]

    def scope(self, iri: str, status: str, relevance: float | None) -> None:
        row = self.rows.get(iri)
        if row is not None:
            row[4], row[5] = status, (float(f"{relevance:.4f}") if relevance is not None else None)

    def dumps(self) -> bytes:
        return json.dumps({"format": _FORMAT, "works": self.rows}, ensure_ascii=False,
                          separators=(",", ":")).encode()


class WorkKey:
    __slots__ = ("iri", "text", "has_text", "review", "given", "scope", "relevance")

    def __init__(self, iri: str, row: list):
        self.iri = iri
        self.text, self.has_text, self.review, self.given, self.scope, self.relevance = row


def read(graph) -> list[WorkKey] | None:
    """The keys the build kept beside the graph's generation, or None (none kept, unreadable)."""
    folder = getattr(graph, "generation", None)
    if folder is None:
        return None
    try:
        data = json.loads((Path(folder) / KEYS_FILE).read_text(encoding="utf-8"))
        if data.get("format") != _FORMAT:
            return None
        return [WorkKey(iri, row) for iri, row in data["works"].items()]
    except (OSError, ValueError, TypeError, AttributeError, KeyError):
        return None
