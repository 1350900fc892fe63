"""Publishing what `kg classify` changed as a delta of the current graph, not a full rebuild.

The classifier's record file only adds to works the graph already has: label assertions, the
effective labels on the axes nothing else labels, method and dataset mentions, dataset uses, and
its source node. When only that file changed since the current generation was built (the
store's inputs, kg.store.Store.inputs, are those the build recorded), the new graph is the
current one (copied as a RocksDB checkpoint) minus the quads the old records of the changed
works made plus those their new records make, written by the same kg.rdf.quads writer a build
uses, so the result equals a full rebuild's.

`publish(store, written)` returns None when it published the delta, or why it could not (the
caller then builds the graph again): no trusted state from before, the model was retrained
(every work changes), the inputs changed outside the classifier, a change whose outcome
depends on the order a full build writes works in (an entity named differently by two works),
or a removal that something else than the classifier may also make (a dataset use).
"""

from __future__ import annotations

import pyoxigraph as ox

from ..derived import classifier_independent
from ..rdf.quads import MENTION_RELATIONS, QuadWriter
from ..rdf.taxonomy import read_taxonomy
from ..records.resolve import Resolver
from ..store import Store
from ..vocab import AXES, FABIO, KG, PROV, RDF, RDFS, XSD, mint, slug
from .keys import KEYS_FILE
from .run import SOURCE_ID, Written, records_bundle

_KEEP = ("ids", "title", "year", "labels", "datasets", "mentions")
MAX_SHARE = 0.25  # more works changed than this share of the graph: a full build is as quick

_TYPE = ox.NamedNode(RDF + "type")
_LABEL = ox.NamedNode(RDFS + "label")
_DERIVED = ox.NamedNode(PROV + "wasDerivedFrom")
_ATTRIBUTED = ox.NamedNode(PROV + "wasAttributedTo")
_HAS_LABEL = ox.NamedNode(str(KG.hasLabel))
_HAS_MENTION = ox.NamedNode(str(KG.hasMention))
_ENTITY = ox.NamedNode(str(KG.entity))
_RELATION = ox.NamedNode(str(KG.relation))
_MATCHED = ox.NamedNode(str(KG.matchedText))
_PREDICTED = ox.NamedNode(str(KG.isPredicted))
_AXIS_PROPS = {ox.NamedNode(str(p)) for p in AXES.values()}
_RELATIONS = {ox.NamedNode(str(p)) for p in MENTION_RELATIONS.values()}
_METHOD_RELATIONS = {ox.NamedNode(str(KG.proposesMethod)), ox.NamedNode(str(KG.usesMethod))}
_AGENT_PREFIX = mint("agent", "")


class Unsafe(Exception):
    """The delta cannot be computed safely: build the graph again."""


def _changed(before: dict, after: dict) -> list[str]:
    def recorded(entry: dict | None) -> bool:
        return bool(entry) and bool(entry.get("labels") or entry.get("mentions") or entry.get("datasets"))

    out = []
    for iri in sorted(set(before) | set(after)):
        a, b = before.get(iri), after.get(iri)
        if not recorded(a) and not recorded(b):
            continue
        if a is None or b is None or any(a.get(k) != b.get(k) for k in _KEEP):
            out.append(iri)
    return out


def _quads(entries: dict, retrieved: str, refs, taxonomy, iris: list[str]) -> tuple[set, QuadWriter, set[str]]:
    """The quads the records of `iris` make (a build's writer on the classifier's records alone)."""
    bundle = records_bundle({iri: entries[iri] for iri in iris if iri in entries}, retrieved, refs)
    writer = QuadWriter(taxonomy)
    minted = {node.iri for node in Resolver(bundle.works).nodes}
    if not minted <= set(iris):  # the records name their works as the graph does
        raise Unsafe("a classified work's identifiers mint another IRI than the graph's")
    try:
        quads = set(writer.iter_bundle(bundle))
    except Exception as exc:  # a dataset use that names no work: a build would say so
        raise Unsafe(f"the records do not make quads on their own ({exc})") from None
    return {q.triple for q in quads}, writer, {ds.name for ds in bundle.datasets}


def _datasets(entries: dict) -> set[str]:
    return {name for entry in entries.values() for name in entry.get("datasets", [])}


