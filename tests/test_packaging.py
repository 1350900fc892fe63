"""An installed kg (not only a checkout) has every subpackage and data file it needs."""

from __future__ import annotations

import fnmatch
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SETUP = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]


def test_every_subpackage_is_packaged():
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "kg").rglob("__init__.py")
             if "__pycache__" not in p.parts}
    assert found | {"kg.ontology"} == set(SETUP["packages"])


def test_every_data_file_is_packaged():
    data = SETUP["package-data"]
    for path in (ROOT / "kg").rglob("*"):
        if path.is_dir() or path.suffix in (".py", ".pyc") or "__pycache__" in path.parts:
            continue
        package = ".".join(path.parent.relative_to(ROOT).parts)
        assert any(fnmatch.fnmatch(path.name, pat) for pat in data.get(package, [])), f"{path} is not package data"
    assert SETUP["package-dir"]["kg.ontology"] == "ontology"
    assert {"kg.ttl", "taxonomy.ttl", "shapes.ttl"} <= {p.name for p in (ROOT / "ontology").glob("*.ttl")}


def test_the_tests_run_in_one_process_without_pytest_xdist():
    """pyproject's addopts name pytest-xdist's options; without the plugin (here: not loaded),
    pytest takes them and says it runs in one process, instead of stopping at "unrecognized
    arguments: --numprocesses"."""
    for extra in ([], ["-n", "0"]):  # as pyproject asks, and as the README runs one file
        run = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:xdist", "-p", "no:cacheprovider", *extra,
                              "tests/test_packaging.py::test_every_subpackage_is_packaged"],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stdout + run.stderr
        assert "pytest-xdist is not loaded, so the tests run in one process" in run.stdout
        assert "1 passed" in run.stdout
