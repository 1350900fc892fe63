"""Shared fixtures: an isolated kg home per test session, a built bundled graph, a CLI runner."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kg.build import build
from kg.cli import app, console
from kg.errors import KgError
from kg.store import LocalGraph

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def pytest_addoption(parser, pluginmanager):
    """pyproject's addopts ask pytest-xdist (the test extra) for a worker per core. Where it is not
    installed, or not loaded (`-p no:xdist`), its options are taken here and the tests run in this
    one process, said once at the start, instead of pytest stopping at "unrecognized arguments"."""
    if _xdist_loaded(pluginmanager):
        return
    group = parser.getgroup("xdist", "pytest-xdist is not loaded: the tests run in one process")
    # -n as pytest-xdist names it (a lowercase short option: pytest's public addoption refuses those)
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None)
    group.addoption("--maxprocesses", dest="maxprocesses", default=None)
    group.addoption("--dist", dest="dist", default="no")


def _xdist_loaded(pluginmanager) -> bool:
    """pytest-xdist registered: by its entry point ("xdist"), or by `-p xdist.plugin`."""
    return pluginmanager.has_plugin("xdist") or pluginmanager.has_plugin("xdist.plugin")


def pytest_report_header(config):
    if not _xdist_loaded(config.pluginmanager):
        return ("pytest-xdist is not loaded, so the tests run in one process "
                "(pip install \".[test]\" installs it: a worker per core)")
    return None


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


@pytest.fixture(scope="session")
def classified_store(built_store, tmp_path_factory) -> Path:
    """The bundled graph after `kg classify` (the quick start's graph, as the app's first start
    leaves it), made once per session (treat as read-only; derived caches may be added to it)."""
    from kg.pipeline import classify as classify_graph

    store = tmp_path_factory.mktemp("classified") / "store"
    shutil.copytree(built_store, store, symlinks=True)
    classify_graph(store)
    return store


@pytest.fixture(scope="session")
def classified_graph(classified_store) -> LocalGraph:
    return LocalGraph(classified_store)


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
            result.message = console.message(exc) + (f"\n{exc.hint}" if exc.hint else "")
        else:
            result.message = ""
        return result


@pytest.fixture
def kg() -> Kg:
    return Kg()


@pytest.fixture
def make_graph(tmp_path):
    """Small hand-made graphs: make_graph(bundle) -> LocalGraph over an in-memory Oxigraph
    store holding the ontology, the taxonomy and the bundle's quads (ontology=False: bare)."""
    import pyoxigraph as ox

    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.rdf.taxonomy import read_taxonomy

    def make(bundle=None, ontology: bool = True) -> LocalGraph:
        store = ox.Store()
        if ontology:
            store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ("kg.ttl", "taxonomy.ttl"))))
        if bundle is not None:
            quads, _ = bundle_quads(bundle, read_taxonomy())
            store.extend(quads)
        return LocalGraph(tmp_path / "in-memory", store=store)

    return make


@pytest.fixture
def rec():
    """Builders for small record bundles: rec.work(1, "retrieval", ["alignment"], year=2024,
    inputs=["image"]) -> Work with id arxiv:2401.00001; rec.bundle(works, cites=[(1, 2)],
    datasets={"Name": [1]}) -> Bundle (cites: citing number -> cited number)."""
    from types import SimpleNamespace

    from kg.records import Bundle, Citation, Dataset, Label, Source, Work

    def ref(n: int) -> str:
        return f"arxiv:2401.{n:05d}"

    def work(n, category=None, mechanisms=(), *, year=2024, inputs=(), outputs=(), tasks=(), title=None,
             candidate=False, review=False, authors=(), venue=None) -> Work:
        labels = [Label("category", category, "t")] if category else []
        labels += [Label("mechanism", m, "t") for m in mechanisms]
        labels += [Label("input_modality", m, "t") for m in inputs]
        labels += [Label("output_modality", m, "t") for m in outputs]
        labels += [Label("task", m, "t") for m in tasks]
        from kg.records import Author

        return Work(ids={"arxiv": f"2401.{n:05d}"}, sources=["t"], title=title or f"Paper {n}", year=year,
                    labels=labels, candidate=candidate, is_survey=review, venue=venue,
                    authors=[Author(a) for a in authors])

    def bundle(works, cites=(), datasets=None) -> Bundle:
        return Bundle(sources=[Source("t", "test records", "tester")], works=list(works),
                      citations=[Citation(ref(a), ref(b), "t") for a, b in cites],
                      datasets=[Dataset(name, ["t"], year=2024, used_by=[ref(n) for n in users])
                                for name, users in (datasets or {}).items()])

    return SimpleNamespace(work=work, bundle=bundle, ref=ref)


@pytest.fixture
def fake_time(monkeypatch):
    """Harvest clients sleep and read the clock through this fake: no real waiting in tests."""
    from harvest_support import FakeTime

    from kg.harvest import run

    fake = FakeTime()
    monkeypatch.setattr(run, "default_sleep", fake.sleep)
    monkeypatch.setattr(run, "default_clock", fake.clock)
    return fake
