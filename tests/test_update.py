"""kg plan and kg update: the saved harvest plan run again against recorded answers on 127.0.0.1;
the second run makes no request and says nothing new; a lock; SIGKILL loses nothing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from harvest_support import Answer, LocalServer, atom_feed, kill_when_asked
from kg.store import Store
from kg.store.snapshots import snapshots
from kg.update import update_lock

ROOT = Path(__file__).resolve().parent.parent
ENTRIES = [{"id": "2502.00011", "title": "Personalized multimodal assistant with memory of the user",
            "published": "2025-02-01T00:00:00Z",
            "summary": "A personalized vision-language model that remembers user concepts."},
           {"id": "2502.00012", "title": "Retrieval of personal photos with language models",
            "published": "2025-02-02T00:00:00Z", "summary": "Personalized retrieval for multimodal LLMs."}]
LIST = """| Title | Venue | Year | Input | Output | Link |
|---|---|---|---|---|---|
| Listed Personalized Video Captioning | CVPR | 2025 | video | text | [arXiv](https://arxiv.org/abs/2502.00021) |
"""


def _arxiv(req):
    return Answer(200, atom_feed(ENTRIES), {"Content-Type": "application/atom+xml"})


@pytest.fixture
def planned(store_copy, tmp_path, kg, monkeypatch):
    monkeypatch.setattr("kg.harvest.run.default_sleep", lambda s: None)  # arXiv's 3 s pace, not waited here
    listing = tmp_path / "list.md"
    listing.write_text(LIST, encoding="utf-8")
    assert kg("plan", "add", "arxiv", "abs:personalized", "--max", "5", store=store_copy).exit_code == 0
    added = kg("plan", "add", "awesome", listing, "--source-id", "my-list", store=store_copy)
    assert added.exit_code == 0, added.output
    return store_copy, listing


def test_update_twice_the_second_run_makes_no_request_and_says_nothing_new(planned, kg, monkeypatch):
    store, _ = planned
    shown = kg("plan", "show", "--json", store=store)
    assert [e["kind"] for e in json.loads(shown.output)] == ["arxiv", "awesome"]
    with LocalServer(_arxiv) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        first = kg("update", "--json", store=store)
        assert first.exit_code == 0, first.output
        outcome = json.loads(first.output)
        asked = len(srv.requests)
        generation = Store(store).dir.current()
        second = kg("update", store=store)
        assert len(srv.requests) == asked >= 1  # the second run asked nothing
    assert outcome["nothing_new"] is False and outcome["requests"] == asked
    assert outcome["summary"]["works_added"] == 3 and outcome["snapshot"].startswith("update-")
    assert second.exit_code == 0 and "Nothing new" in second.output and "(0 request(s))" in second.output
    # the search found the same papers again: its records file and the graph stay as they were
    assert "graph in place was kept" in second.output and Store(store).dir.current() == generation
    assert [s.name for s in snapshots(store)] == [outcome["snapshot"]]  # no snapshot for nothing new
    updates = store / "updates"
    digest = (updates / "digest.md").read_text(encoding="utf-8")
    assert "Listed Personalized Video Captioning" in digest and "Retrieval of personal photos" in digest
    assert "<html" in (updates / "digest.html").read_text(encoding="utf-8")
    feed = ET.parse(updates / "feed.atom").getroot()
    atom = "{http://www.w3.org/2005/Atom}"
    titles = {e.find(f"{atom}title").text for e in feed.iter(f"{atom}entry")}
    assert "Personalized multimodal assistant with memory of the user" in titles
    links = {e.find(f"{atom}link").get("href") for e in feed.iter(f"{atom}entry")}
    assert "https://arxiv.org/abs/2502.00011" in links
    # kg diff from the update's snapshot: nothing since
    assert json.loads(kg("diff", "--format", "json", store=store).output)["nothing_new"] is True


def test_a_changed_list_is_news_on_the_next_run(planned, kg, monkeypatch):
    store, listing = planned
    with LocalServer(_arxiv) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        assert kg("update", store=store).exit_code == 0
        listing.write_text(LIST + "| Another Listed Personalized Agent | ICML | 2025 | text | text | "
                                  "[arXiv](https://arxiv.org/abs/2502.00022) |\n", encoding="utf-8")
        again = kg("update", "--json", store=store)
    data = json.loads(again.output)
    assert again.exit_code == 0 and data["nothing_new"] is False and data["summary"]["works_added"] == 1
    assert len(snapshots(store)) == 2


def test_an_update_that_changes_no_record_keeps_the_graph_in_place(store_copy, tmp_path, kg):
    """A plan of list files that did not change: no rebuild, no new generation; a changed list rebuilds."""
    listing = tmp_path / "list.md"
    listing.write_text(LIST, encoding="utf-8")
    assert kg("plan", "add", "awesome", listing, "--source-id", "my-list", store=store_copy).exit_code == 0
    first = kg("update", "--json", store=store_copy)
    assert first.exit_code == 0 and json.loads(first.output)["rebuilt"] is True
    generation = Store(store_copy).dir.current()
    second = kg("update", store=store_copy)
    assert second.exit_code == 0 and "graph in place was kept" in second.output, second.output
    assert Store(store_copy).dir.current() == generation
    listing.write_text(LIST.replace("Video Captioning", "Video Captioning Again"), encoding="utf-8")
    third = kg("update", "--json", store=store_copy)
    assert third.exit_code == 0 and json.loads(third.output)["rebuilt"] is True
    assert Store(store_copy).dir.current() != generation


def test_a_second_update_while_one_runs_fails_at_once(planned, kg):
    store, _ = planned
    with update_lock(Store.at(store)):
        result = kg("update", store=store)
    assert result.exit_code == 1 and "another kg update is running" in result.message
    assert "Traceback" not in result.output


def test_an_empty_plan_and_bad_entries_are_clear(store_copy, kg):
    empty = kg("update", store=store_copy)
    assert empty.exit_code == 2 and "plan" in empty.message and "kg plan add" in empty.message
    assert kg("plan", "add", "gopher", "x", store=store_copy).exit_code == 2
    assert kg("plan", "add", "s2", store=store_copy).exit_code == 2  # neither references nor citations
    assert kg("plan", "add", "bibtex", "missing.bib", store=store_copy).exit_code == 2
    assert kg("plan", "add", "s2", "--references", store=store_copy).exit_code == 0
    assert kg("plan", "remove", "5", store=store_copy).exit_code == 2
    assert kg("plan", "remove", "1", store=store_copy).exit_code == 0
    assert json.loads(kg("plan", "show", "--json", store=store_copy).output) == []


def test_sigkill_during_update_loses_nothing(planned, tmp_path):
    store, _ = planned
    assert subprocess.run([sys.executable, "-m", "kg.cli", "--store", str(store), "snapshot", "create", "before"],
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True).returncode == 0
    current = Store.at(store).dir.current().name
    release = threading.Event()

    def held(req):  # the arXiv answer waits until the first run is dead
        return Answer(200, atom_feed(ENTRIES), {"Content-Type": "application/atom+xml"},
                      hold=None if release.is_set() else release)

    with LocalServer(held) as srv:
        env = {**os.environ, "KG_ARXIV_API_URL": f"{srv.url}/api/query", "PYTHONPATH": str(ROOT),
               "KG_HOME": str(tmp_path / "home")}
        cmd = [sys.executable, "-m", "kg.cli", "--store", str(store), "update", "--json"]
        try:
            kill_when_asked(cmd, env, srv, timeout=60)
        finally:
            release.set()
        assert Store.at(store).dir.current().name == current  # the graph as it was
        assert [s.name for s in snapshots(store)] == ["before"]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["summary"]["works_added"] == 3 and [s.name for s in snapshots(store)] == ["before", outcome["snapshot"]]
    assert Store.at(store).dir.generation(current) is not None  # the snapshot's generation is kept


def test_the_readmes_living_survey_block_runs_as_written(kg, tmp_path, monkeypatch):
    """The README's living-survey block, line by line as written, in a fresh kg home and a folder
    holding the awesome lists as a source checkout does: every command exits 0, `kg diff` names
    the works the newer list added and the cells they fill, the first `kg update` brings the
    planned list's papers, the second says nothing new, and nothing leaves the machine."""
    import re
    import shlex
    import shutil
    import socket

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"```bash\n(.*?)```", readme, re.DOTALL) if "kg update" in b
                 and "kg snapshot create" in b and "tests/fixtures/awesome_lists" in b)
    lists = tmp_path / "checkout" / "tests" / "fixtures" / "awesome_lists"
    shutil.copytree(ROOT / "tests" / "fixtures" / "awesome_lists", lists)
    monkeypatch.chdir(tmp_path / "checkout")
    monkeypatch.setenv("KG_HOME", str(tmp_path / "home"))
    contacted: list = []

    def no_network(sock, address, *args):
        contacted.append(address)
        raise OSError(f"this test makes no connection (asked for {address})")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    outputs: list[tuple[str, str]] = []
    for line in block.strip().splitlines():
        words = shlex.split(line, comments=True)  # a comment after the command is not an argument
        commands = [[]]
        for word in words:
            commands.append([]) if word == "&&" else commands[-1].append(word)
        for command in commands:
            assert command[0] == "kg", line
            result = kg(*command[1:])
            assert result.exit_code == 0, (line, result.output, result.message)
            outputs.append((command[1], result.output))
    assert [name for name, _ in outputs] == ["build", "snapshot", "import", "classify", "diff", "plan", "update",
                                            "update"]
    assert contacted == []

    # kg diff: from the 'submitted' snapshot, the newer list's works, with the cells they fill
    diff = dict(outputs)["diff"]
    assert diff.startswith("From submitted to current:"), diff[:200]
    added = re.search(r"^Works added \((\d+)\):\n((?:  .*\n)+)", diff, re.MULTILINE)
    assert added and int(added.group(1)) >= 100, diff[:500]
    listed = (lists / "JiahongLiu21-Awesome-Personalized-Large-Language-Models.md").read_text(encoding="utf-8")
    works = [re.match(r"  (.*?)(?: \(([\w./-]+)\))?: \w+, relevance .*; cells (.*)$", row).groups()
             for row in added.group(2).splitlines()]
    placed = {name: cells for name, arxiv, cells in works if cells != "none"}
    assert all(arxiv in listed for _, arxiv, _ in works if arxiv)  # every added work is the list's
    assert placed.get("iLoRA") == "recommendation x fine_tuning", placed
    assert len(placed) >= 3
    cells = re.search(r"^Cells \((\d+)\):\n((?:  .*\n)+)", diff, re.MULTILINE)
    assert cells and "recommendation x fine_tuning" in cells.group(2) and "iLoRA" in cells.group(2), diff

    # kg update twice: the planned list's papers, then nothing new, no request either time
    first, second = [out for name, out in outputs if name == "update"]
    assert re.search(r"awesome list .*HqWu.*: (\d+) added", first) and "Nothing new" not in first, first
    assert "Snapshot update-" in first and "(0 request(s)" in first
    assert "Nothing new since" in second and "(0 request(s))" in second, second
    assert re.search(r": 0 added, 0 updated", second), second
    store = tmp_path / "home" / "store"
    assert [s.name for s in snapshots(store)][0] == "submitted" and len(snapshots(store)) == 2
    assert (store / "updates" / "feed.atom").is_file()


