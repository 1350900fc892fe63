"""Bad input and a broken world give a message and a non-zero exit code, never a traceback, and lose
nothing already stored: a full disk during `kg build`, a damaged graph generation, broken record file
lines, temporary files left by failed writes, unquoted identifiers in curation.yaml."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from kg import build as build_module
from kg.errors import KgError
from kg.records.file import read_bundle, write_bundle
from kg.records import Bundle, Source, Work
from kg.store import LocalGraph, StoreDir

FIXTURES = Path(__file__).resolve().parent / "fixtures"
YOLLAVA = "https://w3id.org/kg-survey/id/work/arxiv/2406.09400"  # Table 1: retrieval / generation


def stats(kg, store) -> dict:
    result = kg("stats", "--json", store=store)
    assert result.exit_code == 0, result.output + result.message
    return json.loads(result.stdout)


def category(store, iri: str) -> set[str]:
    rows = LocalGraph(store).query(f"SELECT ?n WHERE {{ <{iri}> kg:category/skos:notation ?n }}", trusted=True)
    return {r["n"] for r in rows.records()}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


# ---------------------------------------------------------------- a full disk during kg build
@pytest.mark.parametrize("error", [
    OSError(errno.ENOSPC, "No space left on device"),
    OSError("IO error: No space left on device: While appending to file: 000012.sst"),  # as RocksDB says it
])
def test_disk_full_during_build_keeps_the_previous_graph(kg, store_copy, monkeypatch, error):
    before = stats(kg, store_copy)
    current = StoreDir(store_copy).current()
    real = build_module.QuadWriter.steps  # the writer pauses after each work it wrote

    def fills_the_disk(self, bundle):
        for n, step in enumerate(real(self, bundle)):
            if n == 20:
                raise error
            yield step

    monkeypatch.setattr(build_module.QuadWriter, "steps", fills_the_disk)
    result = kg("build", store=store_copy)
    assert result.exit_code == 1 and isinstance(result.exception, KgError), result.output
    assert "disk is full" in result.message
    assert "nothing was published" in result.message and current.name in result.message
    assert "Free some disk space" in result.message
    assert StoreDir(store_copy).current() == current  # nothing published
    assert not list(store_copy.glob("*.tmp"))  # the half-written generation is gone
    monkeypatch.undo()
    assert stats(kg, store_copy) == before  # the old generation still answers


# ---------------------------------------------------------------- a damaged generation
def _truncate_sst(gen: Path) -> None:
    sst = max(gen.glob("*.sst"), key=lambda p: p.stat().st_size)
    with sst.open("r+b") as fh:
        fh.truncate(100)


def _overwrite_manifest(gen: Path) -> None:
    next(gen.glob("MANIFEST-*")).write_bytes(b"garbage\n" * 10)


def _overwrite_current_file(gen: Path) -> None:
    (gen / "CURRENT").write_text("nonsense\n")


def _remove_sst(gen: Path) -> None:
    next(gen.glob("*.sst")).unlink()


DAMAGE = [_truncate_sst, _overwrite_manifest, _overwrite_current_file, _remove_sst]
COMMANDS = [("stats",), ("query", "--name", "papers"), ("query", "SELECT * WHERE { ?s ?p ?o } LIMIT 1"),
            ("gaps",), ("export", "--format", "ttl", "--output", "{out}")]


@pytest.mark.parametrize("damage", DAMAGE, ids=lambda f: f.__name__.strip("_"))
def test_damaged_generation_names_the_folder_and_says_rebuild(kg, store_copy, tmp_path, damage):
    gen = StoreDir(store_copy).current()
    damage(gen)
    records_before = sorted(p.name for p in (store_copy / "records").glob("*"))
    for args in COMMANDS:
        args = [a.replace("{out}", str(tmp_path / "out.ttl")) for a in args]
        result = kg(*args, store=store_copy)
        assert result.exit_code == 1, (args, result.output)
        assert isinstance(result.exception, KgError), (args, result.exception)
        assert gen.name in result.message and "damaged" in result.message, args
        assert "kg build" in result.message, args
    assert not (tmp_path / "out.ttl").exists()
    # the way out works: a rebuild publishes a fresh generation from the untouched inputs
    assert kg("build", store=store_copy).exit_code == 0
    assert StoreDir(store_copy).current() != gen
    assert stats(kg, store_copy)["papers"] == 49
    assert sorted(p.name for p in (store_copy / "records").glob("*")) == records_before


def _console_script(patch: str, store, *args: str) -> subprocess.CompletedProcess:
    """`kg --store STORE ARGS` run as the console script in a process of its own, after `patch`
    (Python lines that make the world break in the way a test needs)."""
    script = (patch + "import sys\nfrom kg.cli import main\n"
              f"sys.argv = ['kg', '--store', {str(store)!r}, *{list(args)!r}]\nmain()\n")
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_console_script_names_damaged_files_without_a_traceback(store_copy):
    """Damage found outside kg's own checks (while counting, say) still gives a message."""
    proc = _console_script("import kg.sparql.stats\n"
                           "def damaged(graph):\n"
                           "    raise RuntimeError('Corruption: block checksum mismatch in 000010.sst')\n"
                           "kg.sparql.stats.graph_stats = damaged\n", store_copy, "stats")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "damaged" in proc.stderr and "kg build" in proc.stderr


