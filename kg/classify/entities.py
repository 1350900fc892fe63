"""Method and dataset entities from what papers say: mentions as records, and people's decisions.

`kg classify` reads each placed work's title and abstract (kg.classify.mentions) and keeps what
it names as `EntityMention` records beside its labels: the role (proposes / uses a method,
introduces / uses a dataset), the evidence (words, field, span, sentence, cue) and a
confidence, attributed to the classifier's agent with the time. kg.rdf.quads turns them into
`kg:proposesMethod`, `kg:usesMethod`, `kg:introducesDataset` and `kg:usesDataset` statements,
each backed by a `kg:MentionAssertion`; a name no taxonomy method or graph dataset holds
becomes an entity of its own, marked `kg:isPredicted`, one per normalised name across works.

People curate those entities in curation.yaml (`kg curate --entity NAME ...`): rename one,
merge it into another (a known method or dataset, or another mentioned name) or reject it.
`kg build` applies the decisions to the mentions every time (`apply_entity_decisions`), so they
survive rebuilds and re-classification. Decisions apply in the order they were made: a later
one may name an entity by the name an earlier one gave it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import UsageError
from ..records import Bundle, EntityMention
from ..rdf.taxonomy import Taxonomy
from .mentions import DATASET, METHOD, Linker, display_name, entity_key, extract

ENTITY_ACTIONS = ("rename", "merge_into", "reject")
KINDS = (METHOD, DATASET)


def linker_for(taxonomy: Taxonomy, datasets: dict[str, list[str]]) -> Linker:
    """The known entities mentions link to: the taxonomy's named methods (label and synonyms,
    keyed by notation) and the graph's datasets (name and aliases)."""
    methods = {c.notation: [c.label, *c.synonyms] for c in taxonomy.axis("method")}
    return Linker(methods, datasets)


def work_mentions(title: str, abstract: str, linker: Linker, *, source: str, agent: str, at: str) -> list[EntityMention]:
    """The mentions of one work as records with their provenance."""
    return [EntityMention(m.kind, m.role, m.name, m.key, source, m.confidence, agent=agent, at=at, part=m.field,
                          start=m.start, end=m.end, sentence=m.sentence, cue=m.cue, known=m.known,
                          aliases=list(m.aliases))
            for m in extract(title, abstract, linker)]


def proposed_known(mentions: list[EntityMention], title: str = "", taxonomy: Taxonomy | None = None) -> set[str]:
    """The taxonomy methods (notations) a work proposes itself, so it does not also build on them:
    those its mentions say it proposes, and a method whose descriptive name of several words
    opens the title ("Retrieval-Augmented Personalization for ..." is the RAP paper)."""
    own = {m.known for m in mentions if m.kind == METHOD and m.role == "proposes" and m.known}
    opening = " " + _plain(title) + " "
    for concept in taxonomy.axis("method") if taxonomy is not None and title else ():
        for label in (concept.label, *concept.synonyms):
            plain = _plain(label)
            if " " in plain and any(opening.startswith(f" {plain} {w} ") for w in _AFTER_OWN_NAME) \
                    or opening.strip() == plain and " " in plain:
                own.add(concept.notation)
    return own


_AFTER_OWN_NAME = ("for", "of", "with", "via", "in", "through", "from", "towards", "toward", ":")


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[-_/]", " ", text.lower()).replace(":", " : ").split())


# ---------------------------------------------------------------- people's decisions
@dataclass
class EntityDecision:
    """A person's decision about one method or dataset entity, named by its name or key."""

    entity: str  # the name as the person gave it
    key: str  # entity_key(entity)
    action: str  # rename | merge_into | reject
    value: str | None = None  # the new name, or the entity merged into
    kind: str | None = None  # method | dataset, when the person said which
    by: str = "curator"
    at: str | None = None
    index: int = 0


def is_entity_decision(d) -> bool:
    return isinstance(d, dict) and d.get("entity") is not None