def publish(store: Store, written: Written | None, meta: dict) -> str | None:
    """Publish the classifier's change as a delta of the current generation (None), or say why
    not (nothing is published then; the caller builds the graph again). `meta`: what the new
    generation records of its build (kg.build.build_meta)."""
    if written is None:
        return "the record file was not written"
    if store.remote:
        return "the store is a SPARQL endpoint"
    if written.before is None:
        return "no state of an earlier run to compare with"
    if not written.model_cached:
        return "the model was trained again (every work may change)"
    if not store.exists():
        return "no graph yet"
    info = store.info()
    if info.get("inputs") != written.inputs:
        return "the graph was built from other inputs than the store holds now (records, curation, taxonomy)"
    changed = _changed(written.before, written.after)
    if len(changed) > MAX_SHARE * max(len(written.after), 1):
        return f"{len(changed)} works changed (a full build is as quick)"
    taxonomy = read_taxonomy(store.project.taxonomy_file)
    try:
        old, old_writer, old_sets = _quads(written.before, "", None, taxonomy, changed)
        new, new_writer, new_sets = _quads(written.after, written.retrieved, lambda iri: written.refs.get(iri),
                                           taxonomy, changed)
        meta = {**meta, "delta": {"from": store.generation_key(), "works": len(changed)}}
        base = store.dir.current()
        with store.draft(meta, from_current=True) as draft:
            keys = base / KEYS_FILE  # the classifier's records change none of the works' keys
            if keys.is_file():
                draft.files[KEYS_FILE] = keys.read_bytes()
            draft.files.update(classifier_independent(base))  # the citation table: unchanged too
            _apply(draft.graph.store, old, new, old_writer, new_writer, set(changed), old_sets | new_sets,
                   _datasets(written.after))
    except Unsafe as exc:
        return str(exc)
    return None


def _node(term: str) -> ox.NamedNode:
    """A node the writer kept as its N-Triples text (`<iri>`) or as a plain IRI."""
    return ox.NamedNode(term[1:-1] if term.startswith("<") and term.endswith(">") else term)


def _apply(graph: ox.Store, old: set, new: set, old_writer: QuadWriter, new_writer: QuadWriter,
           works: set[str], dataset_names: set[str], datasets_after: set[str]) -> None:
    source = ox.NamedNode(mint("source", SOURCE_ID))
    owned = {_node(i) for i in old_writer.label_nodes_from(SOURCE_ID) | new_writer.label_nodes_from(SOURCE_ID)}
    # methods and datasets minted from mentions (described by the writer, marked predicted)
    described = {t.subject.value for t in old | new if t.predicate == _PREDICTED}
    dataset_nodes = {ox.NamedNode(mint("dataset", slug(n))) for n in dataset_names}
    kept_datasets = {ox.NamedNode(mint("dataset", slug(n))) for n in datasets_after}

    def default(t: ox.Triple) -> ox.Quad:
        return ox.Quad(t.subject, t.predicate, t.object, ox.DefaultGraph())

    def has(s=None, p=None, o=None) -> bool:
        return next(iter(graph.quads_for_pattern(s, p, o, ox.DefaultGraph())), None) is not None

    remove, add, relations_gone = [], [], []
    agents = set()
    for t, adding in [(t, False) for t in old - new] + [(t, True) for t in new - old]:
        s, p = t.subject, t.predicate
        if s == source or s.value in described:
            continue  # the source node and entity descriptions: below
        if s.value.startswith(_AGENT_PREFIX):
            if adding:
                add.append(t)
            else:
                agents.add(s)
            continue
        if s in owned:
            (add if adding else remove).append(t)
        elif s.value in works:
            if p in (_HAS_LABEL, _HAS_MENTION) or p in _AXIS_PROPS or (p == _DERIVED and t.object == source):
                (add if adding else remove).append(t)
            elif p in _RELATIONS:
                (add if adding else relations_gone).append(t)
            # else: what every record of the work says (its type, title, identifiers): the graph has it
        elif s in dataset_nodes:
            if adding:
                add.append(t)
            elif s not in kept_datasets:  # the classifier no longer names this dataset at all
                if p == _DERIVED and t.object == source:
                    remove.append(t)
                else:
                    raise Unsafe(f"a dataset the classifier no longer names ({s.value}) may be described by "
                                 "other records")
        else:
            raise Unsafe(f"an unexpected quad of the classifier's records ({t})")
    for t in remove:
        graph.remove(default(t))
    graph.extend([default(t) for t in add])
    for t in relations_gone:  # kept while another mention still says it
        w, rel, e = t.subject, t.predicate, t.object
        supported = any(has(a, _RELATION, rel) and has(a, _ENTITY, e)
                        for a in (q.object for q in graph.quads_for_pattern(w, _HAS_MENTION, None, ox.DefaultGraph())))
        if supported:
            continue
        if rel not in _METHOD_RELATIONS:
            raise Unsafe(f"{w.value} no longer uses {e.value} by the classifier; other records may say so")
        graph.remove(default(t))
    _entities(graph, old, new, described, default)
    # the source node: its time and counts (as kg.rdf.quads' source_counts counts them)
    for q in list(graph.quads_for_pattern(source, None, None, ox.DefaultGraph())):
        graph.remove(q)
    work_count, label_count = ox.NamedNode(str(KG.workCount)), ox.NamedNode(str(KG.labelCount))
    graph.extend([default(t) for t in new if t.subject == source and t.predicate not in (work_count, label_count)])
    counts = _source_counts(graph, source)
    integer = ox.NamedNode(XSD + "integer")
    graph.extend([ox.Quad(source, work_count, ox.Literal(str(counts[0]), datatype=integer)),
                  ox.Quad(source, label_count, ox.Literal(str(counts[1]), datatype=integer))])
    for agent in agents:  # an agent nothing is attributed to any more is not described
        if not has(None, _ATTRIBUTED, agent):
            for q in list(graph.quads_for_pattern(agent, None, None, ox.DefaultGraph())):
                graph.remove(q)


