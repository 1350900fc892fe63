"""Publication years as the records and the graph write them."""

from __future__ import annotations

import re

_LEADING_YEAR = re.compile(r"\s*(\d{4})")


def year_of(value) -> int | None:
    """The year a value starts with as an int (2023, '2023', '2023-05-01', ' 2023' -> 2023); None when none."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if value is None:
        return None
    m = _LEADING_YEAR.match(str(value))
    return int(m.group(1)) if m else None