def test_console_script_says_the_disk_is_full(tmp_path):
    proc = _console_script("import errno\n"
                           "import kg.build\n"
                           "def full(*a, **k):\n"
                           "    raise OSError(errno.ENOSPC, 'No space left on device')\n"
                           "kg.build.build = full\n", tmp_path / "s", "build")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "disk is full" in proc.stderr


def test_console_script_names_a_file_it_may_not_write(store_copy):
    """A store kg may not write in (read-only, someone else's): the lock or file refused is named,
    with no traceback, and the store is as it was."""
    lock = store_copy / ".snapshots.lock"
    proc = _console_script("import errno\n"
                           "import kg.fileio\n"
                           "def refused(path):\n"
                           "    raise PermissionError(errno.EACCES, 'Permission denied', str(path))\n"
                           "kg.fileio.file_lock = refused\n", store_copy, "snapshot", "create", "v1")
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and f"{lock}: Permission denied" in proc.stderr
    assert "give yourself access" in proc.stderr
    assert not (store_copy / "snapshots" / "v1.json").exists()


# ---------------------------------------------------------------- broken record file lines
GOOD = [{"type": "source", "id": "t", "title": "A test import", "agent": "tester"},
        {"type": "work", "ids": {"arxiv": "2401.00001"}, "sources": ["t"], "title": "A fine paper", "year": 2024}]


@pytest.mark.parametrize("line,problem", [
    (b'{"type": "work", "sources": ["t"], "title": "Caf\xe9"}', "not UTF-8"),
    (b'{"type": "work", "sources": ["t"], "title": ', "not valid JSON"),
    (b'{"type": "work", "ids": {"arxiv": "2401.00002"}, "sources": ["t"], "title": "X", "year": "abc"}',
     "'year' must be a whole number"),
    (b'{"type": "work", "ids": {"arxiv": "2401.00002"}, "sources": ["t"], "title": 5}', "'title' must be text"),
    (b'{"type": "work", "ids": {"arxiv": "2401.00002"}, "sources": ["t"], "title": "X", "authors": "x"}',
     "'authors' must be a list of author objects"),
    (b'[1, 2]', "must be a JSON object"),
    (b'{"type": "gossip"}', "unknown record type 'gossip'"),
])
def test_broken_record_line_names_file_and_line(kg, store_copy, line, problem):
    before = stats(kg, store_copy)
    records = StoreDir(store_copy).records_dir
    records.mkdir(exist_ok=True)
    bad = records / "bad.jsonl"
    bad.write_bytes(b"".join(json.dumps(r).encode() + b"\n" for r in GOOD) + line + b"\n")
    result = kg("build", store=store_copy)
    assert result.exit_code == 1 and isinstance(result.exception, KgError), result.output
    assert "bad.jsonl" in result.message and "line 3" in result.message
    assert problem in result.message
    assert "Fix or remove line 3" in result.message
    assert stats(kg, store_copy) == before  # the graph is as it was
    # an import meets the same file and says the same, without a traceback
    imported = kg("import", "bibtex", str(FIXTURES / "messy.bib"), store=store_copy)
    assert imported.exit_code == 1 and isinstance(imported.exception, KgError)
    assert "bad.jsonl" in imported.message and "line 3" in imported.message


