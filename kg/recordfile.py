"""Record files: what harvests and imports keep in <store>/records/*.jsonl.

One JSON object a line: {"type": "source"|"work"|"dataset"|"citation", ...fields}.
`kg build` reads them all, so harvested data survives every rebuild. Files are
written whole to a temporary name and renamed, so a kill never leaves half a file.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .errors import CorpusError
from .records import Bundle, Citation, Dataset, Source, to_dict, work_from_dict


def write_bundle(path: Path, bundle: Bundle) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for kind, items in (("source", bundle.sources), ("work", bundle.works),
                            ("dataset", bundle.datasets), ("citation", bundle.citations)):
            for item in items:
                fh.write(json.dumps({"type": kind, **to_dict(item)}, ensure_ascii=False) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def read_bundle(path: Path) -> Bundle:
    bundle = Bundle()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                kind = data.pop("type")
                if kind == "source":
                    bundle.sources.append(Source(**data))
                elif kind == "work":
                    bundle.works.append(work_from_dict(data))
                elif kind == "dataset":
                    bundle.datasets.append(Dataset(**data))
                elif kind == "citation":
                    bundle.citations.append(Citation(**data))
                else:
                    raise ValueError(f"unknown record type {kind!r}")
            except (ValueError, TypeError, KeyError) as exc:
                raise CorpusError(path, f"line {lineno}", f"not a valid record: {exc}") from None
    return bundle


def read_records_dir(folder: Path) -> Bundle:
    bundle = Bundle()
    if folder.is_dir():
        for path in sorted(folder.glob("*.jsonl")):
            bundle.extend(read_bundle(path))
    return bundle
