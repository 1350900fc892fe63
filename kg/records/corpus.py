"""Reading the bundled, human-editable corpus (YAML) into records.

Two kinds of file are understood, told apart by their top-level keys:
- a survey table (`survey:` + `works:`), e.g. data/survey.yaml;
- a curated list (`papers:` and/or `datasets:`), e.g. data/awesome.yaml.
Every file starts with a `source:` block saying where its facts come from. The fields are
those of the JSON Schema shipped next to this module (corpus.schema.json, documented in
docs/taxonomy.md); every file is checked against it on load, then its concept values against
the taxonomy in use.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path

import jsonschema
import yaml

from . import ids
from ..errors import CorpusError
from . import Author, Bundle, Citation, Dataset, Label, Source, Work

RESOLUTIONS = {"verified", "background_only", "unresolved", "candidate"}
CONFIDENCE_WORDS = {"low", "low-medium", "medium", "medium-high", "high"}


def read_corpus(folder: Path, vocabulary: dict[str, set[str]]) -> Bundle:
    """All *.yaml files of a corpus folder, in name order."""
    files = sorted(Path(folder).glob("*.yaml"))
    if not files:
        raise CorpusError(folder, None, "no corpus files (*.yaml) found")
    bundle = Bundle()
    for path in files:
        bundle.extend(load_file(path, vocabulary))
    return bundle


# Keys whose values are identifiers: kept as the text written, even when YAML would read a number
# (`arxiv: 2406.09400` is not the float 2406.094, `s2: 0123` not the octal 83).
ID_KEYS = frozenset({"paper", "arxiv", "doi", "s2", "openalex", "corpus", "cite", "id", "url",
                     "introduced_by", "used_by"})
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")


class _Loader(yaml.SafeLoader):
    """yaml.safe_load, except that identifier values (ID_KEYS) are always read as text, and that
    a key written twice in one mapping is an error: YAML would keep the last value and drop the
    first without a word (a second `decisions:` appended to curation.yaml would hide every
    decision above it, and the next `kg curate` would write the file without them)."""

    def compose_mapping_node(self, anchor):
        node = super().compose_mapping_node(anchor)
        _refuse_duplicate_keys(node)  # as written, before merge keys (<<) are flattened into it
        return node

    def construct_mapping(self, node, deep=False):
        mapping = super().construct_mapping(node, deep=deep)
        for key_node, value_node in node.value:
            if not (isinstance(key_node, yaml.ScalarNode) and key_node.value in ID_KEYS):
                continue
            key = self.construct_object(key_node)
            if _is_number(value_node):
                mapping[key] = value_node.value
            elif isinstance(value_node, yaml.SequenceNode):
                values = self.construct_sequence(value_node, deep=True)
                mapping[key] = [item.value if _is_number(item) else value
                                for item, value in zip(value_node.value, values)]
        return mapping


def _refuse_duplicate_keys(node) -> None:
    """A ConstructorError at the second place a key of the mapping `node` is written."""
    if not isinstance(node, yaml.MappingNode):
        return
    first: dict = {}
    for key_node, _ in node.value:
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = (key_node.tag, key_node.value)  # 1 and '1' are two keys
        if key in first:
            raise yaml.constructor.ConstructorError(
                f"in the mapping that starts at line {node.start_mark.line + 1}", node.start_mark,
                f"the key {key_node.value!r} is written twice (first at line {first[key] + 1}); YAML would keep only "
                "the last one: merge the two into one", key_node.start_mark)
        first[key] = key_node.start_mark.line


def _is_number(node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag in _NUMBER_TAGS and not node.style


def load_yaml_text(text: str):
    """YAML text as data, identifiers (ID_KEYS) kept as the text written."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)