# ---------------------------------------------------------------------------------- list URLs
AWESOME = (ROOT / "tests" / "fixtures" / "awesome_lists" / "HqWu-HITCS-Awesome-Personalized-LLM.md").read_text(
    encoding="utf-8")
TABLE_HEAD = "|:--------|:--------:|:--------:|:--------:|:--------:|\n"
NEW_ROW = ("| [**Personalized Memory Agents for Long Chats**](https://arxiv.org/pdf/2502.00031.pdf) | Arxiv25 "
           "| 2025-02-03 | - | - |\n")


class ListSite:
    """Serves one list at /lists/README.md, with an ETag (answering If-None-Match with 304) unless
    `etag` is off; `answer` overrides the reply (a 404, a PDF)."""

    def __init__(self, text: str, etag: bool = True):
        self.text, self.etag, self.answer = text, etag, None

    def __call__(self, req):
        if self.answer is not None:
            return self.answer
        if req.path != "/lists/README.md":
            return Answer(404, "Not Found", {"Content-Type": "text/plain"})
        tag = f'"{hash(self.text) & 0xFFFFFFFF:x}"'
        if self.etag and req.headers.get("if-none-match") == tag:
            return Answer(304, "", {"ETag": tag})
        return Answer(200, self.text, {"Content-Type": "text/plain; charset=utf-8",
                                       **({"ETag": tag} if self.etag else {})})


