"""People's decisions: <store>/curation.yaml.

`kg curate PAPER --category C --mechanism M ...` (and the app) append one
decision per call; the file is plain YAML a person may also edit. `kg build`
reads it every time, so decisions survive rebuilds, and curated labels win over
the survey table, the list and the classifier on their axis (see kg.records.labels:
source ids starting with "curation"; the latest decision on an axis wins).
Each decision keeps the work's identifiers and title, so it attaches to the
same work after any rebuild.

Scope decisions (`kg screen --include/--exclude`, `kg curate --exclude`, the app's
screening page) go to the same file: `scope: include` or `scope: exclude`, with who,
when and an optional `reason`. The last scope decision about a work wins (see kg.classify.scope).
"""

from __future__ import annotations

import datetime as dt
import errno
import getpass
import os
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..records import ids
from ..records.corpus import read_yaml
from ..errors import CorpusError, KgError, UsageError
from ..fileio import file_lock, remove_stale_temp_files, write_atomic
from ..records import Bundle, Label, Source, Work
from ..rdf.taxonomy import Taxonomy
from ..records.labels import LABEL_AXIS_SCHEME
from .entities import ENTITY_ACTIONS, KINDS, EntityDecision, is_entity_decision
from .mentions import entity_key

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
SCOPE_VALUES = ("include", "exclude")
HEADER = """\
# kg curation: people's decisions, one entry per `kg curate` / `kg screen` call.
# `kg build` reads this file on every build; curated labels win over the survey table,
# the awesome list and the classifier on their axis (the latest decision per axis wins).
# Values are the taxonomy's notations (ontology/taxonomy.ttl). `scope: include` or
# `scope: exclude` (with an optional `reason`) says whether a work belongs to the survey's
# field; the last such decision about a work wins. Safe to edit by hand.
"""


@dataclass
class ScopeDecision:
    """A person's include / exclude decision about one work."""

    decision: str  # include | exclude
    ids: dict[str, str]
    title: str | None = None
    year: int | None = None
    by: str = "curator"
    at: str | None = None
    reason: str | None = None
    paper: str | None = None  # as the person named it
    index: int = 0  # position in the file (0-based): a later decision wins
    line: int | None = None


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


def decision_lines(path: Path) -> list[int]:
    """The line (1-based) each decision of the file starts on (empty when it cannot tell)."""
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if getattr(key, "value", None) == "decisions" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def _where(i: int, d, lines: list[int]) -> str:
    return (f"decision #{i + 1}" + (f" ({d.get('paper')})" if isinstance(d, dict) and d.get("paper") else "")
            + (f" at line {lines[i]}" if i < len(lines) else ""))


def _work_ids(path: Path, where: str, d: dict) -> dict:
    work_ids = d.get("work") or {}
    if not work_ids and not d.get("title") and d.get("paper") is not None:
        parsed = ids.parse_any(str(d["paper"]))  # a hand-written decision: `paper: 2406.09400`
        work_ids = {parsed[0]: parsed[1]} if parsed else {}
    if not isinstance(work_ids, dict) or not (work_ids or d.get("title")):
        raise CorpusError(path, where, "needs 'work:' identifiers, a 'title', or a 'paper:' identifier "
                                       "(arXiv id, DOI, S2 or OpenAlex id) to attach to")
    return work_ids


def _scope_value(path: Path, where: str, d: dict) -> str | None:
    value = d.get("scope")
    if value is None:
        if d.get("reason") is not None:
            raise CorpusError(path, where, "has a 'reason' but no 'scope: include' or 'scope: exclude'")
        return None
    if value not in SCOPE_VALUES:
        raise CorpusError(path, where, f"'scope' must be include or exclude, got {value!r}")
    return value


def read_curation(path: Path, vocabulary: dict[str, set[str]]) -> Bundle:
    """The curation file's label decisions as records (empty when there is no file)."""
    decisions = read_decisions(path)
    if not decisions:
        return Bundle()
    bundle = Bundle(sources=[SOURCE])
    lines = None
    for i, d in enumerate(decisions):
        if isinstance(d, dict) and d.get("scope") in SCOPE_VALUES and not any(d.get(k) is not None for k in AXES):
            continue  # a scope decision only: kg.classify.scope reads it (read_scope_decisions)
        if isinstance(d, dict) and d.get("entity") is not None:
            continue  # a method or dataset decision: kg.classify.entities reads it
        if lines is None:
            lines = decision_lines(path)
        where = _where(i, d, lines)
        if not isinstance(d, dict):
            raise CorpusError(path, where, "must be a mapping")
        work_ids = _work_ids(path, where, d)
        _scope_value(path, where, d)
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
            raise CorpusError(path, where, f"sets no label and no scope (give one of: {', '.join(AXES)}, "
                                           "or scope: include / exclude)")
        year = d.get("year")
        bundle.works.append(Work(ids={str(k): str(v) for k, v in work_ids.items()}, sources=[SOURCE.id],
                                 title=d.get("title"), year=year if isinstance(year, int) else None,
                                 labels=labels))
    return bundle