def test_labels_naming_no_concept_are_left_out_with_a_warning(kg, store_copy):
    records = StoreDir(store_copy).records_dir
    records.mkdir(exist_ok=True)
    work = {**GOOD[1], "labels": [{"axis": "category", "value": "telepathy", "source": "t"},
                                  {"axis": "mood", "value": "happy", "source": "t"},
                                  {"axis": "input_modality", "value": "image", "source": "t"}]}
    (records / "odd.jsonl").write_text("\n".join(json.dumps(r) for r in (GOOD[0], work)) + "\n", encoding="utf-8")
    result = kg("build", store=store_copy)
    assert result.exit_code == 0, result.output + result.message
    assert "odd.jsonl, line 2: 'telepathy' is not a category of the taxonomy" in result.output
    assert "odd.jsonl, line 2: unknown label axis 'mood'" in result.output
    iri = "https://w3id.org/kg-survey/id/work/arxiv/2401.00001"
    rows = LocalGraph(store_copy).query(f"SELECT ?n WHERE {{ <{iri}> kg:inputModality/skos:notation ?n }}",
                                        trusted=True).records()
    assert [r["n"] for r in rows] == ["image"] and category(store_copy, iri) == set()


def test_record_files_round_trip_with_every_field_checked(tmp_path):
    path = tmp_path / "r.jsonl"
    bundle = Bundle(sources=[Source("t", "T", "a")], works=[Work(ids={}, sources=["t"], title="Only a title",
                                                                 possible_matches=[("arxiv:2401.00001", "high")])])
    write_bundle(path, bundle)
    again = read_bundle(path)
    assert again.works == bundle.works and again.sources == bundle.sources


# ---------------------------------------------------------------- temporary files of failed writes
def test_stale_temp_files_are_cleaned_and_a_failed_import_leaves_none(kg, store_copy, monkeypatch):
    records = StoreDir(store_copy).records_dir
    records.mkdir(exist_ok=True)
    stale = records / f"bibtex-old.jsonl.{dead_pid()}.tmp"
    stale.write_text('{"type": "source", "id": "half', encoding="utf-8")
    running = records / f"bibtex-other.jsonl.{os.getppid()}.tmp"  # a writer that is still alive
    running.write_text("", encoding="utf-8")
    first = kg("import", "bibtex", str(FIXTURES / "messy.bib"), "--source-id", "bibtex-messy", store=store_copy)
    assert first.exit_code == 0, first.output + first.message
    assert not stale.exists() and running.exists()
    written = (records / "bibtex-messy.jsonl").read_bytes()

    def disk_full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    # the same list again with one entry more (the same records again would write nothing)
    grown = store_copy.parent / "grown.bib"
    grown.write_text((FIXTURES / "messy.bib").read_text(encoding="utf-8") + "\n@article{grown2024,\n"
                     "  title = {A Personalized Assistant Added Later},\n  year = {2024},\n"
                     "  eprint = {2405.00001}\n}\n", encoding="utf-8")
    monkeypatch.setattr("kg.fileio.os.fsync", disk_full)
    failed = kg("import", "bibtex", str(grown), "--source-id", "bibtex-messy", store=store_copy)
    monkeypatch.undo()
    assert failed.exit_code == 1 and isinstance(failed.exception, KgError), failed.output
    assert "No space left on device" in failed.message
    assert [p.name for p in records.glob("*.tmp")] == [running.name]  # its own temporary file is gone
    assert (records / "bibtex-messy.jsonl").read_bytes() == written  # the records it had are kept
    # curation.yaml is written the same way
    stale_decisions = store_copy / f"curation.yaml.{dead_pid()}.tmp"
    stale_decisions.write_text("decisions:\n- paper: half", encoding="utf-8")
    assert kg("curate", "2410.07113", "--category", "retrieval", store=store_copy).exit_code == 0
    assert not stale_decisions.exists() and not list(store_copy.glob("*.tmp"))


# ---------------------------------------------------------------- identifiers in curation.yaml
def test_unquoted_arxiv_id_in_curation_stays_text(kg, store_copy):
    assert category(store_copy, YOLLAVA) == {"retrieval"}
    (store_copy / "curation.yaml").write_text(
        "decisions:\n"
        "- paper: 2406.09400\n"
        "  work: {arxiv: 2406.09400}\n"
        "  category: recommendation\n"
        "  by: Carol\n", encoding="utf-8")
    built = kg("build", store=store_copy)
    assert built.exit_code == 0, built.output + built.message
    assert "match no work" not in built.output
    assert category(store_copy, YOLLAVA) == {"recommendation"}
    listed = json.loads(kg("curate", "--list", "--json", store=store_copy).stdout)["decisions"]
    assert [(d["paper"], d["work"]) for d in listed] == [("2406.09400", {"arxiv": "2406.09400"})]
    # another decision rewrites the file: the hand-written identifier is kept exactly
    assert kg("curate", "2410.07113", "--category", "retrieval", store=store_copy).exit_code == 0
    doc = yaml.safe_load((store_copy / "curation.yaml").read_text(encoding="utf-8"))
    assert doc["decisions"][0]["paper"] == "2406.09400" and doc["decisions"][0]["work"] == {"arxiv": "2406.09400"}
    assert category(store_copy, YOLLAVA) == {"recommendation"}


