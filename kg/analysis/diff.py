"""What changed between two states of the graph (two snapshots, a snapshot and now, the last build).

Both generations are opened read-only and asked the same questions: what the named queries
`scope` and `analysis-label-assertions` give (read by one lean pattern per property from a local
store, through the listings from an endpoint), `datasets` and `methods`, the gap cells with
their works counted in the store (kg.analysis.gap_counts, as `kg gaps --json`) and the citation
links between works in scope; the answers are compared as sets, keyed by the work's IRI. Two
generations of a large local store are read at once, the older by a second process. What a
generation answers is kept beside it (kg.derived: a published generation never changes), so a
generation is read once: the next `kg update`'s diff reads only the new one.

    diff_graphs(old, new)            -> dict (the JSON schema is in docs/living-survey.md)
    diff_store(store, "v1", None)    -> the same, for references kg.store.snapshots resolves
    render(diff, "md" | "html" | "json")
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import html
import json
import os
import re
from functools import cache
from pathlib import Path

from .counting import CLASSIFIER_SOURCE, MIN_CONFIDENCE
from .gap_counts import GapCounts
from ..derived import derived_path, kept_anew, read_kept
from ..paths import queries_dir
from ..sparql.named import run_named
from ..sparql.text import sparql_term

SCHEMA_VERSION = 1
FORMATS = ("table", "json", "md", "html")
# the relations of methods and datasets papers name: reported as methods and datasets, not labels
MENTION_AXES = {"proposesMethod", "usesMethod", "buildsOnMethod", "introducesDataset", "usesDataset"}
STATUS_WORD = {"ok": "filled", "thin": "thin", "empty": "empty"}
_LINKS = "SELECT ?citing ?cited WHERE { ?citing cito:cites ?cited }"
SECTIONS = ("works_added", "works_removed", "works_reidentified", "works_renamed", "label_changes", "scope_changes", "citations_added",
            "citations_removed", "cells", "datasets_added", "datasets_removed", "methods_added", "methods_removed")


def _local(iri) -> str:
    text = str(iri)
    return text.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def _text(value) -> str | None:
    return None if value is None else str(value)


class _State:
    """What one generation answers to the diff's named queries. `lean` (a local graph, by
    default): read what the diff compares by one lean pattern per property and join it here, not
    through the `scope` and `analysis-label-assertions` listings, whose per-work lookups cost the
    engine about 15 us each (at 100,000 papers 34 s against 16 s a generation); both give the
    same state (a test compares them) on graphs kg writes (see _lean_works). An endpoint is read
    through the listings."""

    def __init__(self, graph, min_confidence: float, *, lean: bool | None = None):
        self._fill(_people_part(graph, lean), _analysis_part(graph, min_confidence))

    @classmethod
    def of_parts(cls, people: tuple, analysis: tuple) -> "_State":
        """The state of a generation whose two halves were read apart (_people_part, _analysis_part)."""
        state = cls.__new__(cls)
        state._fill(people, analysis)
        return state

    def _fill(self, people: tuple, analysis: tuple) -> None:
        self.works, self.labels = people
        links, self.cells, self.datasets, self.methods = analysis
        in_scope = {w for w, row in self.works.items() if row["status"] != "out"}
        self.citations = {(a, b) for a, b in links if a in in_scope and b in in_scope}

    def rename(self, mapping: dict[str, str]) -> None:
        """Call works by other IRIs (old -> new): a work whose IRI changed because it gained an identifier."""
        if not mapping:
            return
        self.works = {mapping.get(w, w): {**row, "work": mapping.get(w, w)} for w, row in self.works.items()}
        self.labels = {mapping.get(w, w): axes for w, axes in self.labels.items()}
        self.citations = {(mapping.get(a, a), mapping.get(b, b)) for a, b in self.citations}
        for row in self.cells.values():
            row["works"] = [mapping.get(w, w) for w in row["works"]]

    def cells_of(self, work: str) -> list[str]:
        return sorted(f"{c} x {m}" for (c, m), row in self.cells.items() if work in row["works"])

    def work_entry(self, work: str) -> dict:
        entry = dict(self.works[work])
        entry["cells"] = self.cells_of(work)
        entry["labels"] = {axis: [{"concept": n, "kind": k} for n, k in sorted(kinds.items())]
                           for axis, kinds in sorted(self.labels.get(work, {}).items())}
        return entry

    def label(self, work: str) -> str:
        return (self.works.get(work) or {}).get("label") or work

    def encode(self) -> bytes:
        """The state as kept beside its generation (read back by `decode`): JSON, compressed."""
        data = {"format": STATE_FORMAT, "works": self.works, "labels": self.labels,
                "citations": sorted(self.citations), "cells": [[c, m, row] for (c, m), row in self.cells.items()],
                "datasets": self.datasets, "methods": self.methods}
        return gzip.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"), compresslevel=1)

    @classmethod
    def decode(cls, blob: bytes) -> "_State":
        """A state `encode` wrote; ValueError for another format or what is not one."""
        data = json.loads(gzip.decompress(blob))
        if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
            raise ValueError("not a diff state of this format")
        state = cls.__new__(cls)
        state.works, state.labels = dict(data["works"]), dict(data["labels"])
        state.citations = {(a, b) for a, b in data["citations"]}
        state.cells = {(c, m): row for c, m, row in data["cells"]}
        state.datasets, state.methods = dict(data["datasets"]), dict(data["methods"])
        return state


def _people_part(graph, lean: bool | None = None) -> tuple[dict, dict]:
    """The half of a state about each work: its row (label, title, year, scope...) and its labels
    (work -> axis -> notation -> asserted|predicted), read lean from a local graph (see _State)."""
    if lean is None:
        from ..store import LocalGraph

        lean = isinstance(graph, LocalGraph)
    if lean:
        works, typed, out = _lean_works(graph)
        rows = _lean_labels(graph, typed, out)
    else:
        works, rows = _listed_works(graph), _listed_labels(graph)
    labels: dict[str, dict[str, dict[str, str]]] = {}
    for work, axis, notation, predicted in rows:
        if axis in MENTION_AXES:
            continue
        kinds = labels.setdefault(work, {}).setdefault(axis, {})
        kind = "predicted" if predicted else "asserted"
        if kinds.get(notation) != "asserted":  # asserted by anyone wins over a prediction
            kinds[notation] = kind
    return works, labels


def _analysis_part(graph, min_confidence: float) -> tuple[list, dict, dict, dict]:
    """The other half: every citation link (kept between works in scope once the works are
    known), the gap cells with their works (as `kg gaps --json`), the datasets and the methods."""
    cells = {(r["category"], r["mechanism"]): r for r in GapCounts(graph, min_confidence).cells(works=True)}
    datasets = {str(r["dataset"]): {"dataset": str(r["dataset"]), "name": _text(r.get("name")),
                                    "cells": _text(r.get("cells")), "predicted": bool(r.get("predicted"))}
                for r in run_named(graph, "datasets").records()}
    methods = {str(r["method"]): {"method": str(r["method"]), "name": _text(r.get("name")),
                                  "cells": _text(r.get("cells")), "predicted": bool(r.get("predicted"))}
               for r in run_named(graph, "methods").records()}
    return _links(graph), cells, datasets, methods


# the format of the state kept beside a generation: a change of what _State holds bumps it, and
# states kept before are read again from their generations
STATE_FORMAT = 1
# the code a state is read by (besides the named queries): a state kept by another version of it
# is not compared with one read by this version; it is read again (_code_key)
_READERS = ("diff.py", "gap_counts.py", "counting.py")


@cache
def _code_key() -> str:
    """A digest of the code that reads a state (this module, the gap counts' and the named
    queries'), part of the kept file's name: an upgrade that changes how a generation is read
    would otherwise compare a state read by the old code with one read by the new, and report
    the difference as changes of the graph."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in [*(here / name for name in _READERS), *sorted(queries_dir().glob("*.rq"))]:
        digest.update(path.name.encode("utf-8") + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def _state_file(confidence: float) -> str:
    return f"diff-state-v{STATE_FORMAT}-{_code_key()}-{float(confidence)!r}.json.gz"


def _state(graph, confidence: float, compute=None) -> _State:
    """The graph's state read from the graph (`compute()`, default: _State here) and kept beside
    its generation (where it has one: not an endpoint or a draft)."""
    state = compute() if compute else _State(graph, confidence)
    return kept_anew(derived_path(graph, _state_file(confidence)), state, _State.encode)


def _kept_state(graph, confidence: float) -> _State | None:
    """The state kept beside the graph's generation, or None when none is or its file cannot be
    read (then it is read from the graph and kept anew)."""
    found = read_kept(derived_path(graph, _state_file(confidence)), lambda path: _State.decode(path.read_bytes()))
    return found[0] if found else None


# from how many works on a generation is read by a second process (a smaller graph is read here
# faster than a process starts: 0.08 s against 0.5 s for the bundled graph)
SECOND_PROCESS_WORKS = 5_000
_COUNT_WORKS = "SELECT (COUNT(*) AS ?n) WHERE { ?w a fabio:ScholarlyWork }"
WHOLE, PEOPLE = "state", "people"  # what a second process reads: a whole state, or its people half


def _states(old_graph, new_graph, confidence: float) -> tuple[_State, _State]:
    """Both generations' states: those kept beside their generations read from there (_state),
    the others from the graphs, each then kept. The engine holds the interpreter while it reads,
    so a thread would not help; a local store of SECOND_PROCESS_WORKS works or more is read by
    two processes at once (at 100,000 papers a generation takes about a minute in one):

    - neither state kept: the old generation by a second process, the new one here;
    - one kept (the usual case of a living survey: the previous generation was diffed when it was
      new): that generation's people half (_people_part) by a second process, its analysis half
      here.

    Any other graph, or a second process that fails, is read here, one part after the other. The
    second process is stopped if this one stops reading."""
    old, new = _kept_state(old_graph, confidence), _kept_state(new_graph, confidence)
    if old is None and new is None:
        child = _start_reading(old_graph, confidence)
        with _stopped_on_error(child):
            new = _state(new_graph, confidence)
            old = _finish_reading(child)
        return (old if old is not None else _state(old_graph, confidence)), new
    if new is None:
        new = _state(new_graph, confidence, lambda: _read_in_halves(new_graph, confidence))
    if old is None:
        old = _state(old_graph, confidence, lambda: _read_in_halves(old_graph, confidence))
    return old, new


def _read_in_halves(graph, confidence: float) -> _State:
    """One generation's state, its people half read by a second process while this one reads the
    analysis half (both here when no second process can read it)."""
    child = _start_reading(graph, confidence, PEOPLE)
    with _stopped_on_error(child):
        analysis = _analysis_part(graph, confidence)
        people = _finish_reading(child, PEOPLE)
    return _State.of_parts(people if people is not None else _people_part(graph), analysis)


@contextlib.contextmanager
def _stopped_on_error(child):
    """Stops the second process `child` (if any) when the reading beside it fails or is interrupted."""
    try:
        yield child
    finally:
        if child is not None and child.poll() is None:  # this reading failed or was interrupted
            child.kill()
            child.communicate()  # reaped, and its pipe closed


def _start_reading(graph, confidence: float, what: str = WHOLE):
    """A process reading `graph`'s state, or its people half (`what`: see _read_for_parent), or
    None when the graph is not a generation of a local store, holds fewer than
    SECOND_PROCESS_WORKS works, or no process can be started."""
    import site
    import subprocess
    import sys

    from ..store import LocalGraph

    generation = getattr(graph, "generation", None)
    if not isinstance(graph, LocalGraph) or not isinstance(generation, Path) or not generation.is_dir():
        return None
    counted = graph.values(_COUNT_WORKS)
    if not counted or int(counted[0][0] or 0) < SECOND_PROCESS_WORKS:
        return None
    root = str(Path(__file__).resolve().parents[2])  # the folder this kg is imported from
    env = dict(os.environ)
    if root not in {*site.getsitepackages(), site.getusersitepackages()}:  # a checkout: tell the process
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
    try:
        # -P: no working directory on the import path (a folder named kg there cannot stand in for kg)
        return subprocess.Popen(
            [sys.executable, "-P", "-c", "from kg.analysis.diff import _read_for_parent; _read_for_parent()",
             str(generation.resolve()), repr(float(confidence)), what, str(os.getpid())],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
    except (OSError, TypeError, ValueError):  # no interpreter to start
        return None


def _finish_reading(child, what: str = WHOLE):
    """What the process of _start_reading read (sent on its standard output): a _State, or for
    PEOPLE a (works, labels) pair; None when it failed."""
    import pickle

    if child is None:
        return None
    try:
        sent, _ = child.communicate()
        if child.returncode != 0:
            return None
        read = pickle.loads(sent)
    except (OSError, EOFError, ValueError, TypeError, pickle.UnpicklingError, AttributeError, ImportError):
        return None
    if what == PEOPLE:
        ok = isinstance(read, tuple) and len(read) == 2 and all(isinstance(part, dict) for part in read)
        return read if ok else None
    return read if isinstance(read, _State) else None


def _read_for_parent() -> None:
    """In the process _start_reading starts: read one generation (arguments: its folder, the
    minimum confidence, and what to read: WHOLE, its state, then kept beside the generation; or
    PEOPLE, its people half; and the parent's process id) and send it to the parent on the
    standard output. It ends when the parent does (_ends_with_parent)."""
    import pickle
    import sys

    from ..store import LocalGraph

    folder, confidence, what = Path(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    _ends_with_parent(int(sys.argv[4]))
    graph = LocalGraph(folder.parent, generation=folder.name)
    read = _people_part(graph) if what == PEOPLE else _state(graph, confidence)
    sys.stdout.buffer.write(pickle.dumps(read, protocol=pickle.HIGHEST_PROTOCOL))
    sys.stdout.flush()


def _ends_with_parent(parent: int) -> None:
    """Where the system offers it (Linux's PR_SET_PDEATHSIG), this process is sent SIGTERM when
    the process that started it ends: a diff killed by a signal that leaves it no time to stop
    its second process (SIGTERM, SIGKILL) does not leave that process reading, or keeping a state
    for no one. A parent that ended before this was asked for ends this process at once."""
    import ctypes
    import signal
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGTERM), 0, 0, 0)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent ended before the request above
        os._exit(1)


def _listed_works(graph) -> dict[str, dict]:
    """Every work with a label, as the `scope` listing gives it (the first row of each work)."""
    works: dict[str, dict] = {}
    for row in run_named(graph, "scope").records():
        work = str(row["work"])
        relevance = row.get("relevance")
        works.setdefault(work, {
            "work": work, "label": _text(row.get("label")), "title": _text(row.get("title")),
            "id": _text(row.get("id")), "year": _text(row.get("year")), "status": _text(row.get("status")),
            "relevance": round(float(relevance), 4) if relevance is not None else None,
            "decided_by": _text(row.get("decidedBy"))})
    return works


def _listed_labels(graph):
    """(work, axis, notation, predicted) of every label and mention assertion of the works in
    scope, as `analysis-label-assertions` gives them."""
    for row in run_named(graph, "analysis-label-assertions").records():
        yield str(row["work"]), _local(row["axis"]), str(row["notation"]), bool(row.get("predicted"))


# what the `scope` listing gives of each work, one lean pattern each
_WORK_PROPERTIES = (("title", "dcterms:title"), ("year", "fabio:hasPublicationYear"), ("status", "kg:scopeStatus"),
                    ("relevance", "kg:relevance"), ("arxiv", "kg:arxivId"), ("doi", "kg:doi"),
                    ("s2", "kg:s2PaperId"), ("cite", "kg:citationKey"))
_DECIDED_BY = "SELECT ?w ?v WHERE { ?w kg:scopeAssessment ?a . ?a prov:wasAttributedTo/rdfs:label ?v }"
_WORKS = "SELECT ?w ?label WHERE { ?w a fabio:ScholarlyWork OPTIONAL { ?w rdfs:label ?label } }"
_LABELS = f"""SELECT ?work ?axis ?notation ?predicted WHERE {{
  ?work kg:hasLabel ?assertion . ?assertion kg:axis ?axis ; kg:concept ?concept ; prov:wasDerivedFrom ?from .
  OPTIONAL {{ ?concept skos:notation ?n }} BIND(COALESCE(?n, STR(?concept)) AS ?notation)
  BIND(?from = <{CLASSIFIER_SOURCE}> AS ?predicted)
}}"""


def _year_text(value: str | None) -> str | None:
    """A year's text as the listing's records give it (an integer's digits, else the text)."""
    if value is None:
        return None
    try:
        return str(int(value))
    except ValueError:
        return value


def _lean_works(graph) -> tuple[dict[str, dict], set[str], set[str]]:
    """_listed_works read by one lean pattern per property, joined here; also every work (with a
    label or not) and the works marked out of scope. Where a work has several values of a
    property the listing's first row is taken as it sorts them: the lowest status, the highest
    relevance, the lowest label; of a title, year, identifier or deciding agent (one each in a
    graph kg writes, and its shapes say so) the first the store gives."""
    found: dict[str, dict[str, list[str]]] = {}
    for key, prop in (*_WORK_PROPERTIES, ("decided_by", None)):
        values: dict[str, list[str]] = {}
        for w, v in graph.values(_DECIDED_BY if prop is None else f"SELECT ?w ?v WHERE {{ ?w {prop} ?v }}"):
            if v is not None:
                values.setdefault(w, []).append(v)
        found[key] = values

    def first(key: str, work: str) -> str | None:
        return found[key].get(work, [None])[0]

    labels: dict[str, list[str]] = {}
    for work, label in graph.values(_WORKS):
        labels.setdefault(work, [])
        if label is not None:
            labels[work].append(label)
    works: dict[str, dict] = {}
    for work, names in labels.items():
        if not names:  # the listing's works have a label
            continue
        relevance = max((float(r) for r in found["relevance"].get(work, [])), default=None)
        statuses = found["status"].get(work)
        ids = (first(k, work) for k in ("arxiv", "doi", "s2", "cite"))
        works[work] = {
            "work": work, "label": min(names), "title": first("title", work),
            "id": next((i for i in ids if i is not None), None), "year": _year_text(first("year", work)),
            "status": min(statuses) if statuses else None,
            "relevance": round(relevance, 4) if relevance is not None else None,
            "decided_by": first("decided_by", work)}
    out = {w for w, statuses in found["status"].items() if "out" in statuses}
    return works, set(labels), out


def _lean_labels(graph, typed: set[str], out: set[str]):
    """_listed_labels of the label assertions (not the mentions, which the diff reports apart)
    read by one pattern; `typed`: every work, `out`: those out of scope (left out here)."""
    for work, axis, notation, predicted in graph.values(_LABELS):
        if work in typed and work not in out:
            yield work, _local(axis), notation, predicted == "true"


def _links(graph) -> list[tuple[str, str]]:
    """Every citation link between works, read as plain pairs in one lean query (no paging, no
    per-work rows); the diff keeps those between works in scope (the analysis corpus's edges)."""
    if hasattr(graph, "values"):
        return [(a, b) for a, b in graph.values(_LINKS)]
    # a graph without kg's bulk reader: the named query, page by page
    return [(str(r["citing"]), str(r["cited"])) for r in run_named(graph, "analysis-citation-edges").records()]


_IRI_SAFE = re.compile(r"[^\s<>\"{}|^`\\]+")
_ID_PROPERTIES = (("kg:arxivId", "arxiv"), ("kg:doi", "doi"), ("kg:s2PaperId", "s2"), ("kg:s2CorpusId", "corpus"),
                  ("kg:openalexId", "openalex"), ("kg:citationKey", "cite"), ("dcterms:title", "title"),
                  ("fabio:hasPublicationYear", "year"))


def _identity_keys(graph, works: list[str]) -> dict[str, set[str]]:
    """Each work's identity keys as the resolver forms them (normalised ids; a long title, or a
    short one with its year), read for `works` only."""
    if not works or not hasattr(graph, "values"):
        return {}
    from ..records import Work
    from ..records.resolve import keys_of
    from ..sparql.text import sparql_iri

    facts: dict[str, dict] = {}
    pairs = " ".join(f"({p} {sparql_term(k)})" for p, k in _ID_PROPERTIES)
    for start in range(0, len(works), 500):
        iris = " ".join(sparql_iri(w) for w in works[start:start + 500] if _IRI_SAFE.fullmatch(w))
        if not iris:
            continue
        for work, kind, value in graph.values(
                f"SELECT ?work ?kind ?value WHERE {{ VALUES ?work {{ {iris} }} VALUES (?p ?kind) {{ {pairs} }} "
                f"?work ?p ?value }}"):
            facts.setdefault(work, {}).setdefault(kind, value)
    keys = {}
    for work, found in facts.items():
        year = found.pop("year", None)
        title = found.pop("title", None)
        record = Work(ids=found, sources=[], title=title, year=int(year) if year and year.isdigit() else None)
        keys[work] = {k for k in keys_of(record) if not k.startswith("name:")}
    return keys


def reidentified(old_graph, new_graph, removed: list[str], added: list[str]) -> dict[str, str]:
    """old IRI -> new IRI for works that left one graph and entered the other under another IRI
    but are the same work: they share an identity key, and no other work on either side does."""
    old_keys, new_keys = _identity_keys(old_graph, removed), _identity_keys(new_graph, added)
    holders: dict[str, set[str]] = {}
    for work, keys in new_keys.items():
        for key in keys:
            holders.setdefault(key, set()).add(work)
    candidates: dict[str, set[str]] = {}
    for work, keys in old_keys.items():
        found = set().union(*(holders.get(k, set()) for k in keys)) if keys else set()
        if len(found) == 1:
            candidates[work] = found
    claimed: dict[str, list[str]] = {}
    for old, found in candidates.items():
        claimed.setdefault(next(iter(found)), []).append(old)
    return {olds[0]: new for new, olds in claimed.items() if len(olds) == 1}


def _cell_side(row: dict | None) -> dict:
    if row is None:
        return {"count": 0, "asserted": 0, "predicted": 0, "status": None}
    return {"count": int(row["count"]), "asserted": int(row["asserted"]), "predicted": int(row["predicted"]),
            "status": STATUS_WORD.get(row["status"], row["status"])}


def diff_graphs(old_graph, new_graph, *, min_confidence: float | None = None, old_ref: dict | None = None,
                new_ref: dict | None = None) -> dict:
    """Everything that changed from `old_graph` to `new_graph` (each a read-only graph)."""
    confidence = MIN_CONFIDENCE if min_confidence is None else min_confidence
    a, b = _states(old_graph, new_graph, confidence)
    moved = reidentified(old_graph, new_graph, sorted(set(a.works) - set(b.works)), sorted(set(b.works) - set(a.works)))
    a.rename(moved)
    added = sorted(set(b.works) - set(a.works), key=lambda w: (b.label(w).lower(), w))
    removed = sorted(set(a.works) - set(b.works), key=lambda w: (a.label(w).lower(), w))
    both = sorted(set(a.works) & set(b.works), key=lambda w: (b.label(w).lower(), w))
    out: dict = {"schema": SCHEMA_VERSION, "from": old_ref or {}, "to": new_ref or {},
                 "min_confidence": confidence}
    out["works_added"] = [b.work_entry(w) for w in added]
    out["works_removed"] = [a.work_entry(w) for w in removed]
    out["works_reidentified"] = sorted(({"work": new, "label": b.label(new), "before": old}
                                        for old, new in moved.items()), key=lambda e: (e["label"].lower(), e["work"]))
    out["works_renamed"] = [{"work": w, "before": a.works[w]["title"] or a.works[w]["label"],
                             "after": b.works[w]["title"] or b.works[w]["label"]}
                            for w in both if (a.works[w]["title"], a.works[w]["label"])
                            != (b.works[w]["title"], b.works[w]["label"])]
    changes = []
    for w in both:
        old_axes, new_axes = a.labels.get(w, {}), b.labels.get(w, {})
        for axis in sorted(set(old_axes) | set(new_axes)):
            before, after = old_axes.get(axis, {}), new_axes.get(axis, {})
            if before != after:
                changes.append({"work": w, "label": b.label(w), "axis": axis,
                                "before": [{"concept": n, "kind": k} for n, k in sorted(before.items())],
                                "after": [{"concept": n, "kind": k} for n, k in sorted(after.items())]})
    out["label_changes"] = changes
    out["scope_changes"] = [
        {"work": w, "label": b.label(w),
         "before": {"status": a.works[w]["status"], "decided_by": a.works[w]["decided_by"]},
         "after": {"status": b.works[w]["status"], "decided_by": b.works[w]["decided_by"]}}
        for w in both if (a.works[w]["status"], a.works[w]["decided_by"]) != (b.works[w]["status"], b.works[w]["decided_by"])]

    def citation(pair, state):
        return {"citing": pair[0], "cited": pair[1], "citing_label": state.label(pair[0]),
                "cited_label": state.label(pair[1])}

    out["citations_added"] = [citation(p, b) for p in sorted(b.citations - a.citations)]
    out["citations_removed"] = [citation(p, a) for p in sorted(a.citations - b.citations)]
    cells = []
    for key in list(dict.fromkeys([*b.cells, *a.cells])):
        old_row, new_row = a.cells.get(key), b.cells.get(key)
        before, after = _cell_side(old_row), _cell_side(new_row)
        old_works = set(old_row["works"]) if old_row else set()
        new_works = set(new_row["works"]) if new_row else set()
        if before == after and old_works == new_works:
            continue
        cells.append({"category": key[0], "mechanism": key[1], "before": before, "after": after,
                      "change": after["count"] - before["count"],
                      "became": after["status"] if after["status"] != before["status"] else None,
                      "works_added": [{"work": w, "label": b.label(w)} for w in sorted(new_works - old_works)],
                      "works_removed": [{"work": w, "label": a.label(w)} for w in sorted(old_works - new_works)]})
    out["cells"] = cells
    for kind, old, new in (("datasets", a.datasets, b.datasets), ("methods", a.methods, b.methods)):
        out[f"{kind}_added"] = [new[k] for k in sorted(set(new) - set(old), key=lambda k: (new[k]["name"] or k).lower())]
        out[f"{kind}_removed"] = [old[k] for k in sorted(set(old) - set(new), key=lambda k: (old[k]["name"] or k).lower())]
    out["summary"] = {name: len(out[name]) for name in SECTIONS}
    out["summary"]["new_in_scope"] = sum(1 for w in out["works_added"] if w["status"] != "out")
    out["nothing_new"] = not any(out[name] for name in SECTIONS)
    return out


def diff_store(store, old: str | None = None, new: str | None = None, *, min_confidence: float | None = None) -> dict:
    """The diff between two references of a local store (default: the last snapshot, else the
    previous build -> the graph now)."""
    from ..store.snapshots import PREVIOUS_REF, latest, resolve

    last = latest(store) if old is None else None
    a = resolve(store, old if old is not None else (last.name if last else PREVIOUS_REF), field="old")
    b = resolve(store, new, field="new")
    graphs = [store.open_at(a.generation), store.open_at(b.generation)]
    return diff_graphs(*graphs, min_confidence=min_confidence,
                       old_ref={"ref": a.label, "generation": a.generation, "created": a.created},
                       new_ref={"ref": b.label, "generation": b.generation, "created": b.created})


# ---------------------------------------------------------------------------------- rendering
def labels_text(labels: list[dict]) -> str:
    return ", ".join(f"{x['concept']}" + (" (predicted)" if x["kind"] == "predicted" else "") for x in labels) or "-"


def _cell_text(side: dict) -> str:
    count = f"{side['asserted']} (+{side['predicted']} predicted)" if side["predicted"] else str(side["count"])
    return f"{count} {side['status'] or ''}".strip()


def lines(diff: dict) -> list[tuple[str, list[str]]]:
    """The diff as sections of plain lines (Markdown, HTML and the terminal share them)."""
    sections: list[tuple[str, list[str]]] = []

    def work_line(w: dict) -> str:
        rel = f", relevance {w['relevance']:.2f}" if w.get("relevance") is not None else ""
        return (f"{w['label']}" + (f" ({w['id']})" if w.get("id") else "") + f": {w['status'] or 'undecided'}{rel}; "
                f"cells {', '.join(w['cells']) or 'none'}")

    sections.append(("Works added", [work_line(w) for w in diff["works_added"]]))
    sections.append(("Works removed", [work_line(w) for w in diff["works_removed"]]))
    sections.append(("Works known by a new identifier", [f"{r['label']}: {r['before']} -> {r['work']}"
                                                          for r in diff["works_reidentified"]]))
    sections.append(("Works renamed", [f"{r['before']} -> {r['after']}" for r in diff["works_renamed"]]))
    sections.append(("Label changes", [f"{c['label']}: {c['axis']} {labels_text(c['before'])} -> "
                                       f"{labels_text(c['after'])}" for c in diff["label_changes"]]))
    sections.append(("Scope decisions", [
        f"{c['label']}: {c['before']['status'] or 'undecided'} ({c['before']['decided_by'] or '-'}) -> "
        f"{c['after']['status'] or 'undecided'} ({c['after']['decided_by'] or '-'})" for c in diff["scope_changes"]]))
    sections.append(("New citations", [f"{c['citing_label']} cites {c['cited_label']}" for c in diff["citations_added"]]))
    sections.append(("Citations gone", [f"{c['citing_label']} cites {c['cited_label']}"
                                        for c in diff["citations_removed"]]))
    sections.append(("Cells", [
        f"{c['category']} x {c['mechanism']}: {_cell_text(c['before'])} -> {_cell_text(c['after'])} "
        f"({c['change']:+d})" + (f", became {c['became']}" if c["became"] else "")
        + (f"; added {', '.join(x['label'] for x in c['works_added'])}" if c["works_added"] else "")
        + (f"; removed {', '.join(x['label'] for x in c['works_removed'])}" if c["works_removed"] else "")
        for c in diff["cells"]]))
    for kind in ("datasets", "methods"):
        sections.append((f"New {kind}", [f"{d['name']}" + (f" ({d['cells']})" if d.get("cells") else "")
                                         for d in diff[f"{kind}_added"]]))
        sections.append((f"{kind.capitalize()} gone", [d["name"] or "" for d in diff[f"{kind}_removed"]]))
    return sections


def headline(diff: dict) -> str:
    frm, to = diff["from"].get("ref", "before"), diff["to"].get("ref", "now")
    if diff["nothing_new"]:
        return f"Nothing new from {frm} to {to}."
    s = diff["summary"]
    return (f"From {frm} to {to}: {s['works_added']} work(s) added ({s['new_in_scope']} in scope), "
            f"{s['works_removed']} removed, {s['label_changes']} label change(s), {s['scope_changes']} scope "
            f"decision(s), {s['citations_added']} new citation(s), {s['cells']} cell(s) changed.")


def render_markdown(diff: dict, title: str = "What changed", level: int = 1) -> str:
    out = [f"{'#' * level} {title}", "", headline(diff), ""]
    for name, items in lines(diff):
        if items:
            out += [f"{'#' * (level + 1)} {name}", "", *[f"- {_md(x)}" for x in items], ""]
    return "\n".join(out)


def _md(text: str) -> str:
    return "".join("\\" + ch if ch in "\\`*_[]<>#|" else ch for ch in text)


def html_section(diff: dict, title: str, level: int = 1) -> str:
    body = [f"<h{level}>{html.escape(title)}</h{level}>", f"<p>{html.escape(headline(diff))}</p>"]
    for name, items in lines(diff):
        if items:
            body.append(f"<h{level + 1}>{html.escape(name)}</h{level + 1}><ul>"
                        + "".join(f"<li>{html.escape(x)}</li>" for x in items) + "</ul>")
    return "\n".join(body)


def render_html(diff: dict, title: str = "What changed") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head><body>\n" + html_section(diff, title)
            + "\n</body></html>\n")


def render(diff: dict, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(diff, ensure_ascii=False, indent=1) + "\n"
    if fmt == "md":
        return render_markdown(diff)
    if fmt == "html":
        return render_html(diff)
    raise ValueError(f"no text rendering for {fmt!r}")


SINCE_FORMATS = ("md", "html", "json")


def with_changes(text: str, fmt: str, diff: dict) -> str:
    """A gap report (`kg report`) with a section of what changed since a snapshot: Markdown and
    HTML get a section at the end, JSON a `since` member (this module's diff)."""
    title = f"Changes since {diff['from'].get('ref', 'the snapshot')}"
    if fmt == "md":
        return text.rstrip("\n") + "\n\n" + render_markdown(diff, title, level=2)
    if fmt == "html":
        section = f'<section id="since">\n{html_section(diff, title, level=2)}\n</section>\n'
        at = text.rfind("</body>")
        return text[:at] + section + text[at:] if at >= 0 else text + section
    if fmt == "json":
        return json.dumps({**json.loads(text), "since": diff}, ensure_ascii=False, indent=1) + "\n"
    raise ValueError(f"no changes section for {fmt!r}")
