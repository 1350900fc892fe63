"""The CLI package: one Store a run, no import cycles, library errors' fields named by their flags."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import click
import pytest
import typer

from kg.cli import app, console, main
from kg.errors import UsageError
from kg.store import Store

CLI = Path(__file__).resolve().parents[1] / "kg" / "cli"


@pytest.fixture
def stores_made(monkeypatch):
    """Counts the Store objects made (Store.at on a location, Store(...)) while a test runs."""
    made: list[str] = []
    init = Store.__init__

    def counting(self, location=None, project=None):
        made.append(str(location))
        init(self, location, project)

    monkeypatch.setattr(Store, "__init__", counting)
    return made


@pytest.mark.parametrize("args", [
    ["build"], ["stats"], ["query", "--name", "papers"], ["query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"],
    ["gaps"], ["curate", "2410.07113", "--category", "retrieval"], ["curate", "--list"],
    ["screen", "--list", "--limit", "1"],
], ids=" ".join)
def test_the_store_location_becomes_a_store_once_a_command(kg, store_copy, stores_made, args):
    r = kg(*args, store=store_copy)
    assert r.exit_code == 0, r.output + r.message
    assert stores_made == [str(store_copy)]


def test_every_call_of_a_run_gets_the_same_store(tmp_path):
    console.begin(str(tmp_path / "s"))
    assert console.store() is console.store()
    assert console.store() == Store(tmp_path / "s")
    console.begin(None)  # the next run starts over: no --store, the default location
    assert console.store() == Store()


def test_command_modules_import_the_console_never_the_assembler():
    for path in CLI.glob("*.py"):
        if path.name in ("__init__.py", "__main__.py"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                names = {a.name for a in node.names}
                assert node.module == "console" or (node.module is None and names == {"console"}), \
                    f"{path.name} imports {names} from kg.cli.{node.module or ''}"
            if isinstance(node, ast.ImportFrom) and node.level == 0:
                assert node.module != "kg.cli", path.name


def _options(command: click.Command) -> set[str]:
    found = {opt for param in command.params for opt in getattr(param, "opts", [])}
    for sub in getattr(command, "commands", {}).values():
        found |= _options(sub)
    return found


def test_every_field_maps_to_a_flag_kg_has():
    flags = _options(typer.main.get_command(app))
    missing = {field: flag for field, flag in console.FLAGS.items() if flag not in flags}
    assert not missing


def test_a_library_error_names_its_field_and_the_cli_its_flag(monkeypatch, capsys):
    from kg.bench import BenchOptions, run_bench

    with pytest.raises(UsageError) as caught:
        run_bench(BenchOptions(sizes=(5,)))
    assert "--" not in caught.value.message and caught.value.fields == ("sizes",)

    monkeypatch.setattr(sys, "argv", ["kg", "bench", "--papers", "5"])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    assert capsys.readouterr().err.splitlines()[0] == \
        "error: a corpus size must be at least 10 papers, not 5 (--papers)"


def test_several_fields_name_several_flags():
    error = UsageError("give a search query or ids to look up", field=("query", "id_list"))
    assert console.error_lines(error) == ["error: give a search query or ids to look up (--query, --id)"]
    assert console.message(UsageError("plain")) == "plain"


@pytest.mark.parametrize("module", ["kg", "kg.cli"])
def test_python_dash_m_runs_kg(module):
    import subprocess

    from kg import __version__

    done = subprocess.run([sys.executable, "-m", module, "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"kg {__version__}", done.stderr
