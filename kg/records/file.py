"""Record files: what harvests and imports keep in <store>/records/*.jsonl.

One JSON object a line: {"type": "source"|"work"|"dataset"|"citation", ...fields}.
`kg build` reads them all, so harvested data survives every rebuild. Files are
written whole to a temporary name and renamed, so a kill never leaves half a file;
a temporary file whose writer died is removed at the next write.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import CorpusError
from ..fileio import atomic_file, remove_stale_temp_files
from . import Bundle, Citation, Dataset, Source, Work, from_dict, to_dict
from .labels import LABEL_AXIS_SCHEME

UNKNOWN = "unknown"  # a label value the graph skips (kg.records.labels, kg.rdf.quads): the classifier could not decide


def _lines(bundle: Bundle):
    for kind, items in (("source", bundle.sources), ("work", bundle.works),
                        ("dataset", bundle.datasets), ("citation", bundle.citations)):
        for item in items:
            yield json.dumps({"type": kind, **to_dict(item)}, ensure_ascii=False) + "\n"


def write_bundle(path: Path, bundle: Bundle) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temp_files(path.parent)
    # a full disk, a kill: the old file stays as it was, no half-written copy is left
    with atomic_file(path) as fh:
        for line in _lines(bundle):
            fh.write(line)


def holds(path: Path, bundle: Bundle) -> bool:
    """Whether the record file at `path` already holds exactly what `write_bundle` would write."""
    try:
        return path.read_text(encoding="utf-8") == "".join(_lines(bundle))
    except (OSError, UnicodeDecodeError):
        return False


def read_bundle(path: Path, vocabulary: dict[str, set[str]] | None = None,
                warnings: list[str] | None = None) -> Bundle:
    """A record file's records; a CorpusError names the file and the line that cannot be read.
    With the taxonomy's `vocabulary`, a label naming no concept of it is left out of the records
    read (the file keeps it) and said in `warnings`."""
    bundle = Bundle()
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise CorpusError(path, None, f"cannot be read: {exc.strerror or exc}") from None
    with fh:
        for lineno, raw in enumerate(fh, 1):
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]  # a byte-order mark some editors write
            try:
                line = raw.decode("utf-8")
                if not line.strip():
                    continue
                data = json.loads(line)
                if not isinstance(data, dict):
                    raise ValueError(f"a record must be a JSON object, got {type(data).__name__}")
                data = dict(data)
                kind = data.pop("type", None)
                if kind not in RECORD_TYPES:
                    raise ValueError(f"unknown record type {kind!r}; valid: {', '.join(RECORD_TYPES)}")
                record = from_dict(RECORD_CLASSES[kind], data)
                if vocabulary is not None and kind == "work":
                    record.labels = _known_labels(record, vocabulary, f"{path}, line {lineno}", warnings)
                getattr(bundle, RECORD_TYPES[kind]).append(record)
            except UnicodeDecodeError as exc:
                raise _bad_line(path, lineno, f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                                              f"{exc.start + 1})") from None
            except json.JSONDecodeError as exc:
                raise _bad_line(path, lineno, f"not valid JSON ({exc.msg} at column {exc.colno})") from None
            except (ValueError, TypeError) as exc:
                raise _bad_line(path, lineno, f"not a valid record: {exc}") from None
    return bundle


RECORD_TYPES = {"source": "sources", "work": "works", "dataset": "datasets", "citation": "citations"}
RECORD_CLASSES = {"source": Source, "work": Work, "dataset": Dataset, "citation": Citation}


def _known_labels(work: Work, vocabulary: dict[str, set[str]], where: str, warnings: list[str] | None) -> list:
    kept = []
    for label in work.labels:
        if label.axis not in LABEL_AXIS_SCHEME:
            problem = f"unknown label axis {label.axis!r} (valid: {', '.join(LABEL_AXIS_SCHEME)})"
        elif label.value == UNKNOWN or label.value in vocabulary.get(LABEL_AXIS_SCHEME[label.axis], set()):
            kept.append(label)  # "unknown": the classifier's record of a paper it could not place
            continue
        else:
            problem = f"{label.value!r} is not a {label.axis.replace('_', ' ')} of the taxonomy"
        if warnings is not None:
            warnings.append(f"{where}: {problem}; that label is left out")
    return kept


def _bad_line(path: Path, lineno: int, problem: str) -> CorpusError:
    error = CorpusError(path, f"line {lineno}", problem)
    error.hint = f"Fix or remove line {lineno} of {path}, then run the command again."
    return error


def read_records_dir(folder: Path, vocabulary: dict[str, set[str]] | None = None,
                     warnings: list[str] | None = None) -> Bundle:
    bundle = Bundle()
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            bundle.extend(read_bundle(path, vocabulary, warnings))
    return bundle
