"""Putting harvested or imported records into a store: merge, write atomically, rebuild.

Each harvester keeps one record file (<store>/records/<name>.jsonl). A new
harvest replaces that file's older records of the same works (re-harvesting
updates, never duplicates), keeps the rest, and the file is written whole and
renamed under a lock. Then kg.build.build makes a new graph generation.
"""

from __future__ import annotations

import contextlib
import fcntl
from dataclasses import dataclass, field
from pathlib import Path

from ..corpus import load_corpus
from ..errors import KgError
from ..paths import corpus_dir, ontology_dir
from ..recordfile import read_bundle, write_bundle
from ..records import Bundle, Citation, Work
from ..resolve import keys_of, ref_key
from ..store import StoreDir
from ..taxonomy import read_taxonomy


@dataclass
class Known:
    """What the graph's inputs already hold, apart from one record file."""

    keys: set[str] = field(default_factory=set)  # every work key in any input
    placed: set[str] = field(default_factory=set)  # keys of works that are not candidates

    def matches(self, work: Work) -> bool:
        return any(k in self.keys for k in keys_of(work))

    def is_placed(self, work: Work) -> bool:
        return any(k in self.placed for k in keys_of(work))

    def has_ref(self, ref: str) -> bool:
        return ref_key(ref) in self.keys


def _lookup_keys(work: Work) -> list[str]:
    keys = keys_of(work)
    return keys + [k.split("|")[0] for k in keys if k.startswith("title:") and "|" in k]


def known_works(store: str | Path, exclude: str | None = None) -> tuple[Known, Known]:
    """(everything, everything but the record file `exclude`) from the bundled corpus + record files."""
    taxonomy = read_taxonomy(ontology_dir() / "taxonomy.ttl")
    every, others = Known(), Known()
    inputs: list[tuple[str | None, Bundle]] = [(None, load_corpus(corpus_dir(), taxonomy.vocabulary()))]
    records = StoreDir(store).records_dir
    if records.is_dir():
        for path in sorted(records.glob("*.jsonl")):
            inputs.append((path.stem, read_bundle(path)))
    for name, bundle in inputs:
        for work in bundle.works:
            keys = _lookup_keys(work)
            for known in (every,) if name is not None and name == exclude else (every, others):
                known.keys.update(keys)
                if not work.candidate:
                    known.placed.update(keys)
    return every, others


@contextlib.contextmanager
def records_lock(store: str | Path):
    folder = StoreDir(store).records_dir
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def dedupe_works(works: list[Work]) -> list[Work]:
    """One record per work within one harvest (first wins, later ones fill its gaps)."""
    out: list[Work] = []
    owner: dict[str, Work] = {}
    for work in works:
        keys = keys_of(work)
        first = next((owner[k] for k in keys if k in owner), None)
        if first is None:
            out.append(work)
            for k in keys:
                owner[k] = work
            continue
        for kind, value in work.ids.items():
            first.ids.setdefault(kind, value)
        for attr in ("title", "abstract", "year", "date", "venue", "code", "page", "pdf",
                     "citation_count", "tldr"):
            if getattr(first, attr) in (None, "") and getattr(work, attr) not in (None, ""):
                setattr(first, attr, getattr(work, attr))
        if not first.authors and work.authors:
            first.authors = work.authors
        first.fields_of_study = list(dict.fromkeys(first.fields_of_study + work.fields_of_study))
        first.sources = list(dict.fromkeys(first.sources + work.sources))
        first.candidate = first.candidate and work.candidate
        for k in keys_of(first):
            owner.setdefault(k, first)
    return out


def merge_into(path: Path, new: Bundle) -> Bundle:
    """Old records of `path` that the new bundle does not replace, plus the new ones."""
    old = read_bundle(path) if path.is_file() else Bundle()
    new_keys = {k for w in new.works for k in keys_of(w)}
    kept = [w for w in old.works if not any(k in new_keys for k in keys_of(w))]
    works = kept + new.works
    seen_cites = set()
    citations: list[Citation] = []
    for cit in old.citations + new.citations:
        pair = (ref_key(cit.citing), ref_key(cit.cited))
        if pair not in seen_cites:
            seen_cites.add(pair)
            citations.append(cit)
    new_names = {d.name.lower() for d in new.datasets}
    datasets = [d for d in old.datasets if d.name.lower() not in new_names] + new.datasets
    used = {s for w in works for s in w.sources} | {c.source for c in citations} \
        | {s for d in datasets for s in d.sources} | {lab.source for w in works for lab in w.labels}
    sources, seen_sources = [], set()
    for src in new.sources + old.sources:
        if src.id in used and src.id not in seen_sources:
            seen_sources.add(src.id)
            sources.append(src)
    return Bundle(sources=sources, works=works, datasets=datasets, citations=citations)


@dataclass
class Published:
    added: int
    updated: int
    candidates: int
    citations: int
    records_file: str
    build: object | None = None  # kg.build.BuildReport


def publish(store: str | Path, name: str, bundle: Bundle, *, replace: bool = False, build: bool = True,
            mark_candidates: bool = True) -> Published:
    """Merge `bundle` into <store>/records/<name>.jsonl (or replace the file), then rebuild the graph.

    New works that match nothing already placed in the graph are marked candidates
    (`mark_candidates`, for harvests): known to the graph, not yet in the taxonomy.
    """
    path = StoreDir(store).records_dir / f"{name}.jsonl"
    with records_lock(store):
        every, others = known_works(store, exclude=name)
        added = updated = 0
        for work in bundle.works:
            if every.matches(work):
                updated += 1
            else:
                added += 1
            if mark_candidates:
                work.candidate = not others.is_placed(work)
        merged = bundle if replace else merge_into(path, bundle)
        try:
            write_bundle(path, merged)
        except OSError as exc:
            raise KgError(f"cannot write {path}: {exc}") from None
    report = None
    if build:
        from ..build import build as run_build

        report = run_build(store)
    return Published(added, updated, sum(1 for w in bundle.works if w.candidate), len(bundle.citations),
                     str(path), report)
