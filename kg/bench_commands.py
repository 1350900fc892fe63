"""The user-facing paths of `kg bench`, timed as the user runs them: each a whole process.

`time_commands(store, workdir, ...)` runs, against a built store, the commands a survey author
types (`kg gaps`, `kg gaps --json`, `kg validate`, `kg report --format html`, `kg query --name
papers`, `kg classify` once, then again after 1,000 new works arrive), each as `python -m kg ...` in a child
process: wall time from start to exit (Python start included) and the child's own peak resident
memory (watch_process: VmHWM sampled until it exits). Beside them, baselines measured the same way:

- the engine alone: pyoxigraph opened read-only on the same generation, one GROUP BY of
  category x mechanism counts (what the gap matrix asks of the store at the least);
- pandas alone: the records file read with pandas and the same counts computed in memory
  (what a user with a notebook would do instead of kg).

Each row names the path it is a baseline of (`baseline_of`), so kg.bench's comparisons print
the ratios. Figures are medians of `repeats` runs (one run for commands that change the store).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GAPS = "kg gaps"
ENGINE_BASELINE = "engine alone: one GROUP BY in pyoxigraph (process)"
PANDAS_BASELINE = "pandas alone: the records file, category x mechanism counts (process)"
CLASSIFY_FIRST = "kg classify (first run: trains the model and keeps it)"

# the baselines' programs: each a whole process, as `kg gaps` is
_ENGINE_PROGRAM = """
import sys, pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
q = '''PREFIX kg: <https://w3id.org/kg-survey/ontology#>
SELECT ?c ?m (COUNT(DISTINCT ?w) AS ?n) WHERE { ?w kg:category ?c ; kg:mechanism ?m } GROUP BY ?c ?m'''
print(sum(1 for _ in store.query(q)))
"""
_PANDAS_PROGRAM = """
import sys, pandas as pd
works = pd.read_json(sys.argv[1], lines=True)
works = works[works["type"] == "work"].reset_index(drop=True)
labels = works[["labels"]].explode("labels").dropna()
labels = pd.concat([labels.index.to_frame(name="work"), pd.json_normalize(labels["labels"].tolist()).set_index(labels.index)], axis=1)
cats = labels[labels["axis"] == "category"][["work", "value"]].drop_duplicates()
mechs = labels[labels["axis"] == "mechanism"][["work", "value"]].drop_duplicates()
cells = cats.merge(mechs, on="work", suffixes=("_category", "_mechanism"))
print(len(cells.groupby(["value_category", "value_mechanism"])["work"].nunique()))
"""


def watch_process(proc: subprocess.Popen, deadline=lambda: None, on_tick=None) -> dict:
    """Wait for a started child, measuring it: the one process timer of kg bench (the commands
    here, kg.bench.run_child's build, load and rdflib children).

    Peak memory is the child's own high-water mark (VmHWM from /proc, sampled every 10 ms until
    it exits; the kernel keeps the mark, so a sample loses nothing but the last instant's growth),
    not the kernel's rusage maximum, which counts the parent's resident memory at fork (a large
    benchmark process would hide a small command's peak); rusage only where /proc says nothing.
    `deadline()`: the monotonic time after which the child is killed (None: none), asked on every
    tick, so it may move; `on_tick()`: called on every tick (e.g. to read the child's output).
    Returns peak_rss_mb, cpu_s, exit, timed_out; sets proc.returncode."""
    peak_kb, timed_out = 0, False
    while True:
        if on_tick is not None:
            on_tick()
        peak_kb = max(peak_kb, high_water_kb(proc.pid))
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        limit = deadline()
        if limit is not None and time.monotonic() > limit:
            timed_out = True
            proc.kill()
            _, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return {"peak_rss_mb": round((peak_kb or usage.ru_maxrss) / 1024, 1),
            "cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "exit": proc.returncode, "timed_out": timed_out}


def time_process(args: list[str], env: dict | None = None, cwd: str | Path | None = None,
                 timeout_s: float = 3600.0) -> dict:
    """One child process: wall seconds, peak RSS (MB, its own: watch_process), exit code, the
    tails of its standard output and error."""
    with tempfile.TemporaryFile(mode="w+") as errors, tempfile.TemporaryFile(mode="w+") as output:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=output, stderr=errors, env=env, cwd=cwd, text=True)
        limit = time.monotonic() + timeout_s
        measured = watch_process(proc, lambda: limit)
        seconds = time.perf_counter() - started
        errors.seek(0)
        tail = errors.read()[-1500:]
        output.seek(0)
        said = output.read()[-2000:]
    return {"seconds": round(seconds, 3), "peak_rss_mb": measured["peak_rss_mb"], "exit": measured["exit"],
            "stderr": tail, "stdout": said}


def high_water_kb(pid: int) -> int:
    """A running process's peak resident memory so far (VmHWM, kB); 0 when unknown."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _median_run(args: list[str], env: dict, repeats: int) -> dict:
    runs = [time_process(args, env) for _ in range(max(1, repeats))]
    failed = [r for r in runs if r["exit"] != 0]
    if failed:
        return {"error": f"exit {failed[0]['exit']}: {failed[0]['stderr'].strip()[-400:]}"}
    return {"seconds": statistics.median(r["seconds"] for r in runs), "runs": [r["seconds"] for r in runs],
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs), "said": runs[-1]["stdout"].strip()[-1000:]}


def kg_process(*args: str) -> list[str]:
    """`kg ARGS` as the user runs it, with this installation's Python."""
    return [sys.executable, "-m", "kg", *args]


REPORT = "kg report --format html"
REPORT_FIRST = f"{REPORT} (first after kg build)"


def derived_files(generation: Path) -> set[str]:
    """The names of the files kept beside `generation` (its kg-derived/ folder), e.g. what kg
    build kept there as it published it."""
    from .derived import DERIVED

    folder = Path(generation) / DERIVED
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def forget_derived(generation: Path, keep: set[str]) -> None:
    """Remove the files kept beside `generation` but those named in `keep`: what an earlier
    command computed and kept (the citation table, the report's reads, the app's views) is gone,
    as right after the build."""
    from .derived import DERIVED

    folder = Path(generation) / DERIVED
    if folder.is_dir():
        for path in folder.iterdir():
            if path.name not in keep and path.is_file():
                path.unlink()


def time_commands(store: Path, workdir: Path, repeats: int = 3, add_works=None, env: dict | None = None,
                  built: set[str] | None = None) -> list[dict]:
    """The commands and their baselines on `store` (a local store folder with one records file).

    built, when given: the files kg build kept beside the generation. `kg report` is then timed
    once more first, as right after the build (every other kept file removed: the citation table
    and the report's own reads computed by the report), then as usual (`repeats` runs: every
    report of the generation after its first).

    add_works(records_dir) -> int, when given: `kg classify` is timed once on the store as built
    (it trains the model and keeps it), then add_works writes new works' records, and `kg build`
    (what an import runs) and `kg classify` (the new works alone, with the kept model) are
    timed once each (they change the store: last)."""
    env = {**(env or os.environ), "KG_STORE": str(store)}
    env.pop("KG_PROJECT", None)
    generation = (Path(store) / "current").resolve()
    records = sorted((Path(store) / "records").glob("*.jsonl"))
    report = workdir / "bench-report.html"
    plan = [
        (GAPS, kg_process("gaps"), None),
        ("kg gaps --json", kg_process("gaps", "--json"), None),
        (ENGINE_BASELINE, [sys.executable, "-c", _ENGINE_PROGRAM, str(generation)], GAPS),
    ]
    if records:
        plan.append((PANDAS_BASELINE, [sys.executable, "-c", _PANDAS_PROGRAM, str(records[0])], GAPS))
    plan += [
        ("kg validate", kg_process("validate"), None),
        (REPORT, kg_process("report", "--format", "html", "--output", str(report)), None),
        ("kg query --name papers (page one)", kg_process("query", "--name", "papers"), None),
    ]
    rows = []
    for name, args, baseline_of in plan:
        if name == REPORT and built is not None:
            forget_derived(generation, built)
            rows.append({"name": REPORT_FIRST, **_median_run(args, env, 1)})
        row = {"name": name, **_median_run(args, env, repeats)}
        if baseline_of:
            row["baseline_of"] = baseline_of
        rows.append(row)
    if add_works is not None:
        # the first run trains the model and keeps it in the store; the run after new works reuses it
        rows.append({"name": CLASSIFY_FIRST, **_median_run(kg_process("classify"), env, 1)})
        added = add_works(Path(store) / "records")  # as `kg import` would: the records, then a build
        rows.append({"name": f"kg build (after {added} new works)", **_median_run(kg_process("build"), env, 1)})
        rows.append({"name": f"kg classify ({added} new works)", **_median_run(kg_process("classify"), env, 1)})
    return rows
