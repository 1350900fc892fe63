"""What the app's pages show, kept with the store generation it was computed from.

A published generation never changes, so a view (the Overview's counts, the gap cells, the
citation network's table, ...) computed once from it holds for as long as that generation is
current. `stored(graph, name, compute)` reads the view from `<generation>/kg-derived/`
(kg.derived, where the citation table and `kg stats`' counts live too) when it is there,
else computes it, writes it there and returns it: a second server start, or another server
on the same store, shows it without asking the graph. A new build is a new generation folder
and computes afresh. A graph without a generation folder (an endpoint, a graph in memory) or a
store that cannot be written computes every time; the app's st.cache_data keeps the result
within the server either way.

Views are JSON (no pickle: a store folder may come from someone else): dicts, lists, numbers,
text, and pandas DataFrames (columns, dtypes and rows, attrs of plain values). One lock per
file in the process, so a page and the background warm-up never compute the same view twice
at once.
"""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kg.derived import derived_path, kept

FORMAT = 1  # bumped when the stored encoding changes: older files are then recomputed
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


def view_path(graph, name: str) -> Path | None:
    """Where view `name` of `graph`'s generation lives (None: no generation folder)."""
    return derived_path(graph, f"view-{_SAFE.sub('_', name)}-v{FORMAT}.json")


def _lock(key: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(key, threading.Lock())


def stored(graph, name: str, compute: Callable[[], Any]) -> Any:
    """View `name` of `graph`'s generation: read from its kg-derived/ folder, else computed
    (once at a time in this process), kept there when the folder can be written, and returned.
    `name` must say everything the view depends on besides the generation (its parameters)."""
    path = view_path(graph, name)
    if path is None:
        return compute()
    with _lock(str(path)):
        return kept(path, _read, compute, _write)


def _read(path: Path):
    return decode(json.loads(path.read_text(encoding="utf-8")))


def _write(value) -> bytes:
    return json.dumps(encode(value), ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def computing(graph, name: str) -> bool:
    """Whether view `name` of `graph`'s generation is being computed in this process right now
    (stored() asked for it would wait for that computation, then read it)."""
    path = view_path(graph, name)
    return path is not None and _lock(str(path)).locked()


def is_stored(graph, name: str) -> bool:
    """Whether view `name` of `graph`'s generation is already kept (reading it is then instant)."""
    path = view_path(graph, name)
    return path is not None and path.is_file()


# ---------------------------------------------------------------- encoding
def _plain(value):
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating, float)):
        value = float(value)
        return None if math.isnan(value) else value
    if isinstance(value, np.bool_):
        return bool(value)
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def encode(value):
    """A JSON-ready form of `value` (DataFrames tagged, numpy scalars as Python ones)."""
    if isinstance(value, pd.DataFrame):
        return {"__frame__": {"columns": [str(c) for c in value.columns],
                              "dtypes": [str(t) for t in value.dtypes],
                              "data": [_values(value[c]) for c in value.columns],
                              "attrs": encode(dict(value.attrs))}}
    if isinstance(value, dict):
        if "__frame__" in value:
            raise ValueError("a view's dict may not use the key __frame__")
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return _plain(value)


def _column(values: list, dtype: str) -> pd.Series:
    if dtype in ("int64", "int32", "float64", "bool") and None not in values:
        return pd.Series(values, dtype=dtype)
    if dtype == "float64":
        return pd.Series([np.nan if v is None else v for v in values], dtype="float64")
    return pd.Series(values, dtype=object)


def _values(column: pd.Series) -> list:
    """A column's values as encode() makes them: numbers and flags straight from numpy (NaN as
    None), anything else one by one."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else "O"
    if kind in "iub":
        return column.tolist()
    if kind == "f":
        return [None if v != v else v for v in column.tolist()]  # NaN is the one value unequal to itself
    plain = (str, int, bool, type(None))  # what encode() leaves as it is
    return [v if type(v) in plain else encode(_plain(v)) for v in column.tolist()]


def decode(value):
    """The value encode() made JSON of."""
    if isinstance(value, dict):
        if "__frame__" in value:
            f = value["__frame__"]
            frame = pd.DataFrame({c: _column(data, t) for c, t, data in zip(f["columns"], f["dtypes"], f["data"])},
                                 columns=f["columns"])
            frame.attrs.update(decode(f.get("attrs") or {}))
            return frame
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value
