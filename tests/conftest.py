"""Shared fixtures: an isolated kg home per test session, a built bundled graph, a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.build import build
from kg.cli import app
from kg.errors import KgError
from kg.store import LocalGraph

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """No test reads or writes the user's real kg home."""
    home = tmp_path_factory.getbasetemp() / "kg-home"
    monkeypatch.setenv("KG_HOME", str(home))
    monkeypatch.delenv("KG_STORE", raising=False)


@pytest.fixture(scope="session")
def built_store(tmp_path_factory) -> Path:
    """The bundled corpus built once per session (treat as read-only)."""
    path = tmp_path_factory.mktemp("bundled") / "store"
    build(path)
    return path


@pytest.fixture(scope="session")
def graph(built_store) -> LocalGraph:
    return LocalGraph(built_store)


@pytest.fixture
def store_copy(built_store, tmp_path) -> Path:
    """A private copy of the built store, for tests that change it."""
    dest = tmp_path / "store"
    shutil.copytree(built_store, dest, symlinks=True)
    return dest


class Kg:
    """Runs `kg ...` in-process the way the console script does (KgError -> message + exit code)."""

    def __init__(self):
        self.runner = CliRunner()

    def __call__(self, *args: str, store: Path | str | None = None, input: str | None = None):
        argv = (["--store", str(store)] if store else []) + [str(a) for a in args]
        result = self.runner.invoke(app, argv, input=input, catch_exceptions=True)
        if isinstance(result.exception, KgError):
            exc = result.exception
            result.exit_code = exc.exit_code
            result.message = exc.message + (f"\n{exc.hint}" if exc.hint else "")
        else:
            result.message = ""
        return result


@pytest.fixture
def kg() -> Kg:
    return Kg()
