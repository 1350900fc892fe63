"""Real SPARQL servers on 127.0.0.1 for the remote-store tests: Oxigraph server and Virtuoso.

Oxigraph server comes from the PyPI package `oxigraph` (a test dependency).
Virtuoso comes from Debian's `virtuoso-opensource` (`apt-get install -y
virtuoso-opensource`); without it the Virtuoso tests are skipped with that hint.
Both are started by hand in a temporary folder, bound to 127.0.0.1 only.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, timeout: float, what: str, proc: subprocess.Popen | None = None, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            if check():
                return
        except (requests.RequestException, OSError):
            pass
        time.sleep(0.1)
    detail = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
    raise RuntimeError(f"{what} did not start: {detail}")


def oxigraph_binary() -> str | None:
    here = Path(sys.executable).parent / "oxigraph"
    return str(here) if here.exists() else shutil.which("oxigraph")


class OxigraphServer:
    def __init__(self, folder: Path, timeout_s: int = 5):
        binary = oxigraph_binary()
        if binary is None:
            raise RuntimeError("the `oxigraph` command is missing: pip install oxigraph")
        folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.log = folder / "oxigraph.log"
        self.proc = subprocess.Popen(
            [binary, "serve", "--location", str(folder / "data"), "--bind", f"127.0.0.1:{self.port}",
             "--timeout-s", str(timeout_s)],
            stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = self.base + "/query"
        wait_until(lambda: requests.get(self.url, params={"query": "ASK {}"}, timeout=2).ok, 30,
                   "oxigraph server", self.proc, self.log)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {dir}/virtuoso.db
ErrorLogFile = {dir}/virtuoso.log
LockFile = {dir}/virtuoso.lck
TransactionFile = {dir}/virtuoso.trx
xa_persistent_file = {dir}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {dir}/virtuoso-temp.db
TransactionFile = {dir}/virtuoso-temp.trx
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DisableTcpSocket = 0
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {dir}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledGzipContent = 0

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 30
MaxQueryCostEstimationTime = 400
"""

# Let the anonymous SPARQL user write (SPARQL Update and the Graph Store Protocol), as a test server.
VIRTUOSO_GRANTS = ('GRANT SPARQL_UPDATE TO "SPARQL"; '
                   "DB.DBA.RDF_DEFAULT_USER_PERMS_SET ('nobody', 7);")


def virtuoso_binaries() -> tuple[str, str] | None:
    server, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    return (server, isql) if server and isql else None


class VirtuosoServer:
    def __init__(self, folder: Path):
        found = virtuoso_binaries()
        if found is None:
            raise RuntimeError("Virtuoso is not installed: apt-get install -y virtuoso-opensource")
        server, isql = found
        folder.mkdir(parents=True, exist_ok=True)
        self.sql_port, self.http_port = free_port(), free_port()
        ini = folder / "virtuoso.ini"
        ini.write_text(VIRTUOSO_INI.format(dir=folder, sql_port=self.sql_port, http_port=self.http_port))
        self.log = folder / "virtuoso.out"
        self.proc = subprocess.Popen([server, "+foreground", "+configfile", str(ini)], cwd=folder,
                                     stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.http_port}/sparql"
        wait_until(lambda: requests.get(self.url, params={"query": "ASK {}"}, timeout=2).ok, 90,
                   "virtuoso", self.proc, folder / "virtuoso.log")
        done = subprocess.run([isql, f"127.0.0.1:{self.sql_port}", "dba", "dba", f"exec={VIRTUOSO_GRANTS}"],
                              capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            self.stop()
            raise RuntimeError(f"isql failed: {done.stdout[-1000:]} {done.stderr[-1000:]}")

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def normalise(result, distinct: bool = False) -> list:
    """Rows as a sorted multiset (a set with distinct=True) of comparable values, tolerant of
    engine differences that do not change meaning: the order of GROUP_CONCAT parts, an empty
    GROUP_CONCAT as "" or unbound, booleans written as 0/1 (Virtuoso), and the order of rows."""
    def value(term):
        if term is None or (term.type == "literal" and term.value == "" and not term.lang):
            return None
        v = term.py
        if isinstance(v, bool):
            v = int(v)
        if isinstance(v, str) and any(sep in v for sep in (" | ", "; ", "|", ";")):
            for sep in (" | ", "; ", "|", ";"):
                if sep in v:
                    return tuple(sorted(v.split(sep)))
        return v

    if result.kind == "ask":
        return [bool(result.boolean)]
    if result.kind == "graph":
        return sorted(tuple(t.value for t in triple) for triple in result.triples)
    rows = [repr(sorted((k, value(row.get(k))) for k in result.vars)) for row in result.rows]
    return sorted(set(rows) if distinct else rows)
