"""Every imported file is a source of its own: files with one name in different folders both survive,
a re-import updates its own records and says what changed, bundled and reserved ids are never reused,
and imports and harvests work against a SPARQL endpoint store (records stay in the local workspace)."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from harvest_support import LocalServer, Replay
from remote_support import OxigraphServer

from kg.records.file import read_bundle, write_bundle
from kg.records import Bundle, Source, Work
from kg.store.remote import RemoteGraph
from kg.store import LocalGraph, StoreDir

FIXTURES = Path(__file__).resolve().parent / "fixtures"
BUNDLED = {"survey-table1", "awesome-list"}


def bib(entries: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"@article{{{key},\n  title = {{{title}}},\n  year = {{2023}},\n  eprint = {{{arxiv}}}\n}}\n"
                     for key, title, arxiv in entries)


X_ENTRIES = [("a", "Alpha Works On Personal Assistants", "2312.70001"),
             ("b", "Beta Works On Personal Retrieval", "2312.70002"),
             ("c", "Gamma Works On Personal Generation", "2312.70003")]
Y_ENTRIES = [("a", "Delta Works On Another Topic", "2312.70004"),
             ("d", "Epsilon Works On Another Topic", "2312.70005")]


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def sources(kg, store) -> list[dict]:
    result = kg("query", "--name", "sources", "--format", "csv", store=store)
    assert result.exit_code == 0, result.output + result.message
    return list(csv.DictReader(io.StringIO(result.stdout)))


def source_id(kg_result) -> str:
    return json.loads(kg_result.stdout)["source_id"]


def test_two_bib_files_with_one_name_in_different_folders_both_survive(tmp_path, kg):
    store = tmp_path / "store"
    x = write(tmp_path / "x" / "refs.bib", bib(X_ENTRIES))
    y = write(tmp_path / "y" / "refs.bib", bib(Y_ENTRIES))
    first = kg("import", "bibtex", str(x), "--json", store=store)
    second = kg("import", "bibtex", str(y), "--json", store=store)
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output + second.message
    x_id, y_id = source_id(first), source_id(second)
    assert x_id != y_id and x_id.startswith("bibtex-refs-") and y_id.startswith("bibtex-refs-")
    assert sorted(p.stem for p in StoreDir(store).records_dir.glob("*.jsonl")) == sorted([x_id, y_id])
    graph = LocalGraph(store)
    found = {r["a"] for r in graph.query('SELECT ?a WHERE { ?w kg:arxivId ?a FILTER(STRSTARTS(?a, "2312.7")) }',
                                         trusted=True).records()}
    assert found == {f"2312.7000{i}" for i in range(1, 6)}
    rows = sources(kg, store)
    ids = [r["source"].rsplit("/", 1)[-1] for r in rows]
    assert sorted(ids) == sorted(BUNDLED | {x_id, y_id})  # each source once: no cross product
    counts = {r["source"].rsplit("/", 1)[-1]: int(r["works"]) for r in rows}
    assert counts[x_id] == 3 and counts[y_id] == 2
    # importing x again leaves y's records alone
    again = kg("import", "bibtex", str(x), store=store)
    assert again.exit_code == 0
    assert "3 unchanged, 0 removed" in again.stdout
    assert len(read_bundle(StoreDir(store).records_dir / f"{y_id}.jsonl").works) == 2


def test_reimport_reports_added_changed_and_removed(tmp_path, kg):
    store = tmp_path / "store"
    x = write(tmp_path / "x" / "refs.bib", bib(X_ENTRIES))
    assert kg("import", "bibtex", str(x), store=store).exit_code == 0
    edited = [X_ENTRIES[0], ("b", "Beta Works On Personal Retrieval, Revised", "2312.70002"),
              ("e", "Zeta Works On Something New", "2312.70009")]
    write(x, bib(edited))
    again = kg("import", "bibtex", str(x), store=store)
    assert again.exit_code == 0, again.output + again.message
    assert "1 added, 1 changed, 1 unchanged, 1 removed" in again.stdout
    assert "removed: arxiv:2312.70003" in again.stdout
    as_json = json.loads(kg("import", "bibtex", str(x), "--json", store=store).stdout)
    assert as_json["changes"] == {"added": 0, "changed": 0, "unchanged": 3, "removed": 0, "removed_ids": []}
    graph = LocalGraph(store)
    gone = graph.query('ASK { ?w kg:arxivId "2312.70003" }', trusted=True)
    assert gone.boolean is False


def test_an_awesome_list_named_list_md_never_takes_the_bundled_lists_id(tmp_path, kg):
    store = tmp_path / "store"
    listing = tmp_path / "list.md"
    shutil.copy(FIXTURES / "awesome_personalized_lmms_mojibake.md", listing)
    result = kg("import", "awesome", str(listing), "--json", store=store)
    assert result.exit_code == 0, result.output + result.message
    new_id = source_id(result)
    assert new_id.startswith("awesome-list-") and new_id not in BUNDLED
    ids = [r["source"].rsplit("/", 1)[-1] for r in sources(kg, store)]
    assert sorted(ids) == sorted(BUNDLED | {new_id})


def test_source_id_option_and_the_ids_it_may_not_take(tmp_path, kg):
    store = tmp_path / "store"
    x = write(tmp_path / "x" / "refs.bib", bib(X_ENTRIES))
    y = write(tmp_path / "moved" / "refs.bib", bib(X_ENTRIES[:2]))
    ok = kg("import", "bibtex", str(x), "--source-id", "my-survey", store=store)
    assert ok.exit_code == 0, ok.output + ok.message
    assert (StoreDir(store).records_dir / "my-survey.jsonl").is_file()
    moved = kg("import", "bibtex", str(y), "--source-id", "my-survey", store=store)  # the same source, moved
    assert moved.exit_code == 0 and "removed: arxiv:2312.70003" in moved.stdout
    write_bundle(StoreDir(store).records_dir / "other.jsonl",
                 Bundle(sources=[Source("taken", "t", "t")], works=[Work({"arxiv": "2312.70008"}, ["taken"])]))
    for bad, words in (("awesome-list", "bundled source"), ("survey-table1", "bundled source"),
                       ("arxiv", "reserved"), ("classifier-x", "reserved"), ("curation", "reserved"),
                       ("taken", "already used by records/other.jsonl"), ("Bad Id!", "lowercase letters")):
        refused = kg("import", "bibtex", str(x), "--source-id", bad, store=store)
        assert refused.exit_code == 2, (bad, refused.output)
        assert words in refused.message, (bad, refused.message)
    assert len(read_bundle(StoreDir(store).records_dir / "my-survey.jsonl").works) == 2


def test_an_import_made_before_source_ids_had_a_hash_is_named(tmp_path, kg):
    store = tmp_path / "store"
    write_bundle(StoreDir(store).records_dir / "bibtex-refs.jsonl",
                 Bundle(sources=[Source("bibtex-refs", "BibTeX file refs.bib", "BibTeX import")],
                        works=[Work({"arxiv": "2312.70007"}, ["bibtex-refs"], title="Older Import Of A File")]))
    x = write(tmp_path / "x" / "refs.bib", bib(X_ENTRIES))
    result = kg("import", "bibtex", str(x), store=store)
    assert result.exit_code == 0
    assert "records/bibtex-refs.jsonl" in result.output and "it is kept" in result.output


# ---------------------------------------------------------------- remote stores
@pytest.fixture
def server(tmp_path):
    srv = OxigraphServer(tmp_path / "oxigraph")
    yield srv
    srv.stop()


def test_import_into_a_remote_store_keeps_records_locally(server, tmp_path, kg, monkeypatch):
    monkeypatch.chdir(tmp_path)
    x = write(tmp_path / "x" / "refs.bib", bib(X_ENTRIES))
    first = kg("import", "bibtex", str(x), store=server.url)
    assert first.exit_code == 0, first.output + first.message
    assert "graph rebuilt" in first.stdout
    records = StoreDir(server.url).records_dir
    assert len(list(records.glob("bibtex-refs-*.jsonl"))) == 1
    assert not list(tmp_path.glob("http*"))  # no folder named after the URL
    graph = RemoteGraph(server.url)
    assert graph.query('ASK { ?w kg:arxivId "2312.70002" }', trusted=True).boolean is True
    write(x, bib(X_ENTRIES[:2]))
    again = kg("import", "bibtex", str(x), store=server.url)
    assert again.exit_code == 0 and "removed: arxiv:2312.70003" in again.stdout
    assert RemoteGraph(server.url).query('ASK { ?w kg:arxivId "2312.70003" }', trusted=True).boolean is False
    (imported,) = [p.stem for p in records.glob("*.jsonl")]
    assert sorted(r["source"].rsplit("/", 1)[-1] for r in sources(kg, server.url)) == sorted(BUNDLED | {imported})


def test_harvest_into_a_remote_store(server, tmp_path, kg, monkeypatch, fake_time):
    monkeypatch.chdir(tmp_path)
    with LocalServer(Replay().add_arxiv()) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        result = kg("harvest", "arxiv", "--id", "1707.08567", store=server.url)
    assert result.exit_code == 0, result.output + result.message
    assert "graph rebuilt" in result.stdout
    workspace = StoreDir(server.url).path
    assert (workspace / "records" / "arxiv.jsonl").is_file() and (workspace / "cache").is_dir()
    assert not list(tmp_path.glob("http*"))
    assert RemoteGraph(server.url).query('ASK { ?w kg:arxivId "1707.08567" }', trusted=True).boolean is True
