"""Putting harvested or imported records into a store: merge, write atomically.

Each harvester keeps one record file (<store>/records/<name>.jsonl). A new
harvest replaces that file's older records of the same works (re-harvesting
updates, never duplicates), keeps the rest, and the file is written whole and
renamed under a lock. The caller then has kg.pipeline.after_records make a new graph
generation (harvest and import never build the graph themselves).

Each imported file is a source of its own: its id comes from the file's name and a
short hash of its resolved path (or from --source-id), and its records live in
<store>/records/<source id>.jsonl. Importing the same file again replaces that file's
records and says what was added, changed and removed; another file, even one with the
same name, never touches them. An id of a bundled source, of a harvest's record file
or of another input's source is refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..records.corpus import read_corpus
from ..errors import KgError, UsageError
from ..fileio import file_lock
from ..records.labels import CURATION_PREFIX, PREDICTION_PREFIX
from ..records.file import holds, read_bundle, write_bundle
from ..records import Bundle, Citation, Work, to_dict
from ..records.resolve import compatible, is_strong_key, keys_of, ref_key, strong_ids
from ..store import Store
from ..rdf.taxonomy import read_taxonomy
from ..vocab import slug

# Record files other writers own (harvests, the classifier, kg bench): never an import's source id.
RESERVED_NAMES = frozenset({"arxiv", "s2", "openalex", "classifier", "curation", "bench"})
_SOURCE_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,99}")


@dataclass
class Known:
    """What the graph's inputs already hold, apart from one record file."""

    keys: set[str] = field(default_factory=set)  # every work key in any input
    placed: set[str] = field(default_factory=set)  # keys of works that are not candidates
    idents: dict[str, list[dict]] = field(default_factory=dict)  # key -> strong ids of the works holding it
    placed_idents: dict[str, list[dict]] = field(default_factory=dict)

    def add(self, work: Work, keys: list[str]) -> None:
        ident = strong_ids(work)
        tables = [(self.idents, self.keys)]
        if not work.candidate:
            tables.append((self.placed_idents, self.placed))
        for table, keyset in tables:
            keyset.update(keys)
            for key in keys:
                held = table.setdefault(key, [])
                if ident not in held:
                    held.append(ident)

    @staticmethod
    def _fits(table: dict[str, list[dict]], work: Work) -> bool:
        """A key of `work` is held by a work whose strong ids do not contradict its own."""
        ident = strong_ids(work)
        return any(compatible(ident, other) for k in keys_of(work) for other in table.get(k, ()))

    def matches(self, work: Work) -> bool:
        return self._fits(self.idents, work)

    def is_placed(self, work: Work) -> bool:
        return self._fits(self.placed_idents, work)

    def has_ref(self, ref: str) -> bool:
        return ref_key(ref) in self.keys


def _lookup_keys(work: Work) -> list[str]:
    keys = keys_of(work)
    return keys + [k.split("|")[0] for k in keys if k.startswith("title:") and "|" in k]


def _inputs(store: Store | str | Path) -> list[tuple[str | None, Bundle]]:
    """(record file name or None for the project's corpus, its records), in build order."""
    store = Store.at(store)
    inputs: list[tuple[str | None, Bundle]] = []
    if store.project.corpus_dir is not None:
        taxonomy = read_taxonomy(store.project.taxonomy_file)
        inputs.append((None, read_corpus(store.project.corpus_dir, taxonomy.vocabulary())))
    records = store.records_dir
    if records.is_dir():
        for path in sorted(records.glob("*.jsonl")):
            inputs.append((path.stem, read_bundle(path)))
    return inputs


def known_works(store: Store | str | Path, exclude: str | None = None, inputs=None) -> tuple[Known, Known]:
    """(everything, everything but the record file `exclude`) from the bundled corpus + record files."""
    every, others = Known(), Known()
    for name, bundle in inputs if inputs is not None else _inputs(store):
        for work in bundle.works:
            keys = _lookup_keys(work)
            for known in (every,) if name is not None and name == exclude else (every, others):
                known.add(work, keys)
    return every, others