def _entities(graph: ox.Store, old: set, new: set, described: set[str], default) -> None:
    """Methods and datasets minted from mentions: described once, from the first work naming them
    in a build. Kept as they are when every mention still names them alike; described when new;
    removed when nothing names them any more; otherwise the order of works decides: Unsafe."""
    want: dict[ox.NamedNode, set] = {}
    for t in new:
        if t.subject.value in described:
            want.setdefault(t.subject, set()).add(t)
    for iri in sorted(described):
        e = ox.NamedNode(iri)
        current = {q.triple for q in graph.quads_for_pattern(e, None, None, ox.DefaultGraph())}
        if current and not any(q.predicate == _PREDICTED for q in current):
            continue  # a dataset described by records: mentions do not describe it
        assertions = [q.subject for q in graph.quads_for_pattern(None, _ENTITY, e, ox.DefaultGraph())]
        if not assertions:
            for t in current:
                graph.remove(default(t))
            continue
        description = current or want.get(e, set())
        if current and e in want and want[e] != current:
            raise Unsafe(f"{iri} would be described from another mention than before")
        label = next((t.object for t in description if t.predicate == _LABEL), None)
        source = next((t.object for t in description if t.predicate == _DERIVED), None)
        for a in assertions:
            names = {q.object for q in graph.quads_for_pattern(a, _MATCHED, None, ox.DefaultGraph())}
            sources = {q.object for q in graph.quads_for_pattern(a, _DERIVED, None, ox.DefaultGraph())}
            if names != {label} or sources != {source}:
                raise Unsafe(f"{iri} is named differently by two works (a build describes it from the first)")
        if not current:
            graph.extend([default(t) for t in description])


def _source_counts(graph: ox.Store, source: ox.NamedNode) -> tuple[int, int]:
    works = labels = 0
    work_type, label_type = ox.NamedNode(FABIO + "ScholarlyWork"), ox.NamedNode(str(KG.LabelAssertion))
    mention_type = ox.NamedNode(str(KG.MentionAssertion))
    for q in graph.quads_for_pattern(None, _DERIVED, source, ox.DefaultGraph()):
        types = {t.object for t in graph.quads_for_pattern(q.subject, _TYPE, None, ox.DefaultGraph())}
        works += work_type in types
        labels += label_type in types or mention_type in types
    return works, labels