def apply_entity_decisions(bundle: Bundle, decisions: list[EntityDecision], taxonomy: Taxonomy) -> list[str]:
    """Rename, merge or drop the mentions people decided about (in place), in the order the
    decisions were made, so a later decision may name an entity by the name an earlier one gave
    it; return warnings for decisions that name no mentioned entity. A merge into a known method
    or dataset links the mentions to it."""
    if not decisions:
        return []
    index: dict[str, list[EntityMention]] = {}  # a name's key -> the mentions it names now
    for work in bundle.works:
        for m in work.mentions:
            index.setdefault(m.key, []).append(m)
    linker = linker_for(taxonomy, {ds.name: [] for ds in bundle.datasets})
    rejected: set[int] = set()
    warnings = []
    for d in decisions:
        named = [m for m in index.get(d.key, []) if id(m) not in rejected and (d.kind is None or m.kind == d.kind)]
        if not named:
            warnings.append(f"curation: decision #{d.index + 1} about {d.entity!r} matches no method or dataset "
                            "papers name; nothing changed")
            continue
        for m in named:
            m.cue = f"{m.cue}; {d.action.replace('_', ' ')} by {d.by}" if m.cue else f"{d.action} by {d.by}"
        if d.action == "reject":
            rejected.update(id(m) for m in named)
        elif d.action == "rename":
            for m in named:
                m.name = d.value
            bucket = index.setdefault(entity_key(d.value), [])  # a later decision may use the new name
            there = {id(x) for x in bucket}
            bucket.extend(m for m in named if id(m) not in there)
        else:  # merge_into
            target = entity_key(d.value)
            for m in named:
                kind, known = linker.link(target, m.kind)
                m.key = target
                if known is not None and kind == m.kind:
                    m.known, m.name = known, known if kind == DATASET else m.name
                else:
                    m.known, m.name = None, display_name(d.value)
            moved = {id(m) for m in named}
            index[d.key] = [m for m in index[d.key] if id(m) not in moved]
            index.setdefault(target, []).extend(named)
    for work in bundle.works:
        if not work.mentions:
            continue
        kept = [m for m in work.mentions if id(m) not in rejected]
        # a merge can make two mentions of one entity: the strongest role, then confidence, stays
        best: dict[tuple[str, str], EntityMention] = {}
        for m in kept:
            k = (m.kind, m.key)
            if k not in best or (m.role != "uses", m.confidence) > (best[k].role != "uses", best[k].confidence):
                best[k] = m
        work.mentions = [m for m in kept if best[(m.kind, m.key)] is m]
    return warnings


def validate_entity_decision(entity: str, *, rename: str | None, merge_into: str | None, reject: bool,
                             kind: str | None) -> dict:
    """The decision `kg curate --entity` records, checked (a UsageError says what is wrong)."""
    if not entity_key(entity or ""):
        raise UsageError("give the entity's name (--entity NAME): a method or dataset the graph lists")
    given = [x for x in (rename is not None, merge_into is not None, reject) if x]
    if len(given) != 1:
        raise UsageError("say what to do with the entity: one of --rename NEW, --merge-into OTHER, --reject")
    if kind is not None and kind not in KINDS:
        raise UsageError(f"--kind must be method or dataset, not {kind!r}")
    for flag, value in (("--rename", rename), ("--merge-into", merge_into)):
        if value is not None and not entity_key(value):
            raise UsageError(f"{flag} needs a name with a letter or digit")
    if merge_into is not None and entity_key(merge_into) == entity_key(entity):
        raise UsageError(f"{entity!r} and {merge_into!r} are the same entity already")
    decision: dict = {"entity": entity}
    if kind:
        decision["kind"] = kind
    if rename is not None:
        decision["rename"] = rename
    elif merge_into is not None:
        decision["merge_into"] = merge_into
    else:
        decision["reject"] = True
    return decision


def graph_entities(graph) -> dict[tuple[str, str], tuple[str, bool]]:
    """(kind, entity key) -> (name, predicted) of every method and dataset papers name in the graph."""
    from ..sparql.named import run_named

    out: dict[tuple[str, str], tuple[str, bool]] = {}
    for kind, query in ((METHOD, "methods"), (DATASET, "datasets")):
        for row in run_named(graph, query).records():
            if row.get("name"):
                out.setdefault((kind, entity_key(str(row["name"]))), (str(row["name"]), bool(row.get("predicted"))))
    return out
