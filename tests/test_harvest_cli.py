"""The harvest commands' wiring: help texts, progress bars with counts and ETA, Ctrl-C message."""

from __future__ import annotations

import io

from rich.console import Console

from kg.cli.harvest import _Bars


def test_progress_bars_show_counts_and_eta():
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with _Bars(console, enabled=True) as bars:
        bars("S2 metadata", 500, 1201)
        bars("S2 metadata", 1201, 1201)
        bars("arXiv query", 30, None)
    text = buffer.getvalue()
    assert "S2 metadata" in text and "1201/1201" in text and "eta" in text
    assert "arXiv query" in text


def test_bars_are_off_when_not_a_terminal():
    bars = _Bars(Console(file=io.StringIO()), enabled=False)
    with bars:
        bars("x", 1, 2)
    assert bars.progress is None


def test_every_harvest_command_has_help(kg):
    for args in (["harvest", "arxiv"], ["harvest", "s2"], ["harvest", "openalex"], ["import", "bibtex"],
                 ["import", "awesome"]):
        result = kg(*args, "--help")
        assert result.exit_code == 0 and "Usage" in result.output, args
    assert "--min-links" in kg("harvest", "s2", "--help").output
    assert "--profile" in kg("harvest", "arxiv", "--help").output