# ---------------------------------------------------------------- sources of imports
def import_source_id(kind: str, file: str | Path, explicit: str | None = None) -> str:
    """The source id of an imported file: `explicit` (checked), else '<kind>-<file name>-<hash of its
    resolved path>', so two files with one name in different folders are two sources."""
    if explicit is not None:
        text = explicit.strip()
        if not _SOURCE_ID.fullmatch(text):
            raise UsageError(f"the source id {explicit!r} can use lowercase letters, digits, '.', '-' and '_' "
                             "(at most 100, starting with a letter or digit)", field="source_id")
        return text
    resolved = Path(file).expanduser().resolve()
    digest = hashlib.sha1(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{kind}-{slug(resolved.stem, limit=40)}-{digest}"


IMPORT_KINDS = ("awesome", "bibtex", "ris", "csljson")


def read_import(store: Store | str | Path, kind: str, path: str | Path, source_id: str):
    """Read an import file with its importer (an awesome list against the store's taxonomy and
    the works it knows already); the records are not published. `kg import` and `kg update`
    both read their files here."""
    store = Store.at(store)
    if kind == "awesome":
        from ..importers.awesome import import_awesome

        every, _ = known_works(store, exclude=source_id)
        return import_awesome(path, taxonomy=read_taxonomy(store.project.taxonomy_file), has_ref=every.has_ref,
                              source_id=source_id)
    if kind == "bibtex":
        from ..importers.bibtex import import_bibtex as run
    elif kind == "ris":
        from ..importers.ris import import_ris as run
    elif kind == "csljson":
        from ..importers.csljson import import_csljson as run
    else:
        raise UsageError(f"unknown import kind {kind!r}; valid: {', '.join(IMPORT_KINDS)}", field="kind")
    return run(path, source_id=source_id)


def url_source_id(kind: str, url: str, explicit: str | None = None) -> str:
    """The source id of a list imported from a URL: `explicit` (checked), else '<kind>-<file name>-<hash
    of the URL>', stable for one URL."""
    if explicit is not None:
        return import_source_id(kind, url, explicit)
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    stem = Path(unquote(parts.path)).stem or parts.netloc
    digest = hashlib.sha1(url.encode("utf-8", "surrogateescape")).hexdigest()[:8]
    return f"{kind}-{slug(stem, limit=40)}-{digest}"


def check_source_id(source_id: str, inputs: list[tuple[str | None, Bundle]]) -> None:
    """Refuse an import source id that names anything but the import's own record file."""
    if source_id in RESERVED_NAMES or source_id.startswith((CURATION_PREFIX, PREDICTION_PREFIX)):
        raise UsageError(f"source id {source_id!r} is reserved (harvests, the classifier and curation use it); "
                         "choose another source id", field="source_id")
    for name, bundle in inputs:
        ids = {s.id for s in bundle.sources} | {s for w in bundle.works for s in w.sources}
        if name is None and source_id in ids:
            raise UsageError(f"source id {source_id!r} is a bundled source's; choose another source id", field="source_id")
        if name == source_id and ids - {source_id}:
            raise UsageError(f"records/{name}.jsonl holds other sources' records ({', '.join(sorted(ids - {source_id})[:3])}); "
                             "choose another source id", field="source_id")
        if name is not None and name != source_id and source_id in ids:
            raise UsageError(f"source id {source_id!r} is already used by records/{name}.jsonl; "
                             "choose another source id", field="source_id")


def legacy_import(store: Store | str | Path, legacy_id: str, source_id: str) -> str | None:
    """A note when an import made before source ids had a path hash (records/<kind>-<name>.jsonl) is
    still there: it may hold this file's older records, or another file's of the same name."""
    if legacy_id == source_id:
        return None
    path = Store.at(store).records_dir / f"{legacy_id}.jsonl"
    if not path.is_file():
        return None
    try:
        ids = {s.id for s in read_bundle(path).sources}
    except KgError:
        return None
    if ids != {legacy_id}:
        return None
    return (f"records/{legacy_id}.jsonl (source {legacy_id!r}) holds an earlier import of a file with this name; "
            f"it is kept. Delete it and run `kg build` if this import replaces it")


@contextlib.contextmanager
def records_lock(store: Store | str | Path):
    folder = Store.at(store).records_dir
    folder.mkdir(parents=True, exist_ok=True)
    with file_lock(folder / ".lock"):
        yield


def same_work(a: Work, b: Work) -> bool:
    """Two records of one work: they share a strong id, or a weak key (citation key, title) while one of
    them has no strong id; and no strong id of theirs contradicts the other's (kg.records.resolve)."""
    ia, ib = strong_ids(a), strong_ids(b)
    if not compatible(ia, ib):
        return False
    shared = set(keys_of(a)) & set(keys_of(b))
    return any(is_strong_key(k) for k in shared) or bool(shared and not (ia and ib))


def dedupe_works(works: list[Work]) -> list[Work]:
    """One record per work within one harvest (first wins, later ones fill its gaps). Records merge
    by a shared strong id only, and never when another strong id contradicts (kg.records.resolve)."""
    out: list[Work] = []
    owner: dict[str, list[Work]] = {}
    for work in works:
        keys = [k for k in keys_of(work) if is_strong_key(k)]
        ident = strong_ids(work)
        first = next((w for k in keys for w in owner.get(k, ()) if compatible(strong_ids(w), ident)), None)
        if first is None:
            out.append(work)
            for k in keys:
                owner.setdefault(k, []).append(work)
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
            if is_strong_key(k) and first not in owner.setdefault(k, []):
                owner[k].append(first)
    return out


def _index(works: list[Work]) -> dict[str, list[int]]:
    index: dict[str, list[int]] = {}
    for i, work in enumerate(works):
        for key in dict.fromkeys(keys_of(work)):
            index.setdefault(key, []).append(i)
    return index


def _replaced(old: list[Work], new: list[Work]) -> dict[int, int]:
    """{index of an old record: index of the new record of the same work} (each paired once, in order)."""
    index = _index(old)
    pairs: dict[int, int] = {}
    for j, work in enumerate(new):
        for key in keys_of(work):
            i = next((i for i in index.get(key, ()) if i not in pairs and same_work(old[i], work)), None)
            if i is not None:
                pairs[i] = j
                break
    return pairs


def merge_into(path: Path, new: Bundle) -> Bundle:
    """Old records of `path` that the new bundle does not replace, plus the new ones."""
    old = read_bundle(path) if path.is_file() else Bundle()
    replaced = _replaced(old.works, new.works)
    kept = [w for i, w in enumerate(old.works) if i not in replaced]
    # a work found again exactly as it was keeps its record (and the run that first found it):
    # a harvest that finds nothing new leaves the file as it was, so nothing is rebuilt
    again = {j: old.works[i] for i, j in replaced.items() if _same_apart_from_source(old.works[i], new.works[j])}
    works = kept + [again.get(j, w) for j, w in enumerate(new.works)]
    seen_cites = set()
    citations: list[Citation] = []
    for cit in old.citations + new.citations:
        pair = (ref_key(cit.citing), ref_key(cit.cited))
        if pair not in seen_cites:
            seen_cites.add(pair)
            citations.append(cit)
    new_names = {d.name.lower() for d in new.datasets}
    old_by_name = {d.name.lower(): d for d in old.datasets}
    datasets = [d for d in old.datasets if d.name.lower() not in new_names] + [
        old_by_name[d.name.lower()] if d.name.lower() in old_by_name
        and _same_apart_from_source(old_by_name[d.name.lower()], d) else d for d in new.datasets]
    used = {s for w in works for s in w.sources} | {c.source for c in citations} \
        | {s for d in datasets for s in d.sources} | {lab.source for w in works for lab in w.labels}
    sources, seen_sources = [], set()
    for src in new.sources + old.sources:
        if src.id in used and src.id not in seen_sources:
            seen_sources.add(src.id)
            sources.append(src)
    return Bundle(sources=sources, works=works, datasets=datasets, citations=citations)


def _same_apart_from_source(old, new) -> bool:
    """The same record but for which harvest run it names as its source (and when labels were made).

    A work kept as a candidate that another input has placed since stays as it was: the graph
    places it either way (kg.rdf.quads types a candidate only while nothing places it); one that
    becomes a candidate now is a change."""
    if getattr(new, "candidate", False) and not getattr(old, "candidate", False):
        return False

    def plain(record) -> dict:
        data = to_dict(record)
        for key in ("sources", "candidate"):
            data.pop(key, None)
        data["labels"] = [{k: v for k, v in label.items() if k not in ("at", "source")}
                          for label in data.get("labels", [])]
        return data
    return plain(old) == plain(new)


def work_ref(work: Work) -> str:
    """A work's strongest identifier as a ref ('arxiv:2406.09400', 'cite:smith2020', 'title:...')."""
    for kind in ("arxiv", "doi", "s2", "openalex", "corpus", "cite", "url"):
        if work.ids.get(kind):
            return f"{kind}:{work.ids[kind]}"
    return f"title:{work.title}"


def _comparable(work: Work) -> dict:
    data = to_dict(work)
    data.pop("candidate", None)
    for label in data.get("labels", []):
        label.pop("at", None)  # the import's date: not a change of the record
    return data


@dataclass
class Changes:
    """What a record file gained and lost: works added, changed, unchanged, and the refs of those removed."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"added": self.added, "changed": self.changed, "unchanged": self.unchanged,
                "removed": len(self.removed), "removed_ids": self.removed}


def changes_between(old: list[Work], new: list[Work]) -> Changes:
    pairs = _replaced(old, new)
    out = Changes(added=len(new) - len(pairs),
                  removed=[work_ref(w) for i, w in enumerate(old) if i not in pairs])
    for i, j in pairs.items():
        if _comparable(old[i]) == _comparable(new[j]):
            out.unchanged += 1
        else:
            out.changed += 1
    return out


@dataclass
class Published:
    added: int
    updated: int
    candidates: int
    citations: int
    records_file: str
    build: object | None = None  # kg.build.BuildReport of the rebuild that followed (set by the caller)
    changes: Changes | None = None  # the record file's works before and after
    source_id: str | None = None
    notes: list[str] = field(default_factory=list)


def publish_records(store: Store | str | Path, name: str, bundle: Bundle, *, replace: bool = False,
                    mark_candidates: bool = True, check_source: bool = False) -> Published:
    """Merge `bundle` into <store>/records/<name>.jsonl (or replace the file). The graph is not
    touched: the caller has kg.pipeline build it again (`after_records`).

    New works that match nothing already placed in the graph are marked candidates
    (`mark_candidates`, for harvests): known to the graph, not yet in the taxonomy.
    With `check_source` (imports), `name` is the import's source id and is refused when it
    names a bundled source, a reserved record file or another input's source.
    """
    store = Store.at(store)
    path = store.records_dir / f"{name}.jsonl"
    with records_lock(store):
        inputs = _inputs(store)
        if check_source:
            check_source_id(name, inputs)
        old = next((b for n, b in inputs if n == name), Bundle())
        every, others = known_works(store, exclude=name, inputs=inputs)
        added = updated = 0
        for work in bundle.works:
            if every.matches(work):
                updated += 1
            else:
                added += 1
            if mark_candidates:
                work.candidate = not others.is_placed(work)
        merged = bundle if replace else merge_into(path, bundle)
        changes = changes_between(old.works, merged.works)
        try:
            if not holds(path, merged):  # the same records again: the file (and the graph) stay as they are
                write_bundle(path, merged)
        except OSError as exc:
            raise KgError(f"cannot write {path}: {exc}") from None
    return Published(added, updated, sum(1 for w in bundle.works if w.candidate), len(bundle.citations),
                     str(path), None, changes, name if check_source else None)