def _records(store: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted((store / "records").glob("awesome-*.jsonl"))}


def test_a_list_url_is_imported_revalidated_and_news_when_it_changes(store_copy, kg):
    site = ListSite(AWESOME)
    with LocalServer(site) as srv:
        url = f"{srv.url}/lists/README.md"
        added = kg("plan", "add", "awesome", url, store=store_copy)
        assert added.exit_code == 0 and url in added.output, added.output
        entry = json.loads(kg("plan", "show", "--json", store=store_copy).output)[0]
        assert entry["url"] == url and entry["source_id"].startswith("awesome-readme-") and "file" not in entry
        assert kg("plan", "add", "awesome", url, store=store_copy).exit_code == 2  # the same entry twice

        first = kg("update", "--json", store=store_copy)
        assert first.exit_code == 0, first.output
        outcome = json.loads(first.output)
        assert outcome["errors"] == [] and outcome["nothing_new"] is False
        assert outcome["steps"][0]["added"] >= 20 and outcome["requests"] == 1
        records = _records(store_copy)
        assert list(records) == [f"{entry['source_id']}.jsonl"] and url in records[f"{entry['source_id']}.jsonl"]

        second = kg("update", store=store_copy)  # a conditional request: 304, nothing imported
        assert second.exit_code == 0 and "Nothing new since" in second.output, second.output
        assert "unchanged since the last import (1 request(s), 1 from the cache)" in second.output
        assert srv.requests[-1].headers.get("if-none-match") and len(srv.requests) == 2
        assert _records(store_copy) == records

        site.text = AWESOME.replace(TABLE_HEAD, TABLE_HEAD + NEW_ROW, 1)  # the maintainers add a paper
        third = kg("update", "--json", store=store_copy)
        news = json.loads(third.output)
        assert third.exit_code == 0 and news["nothing_new"] is False and news["summary"]["works_added"] == 1
        assert "Personalized Memory Agents for Long Chats" in (store_copy / "updates" / "digest.md").read_text(
            encoding="utf-8")

        offline = kg("update", "--offline", store=store_copy)  # the cache answers; no request
        assert offline.exit_code == 0 and "Nothing new" in offline.output and len(srv.requests) == 3
    assert len(snapshots(store_copy)) == 2


