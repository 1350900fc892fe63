"""Turning merged records into RDF quads (the default graph of the store).

Pure: records and taxonomy in, quads out. IRIs are deterministic (no blank
nodes), so building twice gives the same graph.

The writer keeps what it writes as N-Triples lines (kg.rdf.ntriples): `iter_ntriples` streams
them as text into the store's bulk loader (`kg build`), `iter_bundle` as pyoxigraph Quads.
Terms that recur across works (predicates, classes, concepts, sources, agents, datatypes) are
made once and reused.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

import pyoxigraph as ox

from ..errors import CorpusError
from ..records.labels import effective_labels, is_predicted
from ..records import Bundle, EntityMention, Label, Source
from ..records.resolve import Node, Resolver
from ..records.labels import LABEL_AXIS_SCHEME
from .ntriples import NTriples
from .taxonomy import Taxonomy
from ..vocab import AXES, CITO, DCAT, DCTERMS, FABIO, FOAF, ID, ID_PROPERTIES, KG, PRISM, PROV, RDF, RDFS, SCHEMA, SKOS, XSD, digest, mint, slug

# Terms are written as their N-Triples text, made once where they recur: an IRI's form is
# Oxigraph's own (pyoxigraph checks it); a literal's is "text" with Oxigraph's escapes, made by
# Oxigraph itself whenever the text holds a character that needs one. Formatting a line of
# three strings costs a tenth of formatting three pyoxigraph objects (docs/benchmarks.md).


@lru_cache(maxsize=8192)
def _T(iri: str) -> str:
    """An IRI's N-Triples form (a ValueError when it is not a valid IRI). The IRIs that recur
    (predicates, classes, concepts, sources, agents, datatypes) stay in the cache."""
    return str(ox.NamedNode(iri))


class _Terms:
    """The N-Triples forms of a namespace's IRIs, each made when first asked, then an attribute."""

    def __init__(self, namespace):
        self._namespace = namespace

    def __getattr__(self, name: str) -> str:
        ns = self._namespace
        term = _T(ns + name if isinstance(ns, str) else str(getattr(ns, name)))  # KG checks its names
        setattr(self, name, term)
        return term


_K, _RDF, _DCT, _FABIO, _PRISM, _FOAF, _SKOS, _PROV, _SCHEMA, _DCAT, _CITO = (
    _Terms(KG), _Terms(RDF), _Terms(DCTERMS), _Terms(FABIO), _Terms(PRISM), _Terms(FOAF), _Terms(SKOS),
    _Terms(PROV), _Terms(SCHEMA), _Terms(DCAT), _Terms(CITO))
TYPE = _T(RDF + "type")
LABEL = _T(RDFS + "label")
COMMENT = _T(RDFS + "comment")
_XSD_STRING = XSD + "string"
# a character N-Triples escapes (Oxigraph's escapes are then made by Oxigraph), or one that is
# no Unicode scalar value (pyoxigraph refuses it as Oxigraph does)
_NEEDS_OXIGRAPH = re.compile(r'[\x00-\x1f\x7f"\\\ud800-\udfff]')


@lru_cache(maxsize=1024)
def _n(term) -> str:
    return _T(str(term))


def _text(value: str) -> str:
    """A plain literal's N-Triples form."""
    if _NEEDS_OXIGRAPH.search(value) is None:
        return f'"{value}"'
    return str(ox.Literal(value))


def _lit(value, datatype: str | None = None) -> str:
    if datatype:
        value = str(value)
        if datatype == _XSD_STRING:
            return _text(value)
        if _NEEDS_OXIGRAPH.search(value) is None:
            return f'"{value}"^^{_T(datatype)}'
        return str(ox.Literal(value, datatype=ox.NamedNode(datatype)))
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, bool):
        return _TRUE if value else _FALSE
    if isinstance(value, int):
        return f'"{value}"^^{_INTEGER}'
    return _text(str(value))


_INTEGER = _T(XSD + "integer")
_TRUE, _FALSE = (f'"{v}"^^{_T(XSD + "boolean")}' for v in ("true", "false"))


@lru_cache(maxsize=4096)
def _source(source_id: str) -> str:
    return _T(mint("source", source_id))


_ID = str(ID)


def _hashed(kind: str, digest_: str) -> str:
    """The IRI term of a node named by a digest (hex digits: mint() would leave them as they are)."""
    return f"<{_ID}{kind}/{digest_}>"