def test_hand_written_decision_attaches_by_its_paper_id(kg, store_copy):
    (store_copy / "curation.yaml").write_text(
        "decisions:\n- paper: 2406.09400\n  category: image_generation\n", encoding="utf-8")
    assert kg("build", store=store_copy).exit_code == 0
    assert category(store_copy, YOLLAVA) == {"image_generation"}


def test_corpus_ids_are_read_as_written(tmp_path):
    from kg.records.corpus import read_yaml

    path = tmp_path / "c.yaml"
    path.write_text("papers:\n- {title: T, arxiv: 2406.09400, s2: 0123, year: 2024, used_by: [2406.09400]}\n",
                    encoding="utf-8")
    [paper] = read_yaml(path)["papers"]
    assert paper == {"title": "T", "arxiv": "2406.09400", "s2": "0123", "year": 2024, "used_by": ["2406.09400"]}


# ---------------------------------------------------------------- only web links are stored
def test_bibtex_url_must_be_a_web_address(tmp_path):
    from kg.importers.bibtex import import_bibtex

    bib = tmp_path / "links.bib"
    bib.write_text("@article{evil, title={Evil}, url={javascript:alert(1)}}\n"
                   "@article{data, title={Data}, url={data:text/html;base64,PHNjcmlwdD4=}}\n"
                   "@article{fine, title={Fine}, url={https://example.org/paper}}\n", encoding="utf-8")
    result = import_bibtex(bib)
    works = {w.ids["cite"]: w for w in result.bundle.works}
    assert "url" not in works["evil"].ids and works["evil"].page is None
    assert "url" not in works["data"].ids and works["data"].page is None
    assert works["fine"].ids["url"] == works["fine"].page == "https://example.org/paper"
    notes = [str(p) for p in result.problems]
    assert any("evil" in n and "not a web address" in n for n in notes)
    assert any("data" in n and "not a web address" in n for n in notes)


def test_a_folder_given_for_a_file_is_called_a_folder(kg, store_copy, tmp_path):
    folder = tmp_path / "adir"
    folder.mkdir()
    for args in (("import", "bibtex", str(folder)), ("plan", "add", "awesome", str(folder))):
        result = kg(*args, store=store_copy)
        assert result.exit_code == 2 and f"{folder} is a folder; give a file" in result.message, args
    missing = kg("import", "bibtex", str(tmp_path / "nope.bib"), store=store_copy)
    assert missing.exit_code == 2 and "no such file" in missing.message
    assert not (store_copy / "plan.yaml").exists()


def test_gaps_by_year_on_a_graph_without_counted_works_says_why(kg, tmp_path, monkeypatch):
    rag = Path(__file__).resolve().parents[1] / "examples" / "rag" / "taxonomy.ttl"
    assert kg("init", str(tmp_path / "e"), "--taxonomy", str(rag)).exit_code == 0
    monkeypatch.chdir(tmp_path / "e")
    monkeypatch.delenv("KG_STORE", raising=False)
    assert kg("build").exit_code == 0
    for by, what in (("year", "a publication year"), ("modality", "a modality")):
        result = kg("gaps", "--by", by)
        assert result.exit_code == 0 and f"has {what} yet: there are no cells by {by}" in result.stdout
    assert "no category x mechanism cells" not in kg("gaps").stdout


@pytest.mark.parametrize("service", ["arxiv", "s2", "openalex"])
def test_a_harvest_of_ids_none_of_which_is_one_is_refused(kg, tmp_path, service):
    """Only ids given, and none of them of a form the service takes: refused before anything is
    asked or written (before, it wrote an empty source, rebuilt the graph and exited 0)."""
    store = tmp_path / "store"
    result = kg("harvest", service, "--offline", "--id", "notanid", "--id", "nope", store=store)
    assert result.exit_code == 2 and "none of the ids given is" in result.message and "'notanid'" in result.message
    assert not (store / "records").exists()
