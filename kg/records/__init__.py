"""Plain records every source produces and the graph builder consumes.

A record says what one source claims about one work, dataset or citation, and
where that claim came from. Records are merged into graph nodes by kg.records.resolve.
"""

from __future__ import annotations

import sys
import types
import typing
from dataclasses import MISSING, asdict, dataclass, field, fields, is_dataclass


@dataclass(slots=True)
class Source:
    """Where facts came from (a survey table, a list, an API response, a person)."""

    id: str
    title: str
    agent: str
    url: str | None = None
    retrieved: str | None = None  # ISO date or date-time
    request: str | None = None
    note: str | None = None


@dataclass(slots=True)
class Label:
    """One claim that a work belongs to a taxonomy concept on one axis."""

    axis: str  # category | mechanism | input_modality | output_modality | task | metric
    value: str  # the concept's skos:notation
    source: str  # Source.id
    confidence: float = 1.0
    agent: str | None = None  # overrides the source's agent (classifier version, curator)
    at: str | None = None  # when the claim was made
    evidence: str | None = None
    needs_review: bool = False  # a prediction below the review threshold


@dataclass(slots=True)
class EntityMention:
    """One claim that a work names a method or dataset in a role (kg.classify.mentions), with
    where it was read: the words as written, the field, the character span and the sentence."""

    kind: str  # method | dataset
    role: str  # proposes | uses (methods); introduces | uses (datasets)
    name: str  # as written
    key: str  # the normalised name entities are de-duplicated by (kg.classify.mentions.entity_key)
    source: str  # Source.id
    confidence: float = 1.0
    agent: str | None = None
    at: str | None = None
    part: str = "abstract"  # title | abstract
    start: int = 0  # character span of the name in the cleaned field
    end: int = 0
    sentence: str = ""
    cue: str = ""  # what decided the role ("we propose", "outperforms", "dataset" ...)
    known: str | None = None  # the taxonomy method notation or graph dataset name it was linked to
    aliases: list[str] = field(default_factory=list)  # the long form of an acronym the text defines


@dataclass(slots=True)
class Author:
    name: str
    ids: dict[str, str] = field(default_factory=dict)  # e.g. {"s2": "1741101"}


@dataclass(slots=True)
class Work:
    ids: dict[str, str]  # arxiv, doi, s2, corpus, openalex, cite, url
    sources: list[str]
    title: str | None = None
    short_name: str | None = None
    abstract: str | None = None
    year: int | None = None
    date: str | None = None
    venue: str | None = None
    authors: list[Author] = field(default_factory=list)
    code: str | None = None
    page: str | None = None
    pdf: str | None = None
    fields_of_study: list[str] = field(default_factory=list)
    citation_count: int | None = None
    tldr: str | None = None
    labels: list[Label] = field(default_factory=list)
    mentions: list[EntityMention] = field(default_factory=list)  # methods and datasets it names (classifier)
    resolution: str | None = None  # verified | background_only | unresolved | candidate
    subsection: str | None = None
    surveyed: bool = False  # the corpus declares it a work the survey covers (its own table, by default)
    list_section: str | None = None
    is_survey: bool = False  # the survey itself (typed fabio:ReviewArticle)
    candidate: bool = False  # known to the graph but not (yet) placed in the taxonomy
    possible_matches: list[tuple[str, str]] = field(default_factory=list)  # (work ref, confidence)
    note: str | None = None  # curation or resolution remarks ("venue per liner review page"); never in venue
    venue_original: str | None = None  # the venue as the source wrote it, when `venue` is its normalised name
    et_al: bool = False  # the source's author list ends in "and others": the work has more authors than listed


@dataclass(slots=True)
class Dataset:
    name: str
    sources: list[str]
    year: int | None = None
    concepts: int | None = None
    url: str | None = None
    notes: str | None = None
    introduced_by: list[str] = field(default_factory=list)  # work refs "arxiv:..", "title:.."
    used_by: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Citation:
    citing: str  # work ref
    cited: str  # work ref
    source: str


