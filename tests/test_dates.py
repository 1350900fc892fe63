"""One year parser for records, analyses, screening and reference lists."""

import math

import pytest

from kg.records.dates import year_of


@pytest.mark.parametrize("value, year", [
    (2023, 2023), ("2023", 2023), ("2023-05-01", 2023), (" 2023", 2023), ("2023.0", 2023), (2023.0, 2023),
    (None, None), ("", None), ("n.d.", None), ("20", None), (math.nan, None), (True, None), ("May 2023", None),
])
def test_year_of_reads_the_year_a_value_starts_with(value, year):
    assert year_of(value) == year