def test_a_list_url_without_validators_is_fetched_again_but_not_imported_again(store_copy, kg):
    with LocalServer(ListSite(AWESOME, etag=False)) as srv:
        assert kg("plan", "add", "awesome", f"{srv.url}/lists/README.md", store=store_copy).exit_code == 0
        assert kg("update", store=store_copy).exit_code == 0
        records = _records(store_copy)
        again = kg("update", store=store_copy)
        assert len(srv.requests) == 2 and all("if-none-match" not in r.headers for r in srv.requests)
    assert again.exit_code == 0 and "unchanged since the last import" in again.output and "Nothing new" in again.output
    assert _records(store_copy) == records


@pytest.mark.parametrize("answer, says", [
    (Answer(404, "Not Found", {"Content-Type": "text/plain"}), "HTTP 404"),
    (Answer(200, b"%PDF-1.5\x00\x01\x02", {"Content-Type": "application/pdf"}), "not UTF-8 text"),
    (Answer(200, "<html><body>a list</body></html>", {"Content-Type": "text/html"}), "web page"),
])
def test_a_failing_list_url_is_a_clear_step_error_and_loses_nothing(store_copy, kg, answer, says):
    site = ListSite(AWESOME)
    with LocalServer(site) as srv:
        url = f"{srv.url}/lists/README.md"
        assert kg("plan", "add", "awesome", url, store=store_copy).exit_code == 0
        assert kg("update", store=store_copy).exit_code == 0
        records = _records(store_copy)
        site.answer = answer
        failed = kg("update", store=store_copy)
        as_json = kg("update", "--json", store=store_copy)
    assert failed.exit_code == 1 and "Traceback" not in failed.output
    assert f"awesome list {url}" in failed.message and says in failed.message, failed.message
    assert "Nothing new" in failed.output
    assert as_json.exit_code == 1 and says in json.loads(as_json.output)["errors"][0]
    assert _records(store_copy) == records  # the source's records as they were: the graph says nothing new
    assert json.loads(kg("diff", "--format", "json", store=store_copy).output)["nothing_new"] is True
    assert len(snapshots(store_copy)) == 1


def test_only_http_urls_are_list_urls(store_copy, kg):
    for value in ("ftp://example.org/list.md", "file:///tmp/list.md", "https:///list.md"):
        refused = kg("plan", "add", "bibtex", value, store=store_copy)
        assert refused.exit_code == 2 and "http or https URL" in refused.message, (value, refused.message)
    assert json.loads(kg("plan", "show", "--json", store=store_copy).output) == []