@dataclass
class Bundle:
    """Everything one source contributed."""

    sources: list[Source] = field(default_factory=list)
    works: list[Work] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)

    def extend(self, other: "Bundle") -> None:
        self.sources += other.sources
        self.works += other.works
        self.datasets += other.datasets
        self.citations += other.citations


def fields_of(record) -> dict:
    """A record's fields by name, every one, values as they are (not copied: `asdict` copies
    nested values, five times slower for a flat record such as a Label)."""
    return {name: getattr(record, name) for name in record.__slots__}


def to_dict(record) -> dict:
    """A record as plain JSON-ready data, without empty fields."""
    return {k: v for k, v in asdict(record).items() if v not in (None, [], {}, False)}


def work_from_dict(data: dict) -> Work:
    """The inverse of to_dict for a Work (used by record files)."""
    return from_dict(Work, data)


def from_dict(cls, data, where: str = ""):
    """The inverse of to_dict: a record from plain JSON data, each field checked against its
    declared type. A ValueError names the field and says what it must be."""
    try:  # well-formed data (nearly all): checked by the class's compiled checks, no messages made
        return _quick(cls, data)
    except _NotQuick:
        return _from_dict_checked(cls, data, where)  # the same checks, saying where one fails


class _NotQuick(Exception):
    """Data the quick reading cannot take as it is: read again by the full checks."""


def _quick(cls, data):
    if type(data) is not dict:
        raise _NotQuick
    names, readers, required = _quick_plan(cls)
    if not names >= data.keys() or not required <= data.keys():
        raise _NotQuick
    return cls(**{name: readers[name](value) for name, value in data.items()})


_PLANS: dict = {}


def _quick_plan(cls) -> tuple:
    """Per record class: its field names, a reader per field (the value as from_dict makes it, or
    _NotQuick), and the fields that must be given."""
    if cls not in _PLANS:
        hints = _hints(cls)
        readers = {f.name: _quick_reader(hints[f.name]) for f in _fields(cls)}
        required = {f.name for f in _fields(cls) if f.default is MISSING and f.default_factory is MISSING}
        _PLANS[cls] = (frozenset(readers), readers, frozenset(required))
    return _PLANS[cls]


def _quick_reader(hint):
    """A function taking a JSON value of `hint` as from_dict would, raising _NotQuick otherwise
    (then the full checks read it and say what is wrong)."""
    origin, args, record = _shape(hint)
    optional = origin in (typing.Union, types.UnionType) and type(None) in args and len(args) == 2
    if optional:
        (hint,) = [a for a in args if a is not type(None)]
        origin, args, record = _shape(hint)
    exact = {str: str, bool: bool, int: int}.get(hint)
    if exact is str:
        def read(value):
            if type(value) is str:
                return sys.intern(value) if len(value) <= SHARED_LENGTH else value  # _shared, inlined
            if optional and value is None:
                return value
            raise _NotQuick
    elif exact is not None:
        def read(value):
            if type(value) is exact or (optional and value is None):
                return value
            raise _NotQuick
    elif hint is float:
        def read(value):
            if type(value) in (float, int) or (optional and value is None):
                return value
            raise _NotQuick
    elif origin is list and args[0] is str:
        def read(value):
            if type(value) is list and all(type(v) is str for v in value):
                return [_shared(v) for v in value]
            if optional and value is None:
                return None
            raise _NotQuick
    elif origin is dict and args[1] is str:
        def read(value):
            if type(value) is dict and all(type(v) is str and type(k) is str for k, v in value.items()):
                return {_shared(k): _shared(v) for k, v in value.items()}
            if optional and value is None:
                return None
            raise _NotQuick
    elif origin is list and _shape(args[0])[2]:
        item = args[0]

        def read(value):
            if type(value) is list:
                return [_quick(item, v) for v in value]
            if optional and value is None:
                return None
            raise _NotQuick
    else:  # anything rarer: the full checks
        def read(value):
            raise _NotQuick
    return read