# a work's text fields and links: (record attribute, property)
_TEXT_FIELDS = (("title", _DCT.title), ("abstract", _DCT.abstract), ("venue", _PRISM.publicationName),
                ("short_name", _K.shortName), ("tldr", _K.tldr), ("resolution", _K.resolution),
                ("subsection", _K.surveySubsection), ("list_section", _K.listSection))
_LINK_FIELDS = (("code", _SCHEMA.codeRepository), ("page", _FOAF.homepage), ("pdf", _K.openAccessPdf))


def _link(url: str) -> str:
    try:
        return _T(quote(url.strip(), safe=":/?#[]@!$&'()*+,;=%~.-_"))
    except ValueError:
        return _lit(url, XSD + "anyURI")


def _time(value: str) -> str:
    kind = "dateTime" if "T" in value else "date" if len(value) == 10 else "gYearMonth" if len(value) == 7 else "string"
    return _lit(value, XSD + kind)


@dataclass(slots=True)
class WorkFacts:
    """What the writer wrote of one work that the citation network page filters and draws on
    (kg.analysis.network_store keeps them with the generation kg build publishes): the text of
    its fabio:hasPublicationYear, the notations of its kg:category concepts, whether it is marked
    kg:isCandidate true, whether it is typed fabio:ReviewArticle, its kg:citationCount."""

    review: bool = False
    year: str | None = None
    categories: tuple[str, ...] = ()
    candidate: bool = False
    citation_count: int | None = None