def read_scope_decisions(path: Path) -> list[ScopeDecision]:
    """The curation file's include / exclude decisions, in file order (later ones win).
    A broken entry is a CorpusError naming the decision and its line."""
    decisions = read_decisions(path)
    out: list[ScopeDecision] = []
    lines = None
    for i, d in enumerate(decisions):
        if isinstance(d, dict) and d.get("scope") is None and d.get("reason") is None:
            continue  # a label decision (read_curation checks it)
        if lines is None:
            lines = decision_lines(path)
        where = _where(i, d, lines)
        if not isinstance(d, dict):
            raise CorpusError(path, where, "must be a mapping")
        value = _scope_value(path, where, d)
        work_ids = _work_ids(path, where, d)
        year = d.get("year")
        out.append(ScopeDecision(value, {str(k): str(v) for k, v in work_ids.items()},
                                 title=str(d["title"]) if d.get("title") else None,
                                 year=year if isinstance(year, int) else None, by=str(d.get("by") or "curator"),
                                 at=str(d["at"]) if d.get("at") else None,
                                 reason=str(d["reason"]) if d.get("reason") else None,
                                 paper=str(d["paper"]) if d.get("paper") is not None else None, index=i,
                                 line=lines[i] if i < len(lines) else None))
    return out


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
        raise UsageError("say what to record: a category, mechanism, input modality, output modality or method",
                         field=("category", "mechanism", "input_modality", "output_modality", "method"))
    return out


# ---------------------------------------------------------------- writing
def append_decision(path: Path, decision: dict) -> None:
    """Add one decision to the curation file (whole file rewritten atomically, under a lock)."""
    with file_lock(path.with_name("." + path.name + ".lock")):
        decisions = read_decisions(path)
        decisions.append(decision)
        text = HEADER + yaml.safe_dump({"decisions": decisions}, sort_keys=False, allow_unicode=True, width=100)
        remove_stale_temp_files(path.parent, f"*{path.name}.*.tmp")  # left by a writer that died
        try:
            write_atomic(path, text)
        except OSError as exc:  # the file keeps every earlier decision; no half-written copy is left
            full = "the disk is full: " if exc.errno in (errno.ENOSPC, errno.EDQUOT) else ""
            raise KgError(f"{full}cannot write {path} ({exc.strerror or exc}); the decision was not "
                          "recorded and the file keeps its earlier decisions") from None


def curation_file(store) -> Path:
    """The curation file of a store (a kg.store.Store or its location); it is kept beside a local
    store's graph only."""
    from ..store import Store

    store = Store.at(store)
    store.require_local("curating (the curation file is kept beside the graph)",
                        hint="Use the local store (a folder) the graph is built in.")
    return store.curation_file


def curate(store, paper: str, labels: dict[str, list[str]], *, by: str | None = None,
           note: str | None = None, scope: str | None = None) -> dict:
    """Record a person's decision about one paper's labels (and/or its scope: include or
    exclude, `note` being the reason) in the store's curation file. The graph shows it once it
    is built again (kg.pipeline.after_curate). `store`: a kg.store.Store (or its location)."""
    from ..store import Store
    from ..rdf.taxonomy import read_taxonomy
    from .data import read_works

    store = Store.at(store)
    path = curation_file(store)
    if scope is not None and scope not in SCOPE_VALUES:
        raise UsageError(f"scope must be include or exclude, got {scope!r}")
    if scope == "exclude" and any(labels.values()):
        raise UsageError("an excluded paper takes no labels: exclude it alone, or give labels without excluding it",
                         field="exclude")
    work = find_work(read_works(store.open()), paper)
    taxonomy = read_taxonomy(store.project.taxonomy_file)
    labels = validate_labels(labels, taxonomy) if (scope is None or any(labels.values())) else {}
    decision = {"paper": paper, "work": dict(work.ids), "title": work.title or None, "year": work.year,
                "by": by or default_curator(), "at": now(), **labels}
    if scope and note:
        decision["reason"] = note
    if note and labels:
        decision["note"] = note
    if scope:
        decision["scope"] = scope
    decision = {k: v for k, v in decision.items() if v not in (None, {}, "")}
    if not decision.get("work") and not decision.get("title"):
        raise KgError(f"{work.display} has no identifier or title a decision could attach to")
    check_file(path, taxonomy.vocabulary())  # a broken file is reported before anything is added
    append_decision(path, decision)
    return {"work": work.iri, "display": work.display, **decision}