def _shared(text: str) -> str:
    """A short text as one object shared by every record that holds it: an axis, a concept, a
    source, an agent, an identifier's kind, a venue, an author's name. JSON gives each occurrence
    its own string; shared, 100,000 records take about 190 MB less (with the slotted classes 240
    MB: docs/benchmarks.md, "Issue 18's targets at 100,000 papers, sixth round"). Longer texts
    (abstracts, most titles) rarely repeat and stay as they are."""
    return sys.intern(text) if len(text) <= SHARED_LENGTH else text


SHARED_LENGTH = 48


def _from_dict_checked(cls, data, where: str = ""):
    if not isinstance(data, dict):
        raise ValueError(f"a {cls.__name__.lower()} record must be a JSON object, got {_shown(data)}")
    hints = _hints(cls)
    if not hints.keys() >= data.keys():
        unknown = sorted(set(data) - set(hints))
        raise ValueError(f"unknown field(s) {unknown}" + (f" in {where}" if where else ""))
    values = {}
    for f in _fields(cls):
        if f.name in data:
            values[f.name] = _checked(data[f.name], hints[f.name], f"{where}.{f.name}" if where else f.name)
        elif f.default is MISSING and f.default_factory is MISSING:
            name = f"{where}.{f.name}" if where else f.name
            origin = typing.get_origin(hints[f.name])
            if origin not in (list, dict):  # to_dict leaves out empty lists and mappings
                raise ValueError(f"field {name!r} is missing")
            values[f.name] = origin()
    return cls(**values)


_HINTS: dict = {}


def _hints(cls) -> dict:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


_FIELDS: dict = {}


def _fields(cls) -> tuple:
    if cls not in _FIELDS:
        _FIELDS[cls] = fields(cls)
    return _FIELDS[cls]


_SHAPES: dict = {}


def _shape(hint) -> tuple:
    """A type hint's origin, arguments and whether it is a record class (read once per hint:
    a record file checks the same few hints millions of times)."""
    if hint not in _SHAPES:
        _SHAPES[hint] = (typing.get_origin(hint), typing.get_args(hint), is_dataclass(hint))
    return _SHAPES[hint]


def _shown(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _describe(hint) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None)) + \
            (" or null" if type(None) in args else "")
    if origin is list:
        return f"a list of {_describe(args[0]).removeprefix('a ').removeprefix('an ')}s"
    if origin is dict:
        return f"an object of {_describe(args[1]).removeprefix('a ').removeprefix('an ')}s"
    if origin is tuple:
        return f"a list of {len(args)} texts" if all(a is str for a in args) else f"a list of {len(args)} values"
    if is_dataclass(hint):
        return f"a {hint.__name__.lower()} object"
    return {str: "text", int: "a whole number", float: "a number", bool: "true or false"}.get(hint, str(hint))


def _checked(value, hint, where: str):
    if hint is str and isinstance(value, str):  # most fields: a text
        return value
    origin, args, record = _shape(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        try:
            return _checked(value, inner, where)
        except ValueError:
            if value is None or type(None) not in args:
                raise
            raise ValueError(f"field {where!r} must be {_describe(hint)}, got {_shown(value)}") from None
    ok = True
    if origin is list:
        if not isinstance(value, list):
            ok = False
        else:
            if args[0] is str and all(isinstance(v, str) for v in value):
                return list(value)
            return [_checked(v, args[0], f"{where}[{i}]") for i, v in enumerate(value)]
    elif origin is dict:
        if not isinstance(value, dict):
            ok = False
        else:
            if args[1] is str and all(isinstance(v, str) for v in value.values()):
                return {str(k): v for k, v in value.items()}
            return {str(k): _checked(v, args[1], f"{where}.{k}") for k, v in value.items()}
    elif origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            ok = False
        else:
            return tuple(_checked(v, a, f"{where}[{i}]") for i, (v, a) in enumerate(zip(value, args)))
    elif record:
        if not isinstance(value, dict):
            ok = False
        else:
            return from_dict(hint, value, where)
    elif hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    elif hint is str:
        ok = isinstance(value, str)
    if not ok:
        raise ValueError(f"field {where!r} must be {_describe(hint)}, got {_shown(value)}")
    return value