class QuadWriter:
    def __init__(self, taxonomy: Taxonomy):
        self.taxonomy = taxonomy
        self.lines: list[str] = []  # N-Triples lines written since the last take()
        self.sources: dict[str, Source] = {}
        self.warnings: list[str] = []
        self._described: set[str] = set()  # people and agents whose own triples are written
        self._agents: dict[str, str] = {}  # agent name -> its term
        self._people: dict[str, str] = {}  # author key -> its term
        self._derived: dict[str, tuple[set, set]] = {}  # source id -> (work IRIs, label IRIs) from it
        self._datasets: set[str] = set()  # dataset IRIs the records describe (not minted from mentions)
        # what the citation table is made of (kg build keeps it with the generation): each work's
        # rdfs:label, in the order written, and the cito:cites links as positions in that order
        self.work_labels: dict[str, str] = {}
        self.cites: tuple[array, array] = (array("i"), array("i"))
        # and what the citation network page draws on, per work in the same order (WorkFacts)
        self.work_facts: list[WorkFacts] = []
        self.labels_exact = True  # False: a work written twice, the labels above are not the graph's

    def take(self) -> list[ox.Quad]:
        """The quads written since the last call (the writer keeps none of them)."""
        return list(NTriples([self.take_text()]))

    def take_text(self) -> str:
        """The quads written since the last call, as N-Triples text."""
        out, self.lines = "".join(self.lines), []
        return out

    def _first_time(self, iri: str) -> bool:
        if iri in self._described:
            return False
        self._described.add(iri)
        return True

    def add(self, s, p, o) -> None:
        """One triple of terms in their N-Triples form (or pyoxigraph terms, whose str() is it)."""
        self.lines.append(f"{s} {p} {o} .\n")

    # ------------------------------------------------------------ sources and agents
    def source(self, src: Source) -> None:
        self.sources[src.id] = src
        s = _source(src.id)
        self.add(s, TYPE, _K.Source)
        self.add(s, LABEL, _lit(src.title))
        self.add(s, _DCT.title, _lit(src.title))
        if src.url:
            self.add(s, _SCHEMA.url, _link(src.url))
        if src.retrieved:
            self.add(s, _DCT.date, _time(src.retrieved))
        if src.request:
            self.add(s, _PROV.atLocation, _lit(src.request))
        if src.note:
            self.add(s, COMMENT, _lit(src.note))
        self.add(s, _PROV.wasAttributedTo, self.agent(src.agent))

    def agent(self, name: str) -> str:
        a = self._agents.get(name)
        if a is None:
            iri = mint("agent", slug(name))
            a = self._agents[name] = _T(iri)
            if self._first_time(iri):
                self.add(a, TYPE, _PROV.Agent)
                self.add(a, LABEL, _lit(name))
        return a

    # ------------------------------------------------------------ works
    def work(self, node: Node) -> None:
        w = _T(node.iri)
        first = node.first
        self.add(w, TYPE, _FABIO.ScholarlyWork)
        facts = WorkFacts(review=any(r.is_survey for r in node.records))
        if facts.review:
            self.add(w, TYPE, _FABIO.ReviewArticle)
        display = first("short_name") or first("title") or node.ids.get("cite") or node.ids.get("url")
        self.add(w, LABEL, _lit(display))
        if node.iri in self.work_labels or isinstance(display, bool):
            self.labels_exact = False
        self.work_labels[node.iri] = display if isinstance(display, str) else str(display)  # _lit's text
        self.work_facts.append(facts)
        for kind, value in node.ids.items():
            prop = ID_PROPERTIES.get(kind)
            if prop is None:  # a kind with no property of its own (MAG, DBLP, PubMed ...): "kind:value"
                self.add(w, _DCT.identifier, _lit(f"{kind}:{value}"))
            else:
                self.add(w, _n(prop), _link(value) if kind == "url" else _lit(value))
        for kind, value in node.extra_ids():  # further identifiers from other sources, as "kind:value"
            self.add(w, _DCT.identifier, _lit(f"{kind}:{value}"))
        for attr, prop in _TEXT_FIELDS:
            value = first(attr)
            if value:
                self.add(w, prop, _lit(value))
        if value := first("year"):
            self.add(w, _FABIO.hasPublicationYear, _lit(value, XSD + "gYear"))
            facts.year = str(value)
        if value := first("date"):
            self.add(w, _DCT.issued, _time(value))
        if (value := first("citation_count")) is not None:
            self.add(w, _K.citationCount, _lit(int(value)))
            facts.citation_count = int(value)
        for attr, prop in _LINK_FIELDS:
            if value := first(attr):
                self.add(w, prop, _link(value))
        for subject in sorted({f for r in node.records for f in r.fields_of_study}):
            self.add(w, _DCT.subject, _lit(subject))
        seen_authors: dict[str, str] = {}
        byline = next((r for r in node.records if r.authors), None)  # the record whose author list is used
        for author in first("authors") or []:
            key = author.ids.get("s2") or slug(author.name)
            if key in seen_authors:
                continue
            seen_authors[key] = author.name
            a = self._people.get(key)
            if a is None:
                iri = mint("person", key)
                a = self._people[key] = _T(iri)
                if self._first_time(iri):
                    self.add(a, TYPE, _FOAF.Person)
                    name = _lit(author.name)
                    self.add(a, _FOAF.name, name)
                    self.add(a, LABEL, name)
            self.add(w, _DCT.creator, a)
        if seen_authors:  # a list that ended in "and others" keeps that marker, as BibTeX writes it
            more = ["others"] if byline is not None and byline.et_al else []
            self.add(w, _K.authorList, _lit("; ".join([*seen_authors.values(), *more])))
        for note in dict.fromkeys(r.note for r in node.records if r.note):  # curation remarks, never the venue
            self.add(w, _SKOS.editorialNote, _lit(note))
        for src in sorted({s for r in node.records for s in r.sources}):
            self.add(w, _PROV.wasDerivedFrom, _source(src))
            self._derived_from(src)[0].add(node.iri)
        in_taxonomy = False
        labels = [lab for r in node.records for lab in r.labels]
        for label in labels:
            self.label(node, label)
        for axis, values in effective_labels(labels).items():
            for value in values:
                concept = self.taxonomy.get(LABEL_AXIS_SCHEME[axis], value)
                self.add(w, _n(AXES[axis]), _T(concept.iri))
                in_taxonomy = in_taxonomy or axis == "category"
                if axis == "category":
                    facts.categories += (concept.notation,)
        said: set[tuple[str, str, str]] = set()
        for m in (m for r in node.records for m in r.mentions):
            if (m.kind, m.role, m.key) not in said:
                said.add((m.kind, m.role, m.key))
                self.mention(node, m)
        # a predicted category suggests a cell; a candidate stays one until a person or survey places it
        placed = in_taxonomy and any(lab.axis == "category" and not is_predicted(lab) for lab in labels)
        if any(r.candidate for r in node.records) and not placed:
            self.add(w, _K.isCandidate, _lit(True))
            facts.candidate = True
        if any(r.surveyed for r in node.records):
            self.add(w, _K.surveyed, _lit(True))

    def label(self, node: Node, label: Label) -> None:
        concept = self.taxonomy.get(LABEL_AXIS_SCHEME.get(label.axis, ""), label.value)
        if concept is None:
            if label.value != "unknown":
                self.warnings.append(f"{node.iri}: unknown {label.axis} {label.value!r} ignored")
            return
        src = self.sources.get(label.source)
        agent_name = label.agent or (src.agent if src else label.source)
        iri = digest(node.iri, label.axis, label.value, label.source, agent_name)
        a = _hashed("label", iri)
        self._derived_from(label.source)[1].add(a)
        self.add(_T(node.iri), _K.hasLabel, a)
        self.add(a, TYPE, _K.LabelAssertion)
        self.add(a, _K.axis, _n(AXES[label.axis]))
        self.add(a, _K.concept, _T(concept.iri))
        self.add(a, _K.confidence, _lit(f"{label.confidence:.4f}", XSD + "decimal"))
        self.add(a, _PROV.wasAttributedTo, self.agent(agent_name))
        self.add(a, _PROV.wasDerivedFrom, _source(label.source))
        when = label.at or (src.retrieved if src else None)
        if when:
            self.add(a, _PROV.generatedAtTime, _time(when))
        if label.evidence:
            self.add(a, COMMENT, _lit(label.evidence))
        if label.needs_review:
            self.add(a, _K.needsReview, _lit(True))

    def mention(self, node: Node, m: EntityMention) -> None:
        """A method or dataset the work names: the statement (kg:proposesMethod, kg:usesMethod,
        kg:introducesDataset, kg:usesDataset), its assertion with provenance and evidence, and,
        for a name nothing else in the graph holds, the entity itself, marked predicted."""
        relation = MENTION_RELATIONS.get((m.kind, m.role))
        if relation is None:
            self.warnings.append(f"{node.iri}: unknown mention role {m.kind} {m.role!r} ignored")
            return
        entity = self.entity(m)
        if entity is None:
            return
        src = self.sources.get(m.source)
        agent_name = m.agent or (src.agent if src else m.source)
        iri = digest(node.iri, str(relation), m.key, m.source, agent_name)
        a = _hashed("mention", iri)
        self._derived_from(m.source)[1].add(a)
        w = _T(node.iri)
        self.add(w, _n(relation), entity)
        self.add(w, _K.hasMention, a)
        self.add(a, TYPE, _K.MentionAssertion)
        self.add(a, _K.relation, _n(relation))
        self.add(a, _K.entity, entity)
        self.add(a, _K.confidence, _lit(f"{m.confidence:.4f}", XSD + "decimal"))
        self.add(a, _PROV.wasAttributedTo, self.agent(agent_name))
        self.add(a, _PROV.wasDerivedFrom, _source(m.source))
        when = m.at or (src.retrieved if src else None)
        if when:
            self.add(a, _PROV.generatedAtTime, _time(when))
        self.add(a, _K.matchedText, _lit(m.name))
        self.add(a, _K.textField, _lit(m.part))
        self.add(a, _K.spanStart, _lit(int(m.start)))
        self.add(a, _K.spanEnd, _lit(int(m.end)))
        if m.sentence:
            self.add(a, _K.sentence, _lit(m.sentence))
        if m.cue:
            self.add(a, _K.cue, _lit(m.cue))

    def entity(self, m: EntityMention) -> str | None:
        """The node a mention names: the taxonomy method or graph dataset it was linked to, else
        one minted from its normalised name (shared by every work naming it), described once."""
        if m.kind == "method" and m.known:
            concept = self.taxonomy.get("method", m.known)
            if concept is not None:
                return _T(concept.iri)
        if m.kind == "dataset" and m.known:
            return _T(mint("dataset", slug(m.known)))
        if m.kind not in ("method", "dataset") or not m.key:
            return None
        iri = mint(m.kind, m.key)
        e = _T(iri)
        if self._first_time(iri) and iri not in self._datasets:
            self.add(e, TYPE, _K.Method if m.kind == "method" else _DCAT.Dataset)
            self.add(e, LABEL, _lit(m.name))
            self.add(e, _DCT.title, _lit(m.name))
            self.add(e, _K.entityKey, _lit(m.key))
            self.add(e, _K.isPredicted, _lit(True))
            self.add(e, _PROV.wasDerivedFrom, _source(m.source))
            for alias in m.aliases:
                self.add(e, _SKOS.altLabel, _lit(alias))
        return e

    def _derived_from(self, source: str) -> tuple[set, set]:
        return self._derived.setdefault(source, (set(), set()))

    def label_nodes_from(self, source: str) -> set[str]:
        """The label and mention assertion nodes written so far that derive from `source` (as
        the writer keeps them: N-Triples text `<iri>` or plain IRIs)."""
        return set(self._derived.get(source, (set(), set()))[1])

    def source_counts(self) -> None:
        """How many works and label assertions derive from each source: written once the
        works are, so that listing sources needs no scan of the whole graph."""
        for src in self.sources:
            works, labels = self._derived.get(src, (set(), set()))
            s = _source(src)
            self.add(s, _K.workCount, _lit(len(works)))
            self.add(s, _K.labelCount, _lit(len(labels)))

    # ------------------------------------------------------------ the whole bundle
    def iter_bundle(self, bundle: Bundle) -> Iterator[ox.Quad]:
        """The quads of a whole bundle, yielded a work at a time so that a large graph
        streams into the store instead of being held in memory."""
        for _ in self.steps(bundle):
            yield from self.take()

    def iter_ntriples(self, bundle: Bundle) -> NTriples:
        """The same quads as N-Triples text, a chunk a work at a time (what `kg build` loads)."""
        return NTriples(self.take_text() for _ in self.steps(bundle))

    def steps(self, bundle: Bundle) -> Iterator[None]:
        """Write the quads of a whole bundle, pausing (yielding) whenever a part is written
        (a work, the citations...): the caller takes what was written at each pause."""
        for src in bundle.sources:
            self.source(src)
        self._datasets.update(mint("dataset", slug(ds.name)) for ds in bundle.datasets)
        resolver = Resolver(bundle.works)
        for node in resolver.nodes:
            self.work(node)
            yield
        for node in resolver.nodes:
            for rec in node.records:
                for ref, conf in rec.possible_matches:
                    target = resolver.lookup(ref)
                    if target:
                        self.add(_T(node.iri), _K.possibleMatch, _T(target.iri))
                        self.add(_T(target.iri), _K.matchConfidence, _lit(conf))
        cites = set()
        for cit in bundle.citations:
            a, b = resolver.lookup(cit.citing), resolver.lookup(cit.cited)
            if a is None or b is None:
                self.warnings.append(f"citation {cit.citing} -> {cit.cited}: a work is unknown, skipped")
            elif a is not b:
                cites.add((a.iri, b.iri))
        yield
        cites_p = _CITO.cites
        position = {iri: i for i, iri in enumerate(self.work_labels)}
        citing, cited = self.cites
        for n, (a, b) in enumerate(sorted(cites), 1):
            self.add(ox.NamedNode(a), cites_p, ox.NamedNode(b))
            citing.append(position[a])
            cited.append(position[b])
            if n % 10_000 == 0:
                yield
        yield
        for ds in bundle.datasets:
            self.dataset(ds, resolver)
        self.source_counts()
        yield

    def dataset(self, ds, resolver: Resolver) -> None:
        d = _T(mint("dataset", slug(ds.name)))
        self.add(d, TYPE, _DCAT.Dataset)
        self.add(d, LABEL, _lit(ds.name))
        self.add(d, _DCT.title, _lit(ds.name))
        if ds.year:
            self.add(d, _DCT.issued, _lit(ds.year, XSD + "gYear"))
        if ds.concepts is not None:
            self.add(d, _K.conceptCount, _lit(ds.concepts))
        if ds.url:
            self.add(d, _DCAT.landingPage, _link(ds.url))
        if ds.notes:
            self.add(d, COMMENT, _lit(ds.notes))
        for src in ds.sources:
            self.add(d, _PROV.wasDerivedFrom, _source(src))
        for prop, refs in ((KG.introducesDataset, ds.introduced_by), (KG.usesDataset, ds.used_by)):
            for ref in refs:
                node = resolver.lookup(ref)
                if node is None:
                    raise CorpusError(ds.sources[0], f"dataset {ds.name}", f"{ref!r} matches no work in the corpus")
                self.add(_T(node.iri), _n(prop), d)


MENTION_RELATIONS = {("method", "proposes"): KG.proposesMethod, ("method", "uses"): KG.usesMethod,
                     ("dataset", "introduces"): KG.introducesDataset, ("dataset", "uses"): KG.usesDataset}


def bundle_quads(bundle: Bundle, taxonomy: Taxonomy) -> tuple[list[ox.Quad], list[str]]:
    """All quads for a bundle of records (deduplicated, in a stable order) and warnings."""
    writer = QuadWriter(taxonomy)
    quads = list(dict.fromkeys(writer.iter_bundle(bundle)))
    return quads, writer.warnings


def iter_ontology_quads(paths) -> Iterator[ox.Quad]:
    for path in paths:
        yield from ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)