def read_yaml(path: Path):
    """A hand-edited YAML file's content; a CorpusError naming the file and line when it is broken.
    Identifiers (ID_KEYS) are read as text, so `arxiv: 2406.09400` stays 2406.09400."""
    try:
        return load_yaml_text(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else None
        raise CorpusError(path, where, f"not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(path, None, f"cannot be read: {exc}") from None


SCHEMA_FILE = Path(__file__).with_name("corpus.schema.json")


@lru_cache(maxsize=1)
def schema() -> dict:
    """The JSON Schema of a corpus file (corpus.schema.json, shipped in the package)."""
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def _plain(value):
    """YAML data as JSON data: dates (YAML reads `2024-12-03` as one) become their ISO text."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def check_schema(path: Path, doc) -> None:
    """Raise a CorpusError naming the file, the entry and the field when `doc` breaks the corpus schema."""
    data = _plain(doc)
    validator = jsonschema.Draft202012Validator(schema())
    errors = sorted(validator.iter_errors(data), key=lambda e: (list(map(str, e.absolute_path)), e.message))
    if not errors:
        return
    error = errors[0]
    where = list(error.absolute_path)
    entry, rest = None, where
    if len(where) >= 2 and where[0] in ("works", "papers", "datasets") and isinstance(where[1], int):
        item = data[where[0]][where[1]]
        name = item.get("name") or item.get("cite") or item.get("title") if isinstance(item, dict) else None
        entry = f"{where[0]} #{where[1] + 1}" + (f" ({name})" if name else "")
        rest = where[2:]
    elif where:
        entry, rest = str(where[0]), where[1:]
    field = ".".join(f"#{p + 1}" if isinstance(p, int) else str(p) for p in rest)
    if error.validator == "additionalProperties":
        extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        known = ", ".join(sorted(error.schema.get("properties", {})))
        problem = f"unknown field {', '.join(repr(x) for x in extra)}" + (f" in {field}" if field else "") + \
            f"; known fields: {known}"
    elif error.validator == "required":
        problem = error.message.replace("is a required property", "is required") + (f" in {field}" if field else "")
    else:
        problem = (f"field {field!r}: " if field else "") + _wording(error)
    raise CorpusError(path, entry, problem)


def _wording(error) -> str:
    """A schema error in plain words (jsonschema's own message for the rarer kinds)."""
    if error.validator == "type":
        kinds = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        names = {"array": "a list", "object": "a mapping", "integer": "a whole number", "null": "empty",
                 "number": "a number", "string": "text", "boolean": "true or false"}
        return f"must be {' or '.join(names.get(k, k) for k in kinds)}, got {error.instance!r}"
    if error.validator in ("minimum", "maximum"):
        return f"{error.instance!r} is out of range ({error.validator} {error.validator_value})"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of {', '.join(map(str, error.validator_value))}"
    return error.message


def load_file(path: Path, vocabulary: dict[str, set[str]]) -> Bundle:
    doc = read_yaml(path)
    if not isinstance(doc, dict) or "source" not in doc:
        raise CorpusError(path, None, "expected a mapping with a 'source:' block at the top")
    check_schema(path, doc)
    reader = _Reader(path, vocabulary)
    source = reader.source(doc["source"])
    bundle = Bundle(sources=[source])
    if "works" in doc:
        survey = reader.survey(doc.get("survey"), source)
        if survey:
            bundle.works.append(survey)
        for i, entry in enumerate(_list(doc, "works", path)):
            work, matches = reader.table_work(i, entry, source)
            bundle.works.append(work)
            bundle.works += matches
            if survey:
                bundle.citations.append(Citation(_ref(survey), _ref(work), source.id))
    for i, entry in enumerate(_list(doc, "papers", path)):
        bundle.works.append(reader.list_paper(i, entry, source))
    for i, entry in enumerate(_list(doc, "datasets", path)):
        bundle.datasets.append(reader.dataset(i, entry, source))
    if not (bundle.works or bundle.datasets):
        raise CorpusError(path, None, "holds no works, papers or datasets")
    return bundle


def _list(doc: dict, key: str, path: Path) -> list:
    value = doc.get(key) or []
    if not isinstance(value, list):
        raise CorpusError(path, None, f"'{key}:' must be a list")
    return value


def _ref(work: Work) -> str:
    """The strongest reference to a work, for citations and dataset links."""
    for kind in ("arxiv", "doi", "s2", "openalex", "cite"):
        if kind in work.ids:
            return f"{kind}:{work.ids[kind]}"
    return f"title:{work.title}"


class _Reader:
    def __init__(self, path: Path, vocabulary: dict[str, set[str]]):
        self.path = path
        self.vocabulary = vocabulary

    def fail(self, entry: str, problem: str):
        raise CorpusError(self.path, entry, problem)

    def source(self, block) -> Source:
        if not isinstance(block, dict) or not block.get("id") or not block.get("title"):
            self.fail("source", "needs at least 'id' and 'title'")
        return Source(
            id=str(block["id"]),
            title=str(block["title"]),
            agent=str(block.get("agent") or block["title"]),
            url=block.get("url"),
            retrieved=str(block["retrieved"]) if block.get("retrieved") else None,
            note=block.get("note"),
        )

    def _entry_name(self, kind: str, i: int, entry) -> str:
        if isinstance(entry, dict):
            name = entry.get("name") or entry.get("cite") or entry.get("title")
            if name:
                return f"{kind} #{i + 1} ({name})"
        return f"{kind} #{i + 1}"

    def _year(self, where: str, value) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1900 <= value <= 2100:
            self.fail(where, f"year must be a number between 1900 and 2100, got {value!r}")
        return value

    def _concept(self, where: str, axis: str, value) -> str:
        allowed = self.vocabulary.get(axis, set())
        if value not in allowed:
            self.fail(where, f"unknown {axis} {value!r}; valid: {', '.join(sorted(allowed))}")
        return value

    def _ids(self, where: str, entry: dict) -> dict[str, str]:
        out = {}
        for kind in ("arxiv", "doi", "s2", "openalex"):
            if entry.get(kind):
                value = ids.normalise(kind, entry[kind])
                if not value:
                    self.fail(where, f"{kind} id {entry[kind]!r} is not valid")
                out[kind] = value
        return out

    def survey(self, block, source: Source) -> Work | None:
        if not block:
            return None
        if not isinstance(block, dict) or not block.get("title"):
            self.fail("survey", "needs a 'title'")
        return Work(
            ids=self._ids("survey", block),
            sources=[source.id],
            title=block["title"],
            year=self._year("survey", block.get("year")),
            authors=[Author(a) for a in block.get("authors", [])],
            resolution="verified",
            is_survey=True,
        )

    def table_work(self, i: int, entry, source: Source) -> tuple[Work, list[Work]]:
        where = self._entry_name("works", i, entry)
        if not isinstance(entry, dict):
            self.fail(where, "must be a mapping")
        if not entry.get("cite"):
            self.fail(where, "needs 'cite' (how the survey cites the work)")
        for key in ("category", "mechanism"):
            if not entry.get(key):
                self.fail(where, f"needs '{key}'")
        resolution = entry.get("resolution", "verified")
        if resolution not in RESOLUTIONS:
            self.fail(where, f"unknown resolution {resolution!r}; valid: {', '.join(sorted(RESOLUTIONS))}")
        evidence = "survey table" + (f", section {entry['subsection']}" if entry.get("subsection") else "")
        labels = [Label(axis, self._concept(where, axis, entry[axis]), source.id, at=source.retrieved,
                        evidence=evidence) for axis in ("category", "mechanism")]
        work = Work(
            ids={**self._ids(where, entry), "cite": str(entry["cite"])},
            sources=[source.id],
            title=entry.get("title"),
            short_name=entry.get("name"),
            year=self._year(where, entry.get("year")),
            venue=entry.get("venue"),
            note=entry.get("note"),
            authors=[Author(a) for a in _names(entry.get("authors"))],
            labels=labels,
            resolution=resolution,
            subsection=str(entry["subsection"]) if entry.get("subsection") else None,
            surveyed=entry.get("surveyed", True),
        )
        matches = []
        for j, cand in enumerate(entry.get("candidates") or []):
            cwhere = f"{where}, candidate #{j + 1}"
            if not isinstance(cand, dict) or not cand.get("title"):
                self.fail(cwhere, "needs a 'title'")
            conf = cand.get("confidence", "low")
            if conf not in CONFIDENCE_WORDS:
                self.fail(cwhere, f"confidence must be one of {', '.join(sorted(CONFIDENCE_WORDS))}")
            match = Work(ids=self._ids(cwhere, cand), sources=[source.id], title=cand["title"],
                         year=self._year(cwhere, cand.get("year")), candidate=True)
            matches.append(match)
            work.possible_matches.append((_ref(match), conf))
        return work, matches

    def list_paper(self, i: int, entry, source: Source) -> Work:
        where = self._entry_name("papers", i, entry)
        if not isinstance(entry, dict):
            self.fail(where, "must be a mapping")
        if not entry.get("title"):
            self.fail(where, "needs a 'title'")
        found = self._ids(where, entry)
        if entry.get("url") and "arxiv" not in found:
            guess = ids.arxiv_id(entry["url"])
            if guess:
                found["arxiv"] = guess
        if entry.get("url"):
            found["url"] = entry["url"]
        labels = []
        for key, axis in (("input", "input_modality"), ("output", "output_modality")):
            values = entry.get(key) or []
            if not isinstance(values, list):
                self.fail(where, f"'{key}' must be a list of modality ids")
            for value in values:
                labels.append(Label(axis, self._concept(where, "modality", value), source.id,
                                    at=source.retrieved, evidence=f"{key} column of the list"))
        return Work(
            ids=found,
            sources=[source.id],
            title=entry["title"],
            year=self._year(where, entry.get("year")),
            venue=entry.get("venue"),
            note=entry.get("note"),
            code=entry.get("code"),
            page=entry.get("page"),
            labels=labels,
            list_section=" / ".join(x for x in (entry.get("section"), entry.get("group")) if x) or None,
            surveyed=entry.get("surveyed", False),
        )

    def dataset(self, i: int, entry, source: Source) -> Dataset:
        where = self._entry_name("datasets", i, entry)
        if not isinstance(entry, dict) or not entry.get("name"):
            self.fail(where, "needs a 'name'")
        concepts = entry.get("concepts")
        if concepts is not None and (not isinstance(concepts, int) or concepts < 0):
            self.fail(where, f"concepts must be a count, got {concepts!r}")
        refs = entry.get("introduced_by") or []
        refs = [refs] if isinstance(refs, str) else refs
        for ref in refs:
            if ":" not in str(ref):
                self.fail(where, f"introduced_by {ref!r} must look like 'arxiv:ID', 'title:TEXT' or 'name:NAME'")
        return Dataset(
            name=str(entry["name"]),
            sources=[source.id],
            year=self._year(where, entry.get("year")),
            concepts=concepts,
            url=entry.get("url"),
            notes=entry.get("notes"),
            introduced_by=[str(r) for r in refs],
        )


def _names(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, str):
        return [n.strip() for n in value.split(",") if n.strip()]
    return [str(n) for n in value]
