"""People's label decisions: <store>/curation.yaml.

`kg curate PAPER --category C --mechanism M ...` (and the app) append one
decision per call; the file is plain YAML a person may also edit. `kg build`
reads it every time, so decisions survive rebuilds, and curated labels win over
the survey table, the list and the classifier on their axis (see kg.labels:
source ids starting with "curation"; the latest decision on an axis wins).
Each decision keeps the work's identifiers and title, so it attaches to the
same work after any rebuild.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import fcntl
import getpass
import os
from pathlib import Path

import yaml

from .. import ids
from ..corpus import read_yaml
from ..errors import CorpusError, KgError, UsageError
from ..recordfile import remove_stale_temp_files
from ..records import Bundle, Label, Source, Work
from ..taxonomy import LABEL_AXIS_SCHEME, Taxonomy

SOURCE = Source(
    id="curation",
    title="People's label decisions (curation.yaml)",
    agent="kg curators",
    note="Written by `kg curate` and the app; curated labels win over every other source on their axis.",
)
# decision key -> (label axis, single-valued)
AXES = {
    "category": ("category", True),
    "mechanism": ("mechanism", False),
    "input_modality": ("input_modality", False),
    "output_modality": ("output_modality", False),
    "method": ("method", False),
}
HEADER = """\
# kg curation: people's label decisions, one entry per `kg curate` call.
# `kg build` reads this file on every build; curated labels win over the survey table,
# the awesome list and the classifier on their axis (the latest decision per axis wins).
# Values are the taxonomy's notations (ontology/taxonomy.ttl). Safe to edit by hand.
"""


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def default_curator() -> str:
    try:
        return os.environ.get("KG_CURATOR") or getpass.getuser()
    except (KeyError, OSError):
        return "curator"


# ---------------------------------------------------------------- reading
def read_decisions(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    doc = read_yaml(path)
    if doc is None:
        return []
    if not isinstance(doc, dict) or not isinstance(doc.get("decisions", []), list):
        raise CorpusError(path, None, "expected a mapping with a 'decisions:' list")
    return doc.get("decisions") or []


def read_curation(path: Path, vocabulary: dict[str, set[str]]) -> Bundle:
    """The curation file as records (empty when there is no file)."""
    decisions = read_decisions(path)
    if not decisions:
        return Bundle()
    bundle = Bundle(sources=[SOURCE])
    for i, d in enumerate(decisions):
        where = f"decision #{i + 1}" + (f" ({d.get('paper')})" if isinstance(d, dict) and d.get("paper") else "")
        if not isinstance(d, dict):
            raise CorpusError(path, where, "must be a mapping")
        work_ids = d.get("work") or {}
        if not work_ids and not d.get("title") and d.get("paper") is not None:
            parsed = ids.parse_any(str(d["paper"]))  # a hand-written decision: `paper: 2406.09400`
            work_ids = {parsed[0]: parsed[1]} if parsed else {}
        if not isinstance(work_ids, dict) or not (work_ids or d.get("title")):
            raise CorpusError(path, where, "needs 'work:' identifiers, a 'title', or a 'paper:' identifier "
                                           "(arXiv id, DOI, S2 or OpenAlex id) to attach to")
        labels = []
        for key, (axis, single) in AXES.items():
            values = d.get(key)
            if values is None:
                continue
            values = [values] if isinstance(values, str) else values
            if not isinstance(values, list) or (single and len(values) != 1):
                raise CorpusError(path, where, f"'{key}' must be {'one value' if single else 'a list of values'}")
            allowed = vocabulary.get(LABEL_AXIS_SCHEME[axis], set())
            for value in values:
                if value not in allowed:
                    raise CorpusError(path, where, f"unknown {key} {value!r}; valid: {', '.join(sorted(allowed))}")
                labels.append(Label(axis, str(value), SOURCE.id, 1.0, agent=str(d.get("by") or "curator"),
                                    at=str(d["at"]) if d.get("at") else None,
                                    evidence=str(d["note"]) if d.get("note") else "curated decision"))
        if not labels:
            raise CorpusError(path, where, f"sets no label (give one of: {', '.join(AXES)})")
        year = d.get("year")
        bundle.works.append(Work(ids={str(k): str(v) for k, v in work_ids.items()}, sources=[SOURCE.id],
                                 title=d.get("title"), year=year if isinstance(year, int) else None,
                                 labels=labels))
    return bundle


# ---------------------------------------------------------------- finding the paper
def find_work(works, paper: str):
    """The graph work a user means by PAPER: an id (arXiv, DOI, S2, OpenAlex), citation key,
    short name, IRI or exact title."""
    text = paper.strip()
    if not text:
        raise UsageError("give the paper: an arXiv id, DOI, S2 id, citation key, short name, IRI or title")
    parsed = ids.parse_any(text)
    folded = text.casefold()
    norm_title = ids.normalise_title(text)
    found = []
    for w in works:
        if w.iri == text or (parsed and w.ids.get(parsed[0]) == parsed[1]):
            found.append(w)
        elif folded in {(w.ids.get("cite") or "").casefold(), (w.short_name or "").casefold()}:
            found.append(w)
        elif norm_title and ids.normalise_title(w.title) == norm_title:
            found.append(w)
    if not found:
        raise KgError(f"no paper matches {paper!r} in the graph",
                      hint="Find it with `kg query --name papers` (ids, citation keys and titles all work).")
    if len(found) > 1:
        names = "; ".join(f"{w.display} <{w.iri}>" for w in found[:5])
        raise UsageError(f"{paper!r} matches {len(found)} papers: {names}", hint="Give its IRI or an identifier.")
    return found[0]


def validate_labels(labels: dict[str, list[str]], taxonomy: Taxonomy) -> dict[str, list[str]]:
    out = {}
    for key, values in labels.items():
        if not values:
            continue
        axis, single = AXES[key]
        if single and len(values) > 1:
            raise UsageError(f"a paper has one {key}; got {', '.join(values)}")
        allowed = sorted(taxonomy.vocabulary().get(LABEL_AXIS_SCHEME[axis], set()))
        for value in values:
            if value not in allowed:
                raise UsageError(f"unknown {key.replace('_', ' ')} {value!r}; valid: {', '.join(allowed)}")
        out[key] = list(dict.fromkeys(values))
    if not out:
        raise UsageError("say what to record: --category, --mechanism, --input-modality, --output-modality or --method")
    return out


# ---------------------------------------------------------------- writing
@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name("." + path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def append_decision(path: Path, decision: dict) -> None:
    """Add one decision to the curation file (whole file rewritten atomically, under a lock)."""
    with _locked(path):
        decisions = read_decisions(path)
        decisions.append(decision)
        text = HEADER + yaml.safe_dump({"decisions": decisions}, sort_keys=False, allow_unicode=True, width=100)
        remove_stale_temp_files(path.parent, f"{path.name}.*.tmp")  # left by a writer that died
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException as exc:  # the file keeps every earlier decision; no half-written copy is left
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, OSError):
                full = "the disk is full: " if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
                raise KgError(f"{full}cannot write {path} ({exc.strerror or exc}); the decision was not "
                              "recorded and the file keeps its earlier decisions") from None
            raise


def curate(store: str | Path, paper: str, labels: dict[str, list[str]], *, by: str | None = None,
           note: str | None = None, rebuild: bool = True) -> dict:
    """Record a person's decision about one paper's labels; rebuild the graph so it shows."""
    from ..build import build
    from ..store import LocalGraph, StoreDir
    from ..taxonomy import read_taxonomy
    from .data import read_works
    from .run import local_store

    local_store(store)  # the curation file lives beside a local store
    graph = LocalGraph(store)
    work = find_work(read_works(graph), paper)
    labels = validate_labels(labels, read_taxonomy())
    decision = {"paper": paper, "work": dict(work.ids), "title": work.title or None, "year": work.year,
                "by": by or default_curator(), "at": now(), **labels}
    if note:
        decision["note"] = note
    decision = {k: v for k, v in decision.items() if v not in (None, {}, "")}
    if not decision.get("work") and not decision.get("title"):
        raise KgError(f"{work.display} has no identifier or title a decision could attach to")
    append_decision(StoreDir(store).curation_file, decision)
    if rebuild:
        build(store)
    return {"work": work.iri, "display": work.display, **decision}
