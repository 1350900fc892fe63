"""Results derived from one published generation of the graph, kept beside it.

A published generation never changes, so what is computed from it (`kg stats`' counts, the
citation table, the app's views) holds for as long as that generation exists. It is kept in
`kg-derived/` inside the generation's folder, and every later process (the app, the report,
the command line) reads it in milliseconds instead of asking the graph again; a new build is a
new generation and computes afresh. A graph without a generation folder (a draft, a graph in
memory, an endpoint) keeps nothing, and neither does a folder that cannot be written: the
result is then computed at every ask. What is kept is read with a reader of the caller's; a
file that reader refuses (damaged, foreign, of an older format) is computed again, and written
again where the caller keeps what it computes (`kept`).
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from .fileio import write_atomic

DERIVED = "kg-derived"  # the folder, inside a generation's, of results derived from it
# what a reader may raise on a bad file (a cut .npz file is a zip file without its end: BadZipFile;
# damaged compressed data: zlib.error)
UNREADABLE = (OSError, ValueError, KeyError, TypeError, EOFError, zipfile.BadZipFile, zlib.error)

T = TypeVar("T")

# the results that depend only on the works, their display labels, their scope and the citation
# links between them (the citation table): what `kg classify` publishes as a delta changes none
# of these (kg.classify.delta adds the classifier's labels, mentions and dataset uses), so its
# generation carries them over from the one it is made from instead of computing them again
CLASSIFIER_INDEPENDENT = ("citations-",)


def derived_path(graph, filename: str) -> Path | None:
    """Where `filename` derived from `graph`'s generation is kept (None: no generation folder)."""
    generation = getattr(graph, "generation", None)
    if not isinstance(generation, Path) or not generation.is_dir():
        return None
    return beside(generation, filename)


def beside(generation: Path, filename: str) -> Path:
    """Where `filename` derived from the generation folder `generation` is kept (what kg build
    keeps with the generation it publishes, before any graph is opened on it)."""
    return Path(generation) / DERIVED / filename


def keep(path: Path | None, data: str | bytes) -> bool:
    """Write `data` as the whole of `path` (atomically); False when it cannot be kept there."""
    if path is None:
        return False
    try:
        path.parent.mkdir(exist_ok=True)
        write_atomic(path, data)
    except OSError:  # a read-only store: computed again next time
        return False
    return True


def kept(path: Path | None, read: Callable[[Path], T], compute: Callable[[], T],
         encode: Callable[[T], str | bytes]) -> T:
    """`read(path)` of the result kept at `path`, else `compute()`'s, kept there as `encode`
    makes it (a value `encode` refuses with TypeError or ValueError is returned, not kept)."""
    found = read_kept(path, read)
    return found[0] if found else kept_anew(path, compute(), encode)


def read_kept(path: Path | None, read: Callable[[Path], T]) -> tuple[T] | tuple[()]:
    """(`read(path)`,) of the result kept at `path`, or () when none is kept there or `read`
    refuses the file (damaged, foreign or older: computed and written again by the caller)."""
    if path is not None and path.is_file():
        try:
            return (read(path),)
        except UNREADABLE:
            pass
    return ()


def kept_anew(path: Path | None, value: T, encode: Callable[[T], str | bytes]) -> T:
    """`value`, computed by the caller, kept at `path` as `encode` makes it (not kept when
    `encode` refuses it with TypeError or ValueError, or the folder cannot be written)."""
    if path is not None:
        try:
            data = encode(value)
        except (TypeError, ValueError):
            return value
        keep(path, data)
    return value


def classifier_independent(generation: Path) -> dict[str, bytes]:
    """The results kept beside the generation folder `generation` that a classifier delta does
    not change (CLASSIFIER_INDEPENDENT), as files of the next generation: path under its
    folder -> content."""
    folder = Path(generation) / DERIVED
    if not folder.is_dir():
        return {}
    return {f"{DERIVED}/{path.name}": path.read_bytes() for path in sorted(folder.iterdir())
            if path.is_file() and path.name.startswith(CLASSIFIER_INDEPENDENT)}


def packed_strings(name: str, values) -> dict:
    """A column of strings as two compact arrays for an .npz file (numpy's own string arrays
    take the longest string's width for every row: a 100,000-row table of IRIs and labels was
    112 MB): `name`, the UTF-8 text of them all, and `name`_ends, where each ends in it."""
    import numpy as np

    values = list(values)
    text = "".join(values)
    return {name: np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8),
            f"{name}_ends": np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)))}


def unpacked_strings(data, name: str) -> list[str]:
    """The strings packed_strings packed, from a loaded .npz file."""
    text = data[name].tobytes().decode("utf-8", "surrogatepass")
    ends = data[f"{name}_ends"].tolist()
    if ends and ends[-1] != len(text):
        raise ValueError(f"the kept column {name!r} is damaged")
    return [text[start:end] for start, end in zip([0, *ends[:-1]], ends)]
