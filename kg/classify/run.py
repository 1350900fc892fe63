"""Classifying the papers of a graph and storing the predictions as records.

`classify_works` trains the classifier on the graph's labelled papers, labels
every work on the axes nothing else labels (the survey table gives category
and mechanism, the list gives modalities, people give anything) and writes the
predictions to <store>/records/classifier.jsonl (source "classifier", agent
"kg-classifier VERSION", confidence, time, evidence). It does not rebuild the
graph: kg.pipeline does, once, when the records changed (`report.records_changed`).

A work is re-labelled only when it is new or stale: its text, the axes it
needs, the classifier version, the review threshold or the model's training
data changed (fingerprints in <store>/classifier-state.json). Running it again
with nothing changed trains nothing and leaves the graph as it is.

The trained model is kept beside the graph (kg.classify.cache, keyed by the labelled works'
texts and labels, the lexicon, the taxonomy file and the model's options), so classifying
new works after a harvest or an import predicts them with the model already trained; a
changed key (new labelled works, a curation, an edited taxonomy) trains again and, as every
work's fingerprint holds the key, labels every work again. `force` (`kg classify --all`)
does both whatever the state says. An incremental run's labels and confidences equal a run
from scratch: the same inputs train the same model.

What it leaves out of the taxonomy (kg.classify.scope): works a person excluded (kg:scopeStatus
"out") and undecided works whose relevance is below `min_relevance` (MIN_RELEVANCE by
default; `kg classify --min-relevance`): they get no predicted label until a person
includes them (`kg screen`), so an off-topic harvest does not fill the taxonomy's cells.

What it decides for works it cannot read:
- no title or abstract (unresolved survey citations): "unknown", confidence 0,
  needs review, evidence "no title or abstract", on each axis that lacks a label;
  kept in the record file with provenance (the graph has no "unknown" concept, so
  no graph label is made);
- the survey itself (a review article spans the whole taxonomy): "unknown" too,
  so it is not counted in one taxonomy cell.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import UsageError
from ..fileio import write_atomic
from ..records import Bundle, Dataset, EntityMention, Label, Source, Work, fields_of, to_dict
from ..store import Store
from ..rdf.taxonomy import read_taxonomy
from . import cache
from . import keys as work_keys
from .data import GraphWork, dataset_names, read_works, training_examples
from .entities import linker_for, proposed_known, work_mentions
from .lexicon import Lexicon
from .model import AGENT, AXES, REVIEW_THRESHOLD, SCHEME, UNKNOWN, Classifier, Doc, Example, Prediction, fingerprint

SOURCE_ID = "classifier"
RECORD_FILE = "classifier.jsonl"
STATE_FILE = "classifier-state.json"
LABEL_AXES = AXES + ("method",)
# Undecided works below this relevance are not placed. Measured on the bundled graph with the
# 1,881 recorded off-topic citing papers (README, "Scope and screening"): one of the 1,873
# off-topic papers reaches it (0.084), while 11 of the 13 list papers hidden among them as
# undecided do.
MIN_RELEVANCE = 0.1
# What the method and dataset mentions are read with (kg.classify.mentions): part of every
# work's fingerprint, so a store classified before mentions were read gets them once.
MENTION_RULES = "mentions-1"


@dataclass
class Change:
    work: str
    iri: str
    axis: str
    before: list[str]
    after: list[tuple[str, float]]


@dataclass
class Written:
    """What a run changed in the record file: the state entries (iri -> entry) it was written from
    before (None: not known, e.g. a first run) and after, the source's time, each work's dataset
    reference, the store's inputs just before (kg.store.Store.inputs) and whether the model was
    the kept one (a retrained model relabels every work)."""

    before: dict | None
    after: dict
    retrieved: str
    refs: dict
    inputs: dict
    model_cached: bool


@dataclass
class ClassifyReport:
    papers: int = 0
    labelled: int = 0  # newly labelled works
    relabelled: int = 0  # stale works labelled again
    unchanged: int = 0
    no_text: int = 0
    surveys: int = 0
    needs_review: int = 0  # predicted labels below the review threshold (unknown ones included)
    dataset_links: int = 0
    mentions: int = 0  # methods and datasets named in titles and abstracts (kg.classify.mentions)
    mention_seconds: float = 0.0  # of which reading them took
    model_cached: bool = False  # the model came from the store's cache (not trained in this run)
    # where the time went: reading the graph, training (or loading) the model, predicting, writing
    # the record file and the state (the mentions: mention_seconds; the rebuild: kg.pipeline)
    read_seconds: float = 0.0
    train_seconds: float = 0.0
    predict_seconds: float = 0.0
    write_seconds: float = 0.0
    rebuild_seconds: float = 0.0
    excluded: int = 0  # excluded by a person: not placed
    low_relevance: int = 0  # undecided with relevance below the threshold: not placed
    min_relevance: float = MIN_RELEVANCE
    changes: list[Change] = field(default_factory=list)
    model: dict = field(default_factory=dict)
    records_changed: bool = False  # the record file was written: the graph needs building again
    rebuilt: bool = False  # kg.pipeline built it again
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    delta: str | None = None  # how the graph was published: "delta" (the change alone), or why it was built again
    written: Written | None = None  # what the record file held before and holds now (kg.classify.delta)

    def to_json(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("changes", "written")}
        out["changes"] = [{"work": c.work, "iri": c.iri, "axis": c.axis, "before": c.before,
                           "after": [{"label": v, "confidence": round(p, 4)} for v, p in c.after]}
                          for c in self.changes]
        return out


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _digest(*parts) -> str:
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False, sort_keys=True).encode()).hexdigest()[:16]


def has_run(store: Store | str | Path) -> bool:
    """True when the classifier has placed works in this store before (its state is kept)."""
    return (Store.at(store).path / STATE_FILE).is_file()


def work_ref(work: GraphWork) -> str:
    """The strongest reference to a work (what record files use to point at it)."""
    for kind in ("arxiv", "doi", "s2", "openalex", "corpus", "cite", "url"):
        if work.ids.get(kind):
            return f"{kind}:{work.ids[kind]}"
    return f"title:{work.title}"


def not_placed(work: GraphWork, min_relevance: float) -> str | None:
    """Why the classifier leaves a work out of the taxonomy, or None when it places it."""
    if work.scope == "out":
        return "excluded"
    if work.scope == "undecided" and (work.relevance or 0.0) < min_relevance:
        return "low relevance"
    return None


def needed_axes(work: GraphWork, taxonomy=None) -> list[str]:
    """The axes to label a work on: those no source gives it, of the ones the taxonomy has
    (a taxonomy without a modality scheme gets no modality labels, not 'unknown' ones)."""
    return _needed(work.given_labels(), taxonomy)


def _needed(given: dict[str, list[str]], taxonomy=None, present: list[str] | None = None) -> list[str]:
    """`present`: the axes the taxonomy has, when already known (asked once a run, not per work)."""
    if present is None:
        present = [axis for axis in LABEL_AXES if taxonomy is None or taxonomy.axis(SCHEME.get(axis, axis))]
    return [axis for axis in present if not given.get(axis)]


def _key_of(work: GraphWork) -> work_keys.WorkKey:
    """A work read from the graph as kg.classify.keys keeps it."""
    return work_keys.WorkKey(work.iri, [work_keys.text_key(work.title, work.abstract),
                                        bool(work.title.strip() or work.abstract.strip()), work.review,
                                        work.given_labels(), work.scope, work.relevance])


# ---------------------------------------------------------------- state
def _read_state(store_dir: Store) -> dict:
    path = store_dir.path / STATE_FILE
    records = store_dir.records_dir / RECORD_FILE
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict) or not isinstance(state.get("works"), dict):
            return {"works": {}}
        if records.is_file() and state.get("records_sha1") != _file_sha1(records):
            return {"works": {}}  # the record file changed behind our back: trust nothing
        if not records.is_file() and state["works"]:
            return {"works": {}}
        return state
    except (OSError, ValueError):
        return {"works": {}}


def _file_sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def _write_json(path: Path, data: dict) -> None:
    write_atomic(path, json.dumps(data, ensure_ascii=False, separators=(",", ":")))


# ---------------------------------------------------------------- entries
def _entry(work: GraphWork, axes: list[str], fp: str, labels: list[Label], datasets: list[str],
           mentions: list[EntityMention] = ()) -> dict:
    return {"fp": fp, "ids": work.ids, "title": work.title or None, "year": work.year, "display": work.display,
            "labels": [fields_of(lab) for lab in labels], "datasets": datasets, "axes": axes,
            "mentions": [to_dict(m) for m in mentions]}


def _unknown_labels(axes: list[str], evidence: str, at: str, agent: str) -> list[Label]:
    return [Label(axis, UNKNOWN, SOURCE_ID, 0.0, agent=agent, at=at, evidence=evidence, needs_review=True)
            for axis in axes if axis != "method"]


def _predicted_labels(pred: Prediction, axes: list[str], at: str) -> list[Label]:
    labels = []
    for axis in axes:
        if axis == "method":
            for notation, _name, conf, hit in pred.methods:
                labels.append(Label("method", notation, SOURCE_ID, conf, agent=pred.agent, at=at,
                                    evidence=f'named in the {hit.field}: "{hit.matched}"',
                                    needs_review=conf < pred.review_threshold))
            continue
        for value, conf in pred.axes[axis].values:
            labels.append(Label(axis, value, SOURCE_ID, round(conf, 4), agent=pred.agent, at=at,
                                evidence=pred.label_evidence(axis, value),
                                needs_review=value == UNKNOWN or conf < pred.review_threshold))
    return labels


def _keep_times(new: list[Label], old: list[dict]) -> None:
    """A label that did not change keeps the time it was first made."""
    before = {(o["axis"], o["value"], o["confidence"]): o.get("at") for o in old}
    for lab in new:
        at = before.get((lab.axis, lab.value, lab.confidence))
        if at:
            lab.at = at


def _keep_mention_times(new: list[EntityMention], old: list[dict]) -> None:
    """A mention that did not change keeps the time it was first read."""
    before = {(o["kind"], o["role"], o["key"], o.get("confidence")): o.get("at") for o in old}
    for m in new:
        at = before.get((m.kind, m.role, m.key, m.confidence))
        if at:
            m.at = at


def _values(labels: list[dict] | list[Label], axis: str) -> list[str]:
    items = [lab if isinstance(lab, dict) else fields_of(lab) for lab in labels]
    return sorted(x["value"] for x in items if x["axis"] == axis)


# ---------------------------------------------------------------- the run
def classify_works(store: Store | str | Path, *, graph=None, force: bool = False,
                   review_threshold: float = REVIEW_THRESHOLD, encoder=None,
                   min_relevance: float = MIN_RELEVANCE) -> ClassifyReport:
    """Label every unlabelled or stale work of the graph that is in scope or relevant enough and
    write the records (`records_changed` then says the graph is to be built again). `graph`:
    the graph to read (default: the store's current one; kg.pipeline passes a new one that is
    not published yet)."""
    if not 0.0 <= min_relevance <= 1.0:
        raise UsageError(f"the minimum relevance is a number from 0 to 1, not {min_relevance}")
    started = time.monotonic()
    store = Store.at(store)
    store.require_local("classifying (its predictions and state are kept beside the graph)",
                        hint="Use the local store (a folder) the graph is built in.")
    graph = graph if graph is not None else store.open()
    taxonomy = read_taxonomy(store.project.taxonomy_file)
    # what decides each work's labels: the keys the build kept beside the graph (kg.classify.keys),
    # else (an older generation, a graph being built, --all) every work read from the graph
    keys = None if force else work_keys.read(graph)
    full: dict[str, GraphWork] = {}

    def read_all() -> dict[str, GraphWork]:
        if not full:
            full.update((w.iri, w) for w in read_works(graph))
        return full

    if keys is None:
        keys = [_key_of(w) for w in read_all().values()]
    examples = [Example(k.iri, "", "", given, text=k.text) for k in keys
                if not k.review and k.has_text and (given := {a: set(v) for a, v in k.given.items() if a in AXES})]
    datasets = dataset_names(graph)
    model_fp = cache.model_key(fingerprint(examples, Lexicon.build(taxonomy, datasets), encoder),
                               store.project.taxonomy_file, encoder)
    state = {"works": {}} if force else _read_state(store)
    state_trusted = not force and (store.path / STATE_FILE).is_file() and bool(state["works"])
    old = state["works"]
    report = ClassifyReport(papers=len(keys), min_relevance=min_relevance)

    plan: dict[str, tuple[object, list[str], str]] = {}
    skip: dict[str, str] = {}
    present = [axis for axis in LABEL_AXES if taxonomy.axis(SCHEME.get(axis, axis))]
    for k in keys:
        axes = _needed(k.given, present=present)
        why = not_placed(k, min_relevance)
        if why:
            skip[k.iri] = why
        # model_fp covers the layers; a work is stale when whether it is placed changes
        fp = _digest(AGENT, MENTION_RULES, model_fp, review_threshold, k.text, axes, k.review, why)
        plan[k.iri] = (k, axes, fp)

    stale = dict.fromkeys(iri for iri, (_, _, fp) in plan.items() if old.get(iri, {}).get("fp") != fp)  # ordered set
    dropped = [iri for iri in old if iri not in plan]
    entries: dict[str, dict] = {iri: old[iri] for iri in plan if iri not in stale}
    report.unchanged = len(entries)
    # the stale works in full (their text, identifiers): those alone, unless every work was read
    details = full if full else read_works(graph, iris=list(stale)) if stale else {}
    if not isinstance(details, dict):
        details = {w.iri: w for w in details}
    if any(iri not in details for iri in stale):  # an IRI the bound query cannot name: read them all
        details = read_all()
    report.read_seconds = round(time.monotonic() - started, 3)

    if stale:
        at = _now()
        todo = [(details[iri], plan[iri][1], plan[iri][2]) for iri in stale if iri in details]
        readable = [(w, axes, fp) for w, axes, fp in todo
                    if not w.review and w.iri not in skip and (w.title.strip() or w.abstract.strip())]
        preds: dict[str, Prediction] = {}
        agent = AGENT + (f" +{getattr(encoder, 'name', 'embeddings')}" if encoder is not None else "")
        if readable:
            step = time.monotonic()
            clf, report.model_cached = cache.trained(
                store.path, model_fp, lambda: Classifier.train(training_examples(list(read_all().values())), taxonomy,
                                                               datasets, encoder=encoder,
                                                               review_threshold=review_threshold),
                encoder=encoder, review_threshold=review_threshold, retrain=force)
            report.model = {**clf.describe(), "key": model_fp, "cached": report.model_cached}
            report.train_seconds = round(time.monotonic() - step, 3)
            step = time.monotonic()
            for (w, _, _), pred in zip(readable, clf.predict([Doc(w.title, w.abstract, w.iri) for w, _, _ in readable])):
                preds[w.iri] = pred
            report.predict_seconds = round(time.monotonic() - step, 3)
        # what each work names, read outside the classifier's predict (which stays fast)
        read_at = time.monotonic()
        linker = linker_for(taxonomy, datasets)
        named = {w.iri: work_mentions(w.title, w.abstract, linker, source=SOURCE_ID, agent=agent, at=at)
                 for w, _, _ in readable}
        report.mention_seconds = round(time.monotonic() - read_at, 3)
        for w, axes, fp in todo:
            if w.iri in skip:  # out of scope or not relevant enough: no label at all
                labels, found = [], []
            elif w.review:
                labels = _unknown_labels(axes, "a survey spans the whole taxonomy; not placed in one cell", at, agent)
                found = []
            elif w.iri not in preds:
                labels = _unknown_labels(axes, "no title or abstract to classify", at, agent)
                found = []
            else:
                labels = _predicted_labels(preds[w.iri], axes, at)
                found = [name for name, _, _ in preds[w.iri].datasets]
                own = proposed_known(named[w.iri], w.title, taxonomy)  # a work does not build on its own method
                labels = [lab for lab in labels if not (lab.axis == "method" and lab.value in own)]
            mentions = named.get(w.iri, [])
            previous = old.get(w.iri)
            if previous:
                _keep_times(labels, previous.get("labels", []))
                _keep_mention_times(mentions, previous.get("mentions", []))
                report.relabelled += 1
            else:
                report.labelled += 1
            for axis in LABEL_AXES:
                before = _values(previous.get("labels", []), axis) if previous else []
                after = [(lab.value, lab.confidence) for lab in labels if lab.axis == axis]
                if before != sorted(v for v, _ in after):
                    report.changes.append(Change(w.display, w.iri, axis, before, after))
            entries[w.iri] = _entry(w, axes, fp, labels, found, mentions) if labels or found or mentions \
                else {"fp": fp}  # nothing recorded of this work: its fingerprint alone

    for entry in entries.values():
        labs = entry.get("labels", [])
        report.needs_review += sum(1 for lab in labs if lab.get("needs_review"))
        report.dataset_links += len(entry.get("datasets", []))
        report.mentions += len(entry.get("mentions", []))
    report.excluded = sum(1 for why in skip.values() if why == "excluded")
    report.low_relevance = sum(1 for why in skip.values() if why == "low relevance")
    report.surveys = sum(1 for k, _, _ in plan.values() if k.review)
    report.no_text = sum(1 for k, _, _ in plan.values() if not k.review and k.iri not in skip and not k.has_text)

    records = store.records_dir / RECORD_FILE
    step = time.monotonic()

    def unrecorded(entry: dict) -> bool:  # the record file holds nothing of this work
        return not (entry.get("labels") or entry.get("mentions") or entry.get("datasets"))

    def same(iri: str) -> bool:  # what the record file holds of this work did not change
        keep = ("ids", "title", "year", "labels", "datasets", "mentions")
        if iri not in old or (unrecorded(old[iri]) and unrecorded(entries[iri])):
            return unrecorded(entries[iri])
        return all(old[iri].get(k) == entries[iri].get(k) for k in keep)

    if ((stale or dropped) and records.is_file() and all(unrecorded(old[iri]) for iri in dropped)
            and all(same(iri) for iri in stale)):
        # only fingerprints changed (e.g. a work below the relevance threshold was excluded, or
        # new works are not placed): the records, and so the graph, stay as they are
        state = {**state, "classifier": AGENT, "model": model_fp, "works": entries}
        _write_json(store.path / STATE_FILE, state)
    elif stale or dropped or not records.is_file():
        inputs = store.inputs()  # what the graph was built from, if nothing else changed since
        retrieved = _now()
        refs = {iri: work_ref(details[iri]) if iri in details else entry_ref(entry)
                for iri, entry in entries.items() if entry.get("datasets")}
        write_records(store, entries, refs, retrieved)
        report.written = Written(before=old if state_trusted else None, after=entries, retrieved=retrieved, refs=refs,
                                 inputs=inputs, model_cached=report.model_cached or not report.model)
        state = {"classifier": AGENT, "model": model_fp, "records_sha1": _file_sha1(records), "works": entries}
        _write_json(store.path / STATE_FILE, state)
        report.records_changed = True
    report.write_seconds = round(time.monotonic() - step, 3)
    report.seconds = round(time.monotonic() - started, 3)
    return report


def write_records(store_dir: Store, entries: dict[str, dict], refs: dict[str, str], retrieved: str | None = None) -> Path:
    """The predictions as a record file: one source, one label-only work per paper, dataset mentions
    (`refs`: iri -> how a dataset names the work that uses it)."""
    from ..records.file import write_bundle

    path = store_dir.records_dir / RECORD_FILE
    write_bundle(path, records_bundle(entries, retrieved or _now(), refs.get))
    return path


def records_bundle(entries: dict[str, dict], retrieved: str, ref_of=None) -> Bundle:
    """The record file's bundle for `entries` (iri -> state entry): the classifier's source, a
    label-only work per labelled paper, the datasets each paper uses. `ref_of(iri)`: how a dataset
    names a user (default: the entry's strongest identifier; None leaves the work out)."""
    source = Source(id=SOURCE_ID, title="Labels predicted by the kg classifier", agent=AGENT, retrieved=retrieved,
                    note="Lexicon of the taxonomy's SKOS labels + TF-IDF/logistic regression trained on the "
                         "graph's labelled papers, combined with calibrated confidences.")
    ref_of = ref_of or (lambda iri: entry_ref(entries[iri]))
    bundle = Bundle(sources=[source])
    users: dict[str, list[str]] = {}
    for iri in sorted(entries):
        entry = entries[iri]
        labels = [Label(**lab) for lab in entry.get("labels", [])]
        mentions = [EntityMention(**m) for m in entry.get("mentions", [])]
        if labels or mentions:
            bundle.works.append(Work(ids=dict(entry["ids"]), sources=[SOURCE_ID], title=entry.get("title"),
                                     year=entry.get("year"), labels=labels, mentions=mentions))
        ref = ref_of(iri) if entry.get("datasets") else None
        if ref is not None:
            for name in entry["datasets"]:
                users.setdefault(name, []).append(ref)
    for name in sorted(users):
        bundle.datasets.append(Dataset(name=name, sources=[SOURCE_ID], used_by=sorted(set(users[name]))))
    return bundle


def entry_ref(entry: dict) -> str:
    """work_ref of the work a state entry was made for."""
    return work_ref(GraphWork(iri="", title=entry.get("title") or "", ids=dict(entry.get("ids") or {})))


def classify_texts(store: Store | str | Path, docs: list[Doc], *, review_threshold: float = REVIEW_THRESHOLD,
                   encoder=None) -> list[dict]:
    """Classify free text with the classifier trained on the graph (no prediction is stored)."""
    clf = train_from_graph(store, review_threshold=review_threshold, encoder=encoder)
    return [p.to_json() for p in clf.predict(docs)]


def examples_from_graph(store: Store | str | Path):
    """(labelled papers, taxonomy, dataset names) of the graph in a store (local or remote)."""
    store = Store.at(store)
    graph = store.open()
    return training_examples(read_works(graph)), read_taxonomy(store.project.taxonomy_file), dataset_names(graph)


def train_from_graph(store: Store | str | Path, *, review_threshold: float = REVIEW_THRESHOLD, encoder=None) -> Classifier:
    """The classifier trained on the graph's labelled papers: on a local store, the model kept
    by the last `kg classify` when its training inputs are the same (kg.classify.cache), else
    trained (and not kept: only labelling the graph writes into the store)."""
    store = Store.at(store)
    examples, taxonomy, datasets = examples_from_graph(store)

    def train() -> Classifier:
        return Classifier.train(examples, taxonomy, datasets, encoder=encoder, review_threshold=review_threshold)

    if store.remote:
        return train()
    key = cache.model_key(fingerprint(examples, Lexicon.build(taxonomy, datasets), encoder),
                          store.project.taxonomy_file, encoder)
    clf = cache.load(store.path, key)
    if clf is None:
        return train()
    clf.encoder, clf.review_threshold = encoder, review_threshold
    return clf
