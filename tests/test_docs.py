"""Docs kept true: every CLI command has help and appears in the README."""

from __future__ import annotations

from pathlib import Path

import typer.main

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