def check_file(path: Path, vocabulary: dict[str, set[str]]) -> None:
    """Raise CorpusError (naming the decision and its line) when the curation file is broken."""
    read_curation(path, vocabulary)
    read_scope_decisions(path)
    read_entity_decisions(path)


# ---------------------------------------------------------------- method and dataset decisions
def read_entity_decisions(path: Path) -> list[EntityDecision]:
    """The curation file's entity decisions in file order; a broken one is a CorpusError naming it."""
    out: list[EntityDecision] = []
    lines = None
    for i, d in enumerate(read_decisions(path)):
        if not is_entity_decision(d):
            continue
        if lines is None:
            lines = decision_lines(path)
        where = f"decision #{i + 1} (entity {d.get('entity')})" + (f" at line {lines[i]}" if i < len(lines) else "")
        actions = [a for a in ENTITY_ACTIONS if d.get(a) not in (None, False)]
        if len(actions) != 1:
            raise CorpusError(path, where, "an entity decision needs exactly one of: rename: NEW, "
                                           "merge_into: OTHER, reject: true")
        action = actions[0]
        value = d.get(action)
        if action == "reject":
            if value is not True:
                raise CorpusError(path, where, f"'reject' must be true, got {value!r}")
            value = None
        elif not isinstance(value, str) or not entity_key(value):
            raise CorpusError(path, where, f"'{action}' must be a name with a letter or digit, got {value!r}")
        kind = d.get("kind")
        if kind is not None and kind not in KINDS:
            raise CorpusError(path, where, f"'kind' must be method or dataset, got {kind!r}")
        name = str(d["entity"])
        if not entity_key(name):
            raise CorpusError(path, where, f"'entity' must be a name with a letter or digit, got {name!r}")
        out.append(EntityDecision(name, entity_key(name), action, value, kind, str(d.get("by") or "curator"),
                                  str(d["at"]) if d.get("at") else None, i))
    return out


def curate_entity(store, entity: str, *, rename: str | None = None, merge_into: str | None = None,
                  reject: bool = False, kind: str | None = None, by: str | None = None) -> dict:
    """Record a person's decision about a method or dataset in the store's curation file: rename
    it, merge it into another, or reject it. The graph shows it once it is built again
    (kg.pipeline.curate_entity)."""
    from ..errors import KgError
    from ..rdf.taxonomy import read_taxonomy
    from ..store import Store
    from .entities import graph_entities, validate_entity_decision

    store = Store.at(store)
    path = curation_file(store)
    decision = validate_entity_decision(entity, rename=rename, merge_into=merge_into, reject=reject, kind=kind)
    known = graph_entities(store.open())
    key = entity_key(entity)
    matches = {k: name for k, name in known.items() if k[1] == key and (kind is None or k[0] == kind)}
    if not matches:
        raise KgError(f"no method or dataset named {entity!r} in the graph",
                      hint="List them with `kg query --name methods` and `kg query --name datasets`.")
    if len(matches) > 1 and kind is None:
        raise UsageError(f"{entity!r} is both a method and a dataset in the graph; say which kind", field="kind")
    (found_kind, _), (name, predicted) = next(iter(matches.items()))
    if rename is not None and not predicted:
        raise UsageError(f"{name} is a {found_kind} of the taxonomy or the corpus, not one read from abstracts: "
                         "rename it where it is defined (ontology/taxonomy.ttl, the corpus or its records)")
    decision = {**decision, "kind": found_kind, "by": by or default_curator(), "at": now()}
    check_file(path, read_taxonomy(store.project.taxonomy_file).vocabulary())  # a broken file is reported first
    append_decision(path, decision)
    return {"name": name, **decision}
