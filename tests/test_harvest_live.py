"""Real-network smoke tests (off by default; run with `python -m pytest -m live`)."""

from __future__ import annotations

import pytest

from kg.harvest import run

pytestmark = pytest.mark.live


def test_arxiv_lookup_of_the_survey(tmp_path):
    report = run.harvest_arxiv(run.Options(tmp_path / "store"), id_list=["2412.02142"])
    assert report.papers == 1 and not report.unknown


def test_s2_batch_of_two(tmp_path):
    report = run.harvest_s2(run.Options(tmp_path / "store"),
                            id_list=["2412.02142", "2406.09400"])
    assert report.counters.requests >= 1 and report.papers == 2


def test_openalex_lookup_by_arxiv_doi(tmp_path):
    report = run.harvest_openalex(run.Options(tmp_path / "store"), id_list=["2406.09400"])
    assert report.papers <= 1
