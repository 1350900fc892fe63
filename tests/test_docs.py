"""Docs kept true: every CLI command has help and appears in the README, and the README's
examples are what the quick start gives."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import typer.main
from rich.console import Console
from typer.testing import CliRunner

from kg.cli import app

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands(group, prefix=""):
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        yield full, cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full + " ")


def test_every_command_has_help_and_is_in_the_readme():
    click_app = typer.main.get_command(app)
    commands = list(_commands(click_app))
    assert len(commands) >= 5
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"`kg {name}` has no help"
        assert f"kg {name}" in README, f"`kg {name}` is not in the README"


def test_readme_has_the_two_quick_start_commands():
    assert "pip install . && kg app" in README
    assert 'pip install ".[test]" && python -m pytest -q' in README


# ---------------------------------------------------------------- the README's examples are the quick start's
# The examples show what a user who follows the quick start (`kg build && kg classify &&
# kg validate && kg gaps`) sees: the quick start runs here on a fresh store, and each example
# is compared with what the same command prints (tables as on an 80-column terminal).
QUICK_START = "kg build && kg classify && kg validate && kg gaps"


def _blocks(fence: str = "") -> list[str]:
    """The README's fenced code blocks whose opening line is ``` + fence (their text)."""
    blocks, current, opened = [], None, None
    for line in README.splitlines():
        if current is None and line.startswith("```"):
            current, opened = [], line[3:].strip()
        elif current is not None and line.strip() == "```":
            if opened == fence:
                blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _transcripts() -> dict[str, str]:
    """Each `$ kg ...` line of the README's plain code blocks and the lines printed under it."""
    found = {}
    for block in _blocks():
        command, lines = None, []
        for line in block.splitlines() + ["$ "]:
            if line.startswith("$ "):
                if command and command.startswith("kg "):
                    found[command] = "\n".join(lines).strip("\n")
                command, lines = line[2:].strip(), []
            elif command:
                lines.append(line)
    return found


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory):
    """A store the quick start made, and a runner of `kg` against it that answers as an
    80-column terminal would show it (without colour)."""
    import kg.cli

    store = tmp_path_factory.mktemp("quick-start") / "store"
    runner = CliRunner()

    def run(*args: str, terminal: bool = True) -> str:
        buffer = io.StringIO()
        saved = kg.cli.console.out
        if terminal:
            kg.cli.console.out = Console(file=buffer, force_terminal=True, width=80, soft_wrap=True,
                                         color_system=None, legacy_windows=False)
        try:
            result = runner.invoke(kg.cli.app, ["--store", str(store), *args], catch_exceptions=False)
        finally:
            kg.cli.console.out = saved
        assert result.exit_code == 0, (args, result.output)
        return buffer.getvalue() + result.stdout

    assert QUICK_START in README
    for step in QUICK_START.split(" && "):
        run(*step.split()[1:])
    return store, run


def test_readme_stats_example_is_the_quick_starts(quick_start):
    _, run = quick_start
    block = [b for b in _blocks("json") if '"triples"' in b]
    assert len(block) == 1, "the README's `kg stats --json` example"
    assert json.loads(block[0]) == json.loads(run("stats", "--json", terminal=False))


@pytest.mark.parametrize("command", ["kg gaps", "kg gaps --by year --category retrieval",
                                     "kg query --name paper --bind id=2406.09400 --format csv | head -4"])
def test_readme_transcripts_are_the_quick_starts(quick_start, command):
    _, run = quick_start
    shown = _transcripts()
    assert command in shown, f"the README shows `$ {command}`"
    args, _, pipe = command.partition(" | ")
    printed = run(*args.split()[1:])
    lines = [line.rstrip() for line in printed.splitlines()]
    if pipe:
        assert pipe.startswith("head -")
        lines = lines[:int(pipe.split("-")[1])]
    assert [line.rstrip() for line in shown[command].splitlines()] == lines


def test_readme_report_summary_is_the_quick_starts(quick_start):
    from kg.report import build_report, render
    from kg.store import LocalGraph

    store, _ = quick_start
    block = [b for b in _blocks() if b.startswith("## Summary")]
    assert len(block) == 1, "the README's report summary example"
    report = render(build_report(LocalGraph(store), None), "md")
    summary = report[report.index("## Summary"):]
    summary = summary[:summary.index("\n## ", 1)] if "\n## " in summary[1:] else summary
    assert block[0].strip() == summary.strip()


def test_readme_classifier_figures_are_the_quick_starts(quick_start):
    """The cross-validation table of `kg classify` (its figures do not move when the
    classifier's own predictions are in the graph: it learns only from people and sources)."""
    _, run = quick_start
    report = json.loads(run("classify", "--evaluate", "--json", terminal=False))
    rows = {}
    for line in README.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].isdigit() and " / " in cells[2]:
            rows[cells[0].replace(" ", "_")] = cells[1:]
    assert set(rows) == set(report["axes"]), rows
    for axis, figures in report["axes"].items():
        shown = [str(figures["papers"])] + [f"{figures[layer]['accuracy']:.3f} / {figures[layer]['macro_f1']:.3f}"
                                            for layer in ("combined", "lexicon", "learned")]
        assert rows[axis] == shown, axis
    c = report["calibration"]
    assert (f"mean {c['mean_confidence']:.3f} against accuracy {c['accuracy']:.3f} (Brier {c['brier']:.3f})"
            in " ".join(README.split()))
    assert f"bundled graph, {report['papers']} labelled papers" in " ".join(README.split())
