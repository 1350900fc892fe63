"""What every `kg` command shares: the output consoles, the project and store of this run, error messages.

The app's callback (kg/cli/__init__.py) hands `begin()` the --project and --store options once
per run; a command asks `project()` for the run's project and `store()` for its one Store object
(resolved on first use, then the same object every time) and `graph()` for its graph. This is
the one place the order is kept: the project is --project, else $KG_PROJECT, else the project the
current folder is in (found upward, as git finds a repository), else the bundled survey
(kg.project.resolve); the store is --store, else $KG_STORE, else the project's store. `error_lines()` turns a KgError into the lines `kg` prints: a library error
names the input it is about (`field`), and FLAGS gives the flag a `kg` user typed for it.

Command modules import this module, never the assembler (kg/cli/__init__.py), and read
`console.out` / `console.err` when they print (so a test can swap a console).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from rich.console import Console

from ..errors import KgError, UsageError

if TYPE_CHECKING:
    from ..project import Project
    from ..store import Store

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

# a library error's field (the library function's parameter) -> the flag that gives it on the command line
FLAGS = {
    "store": "--store",
    "project": "--project",
    "taxonomy": "--taxonomy",
    "corpus": "--corpus",
    "project_name": "--name",
    "min_confidence": "--min-confidence",
    "by": "--by",
    "query": "--query",
    "id_list": "--id",
    "profile": "--profile",
    "taxonomy_file": "--taxonomy",
    "max_results": "--max",
    "since": "--since",
    "from_graph": "--from-graph",
    "depth": "--depth",
    "min_links": "--min-links",
    "references": "--references",
    "citations": "--citations",
    "offline": "--offline",
    "sizes": "--papers",
    "repeats": "--repeats",
    "port": "--port",
    "workers": "--workers",
    "max_queries": "--max-queries",
    "cors_origins": "--cors-origin",
    "allow_hosts": "--allow-host",
    "source_id": "--source-id",
    "category": "--category",
    "mechanism": "--mechanism",
    "input_modality": "--input-modality",
    "output_modality": "--output-modality",
    "method": "--method",
    "output": "--output",
    "fmt": "--format",
    "bindings": "--bind",
    "exclude": "--exclude",
}


class Run:
    """One run of `kg`: the --project and --store it was given, and the Project and Store they name
    (made once, on first use)."""

    def __init__(self, location: str | None = None, project: str | None = None):
        self.location = location
        self.project_folder = project
        self._project: Project | None = None
        self._store: Store | None = None

    def project(self) -> Project:
        if self._project is None:
            from ..project import resolve

            self._project = resolve(self.project_folder)
        return self._project

    def store(self) -> Store:
        if self._store is None:
            import os

            from ..store import Store

            project = self.project()
            location = self.location or os.environ.get("KG_STORE") or project.store
            self._store = Store.at(location, project=project)
        return self._store


_run = Run()


def begin(location: str | None, project: str | None = None) -> None:
    """Start a run with the --store and --project options as given (None: see the module's order)."""
    global _run
    _run = Run(location, project)


def project() -> Project:
    """The project of this run (kg.project.Project; the bundled survey when none is selected)."""
    return _run.project()


def store() -> Store:
    """The store of this run: the same Store object however often a command asks."""
    return _run.store()


def graph():
    """This run's graph, read-only (a LocalGraph or a RemoteGraph)."""
    return store().open()


def flags(exc: KgError) -> list[str]:
    """The command-line flags for the inputs an error names (those the CLI has a flag for)."""
    return [FLAGS[f] for f in exc.fields if f in FLAGS]


def message(exc: KgError) -> str:
    """A domain error's message as `kg` words it: followed by the flags of the inputs it names."""
    named = flags(exc)
    return exc.message + (f" ({', '.join(named)})" if named else "")


def error_lines(exc: KgError) -> list[str]:
    """What `kg` prints for a domain error: the message and, when there is one, the hint."""
    return [f"error: {message(exc)}"] + ([exc.hint] if exc.hint else [])


def storage_problem(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for a full disk, a folder kg may not write in, or damaged graph files met
    outside kg's own checks; else None."""
    import errno

    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in detail:
        return (f"error: the disk is full ({detail})", "Free some disk space, then run the command again.")
    if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM, errno.EROFS) and getattr(exc, "filename", None):
        return (f"error: {exc.filename}: {exc.strerror or detail}",
                "This command reads and writes there (a lock, the store's files): give yourself access to it, or "
                "work on a copy of the store. kg writes every file whole, so nothing was left half written.")
    if detail.startswith(("Corruption:", "IO error:")):
        return (f"error: the graph's files in {store()} are damaged ({detail})",
                "Rebuild it with `kg build`: that publishes a fresh generation from the records and "
                "curation.yaml, which are untouched.")
    return None


def run(app) -> None:
    """Run the typer app as the `kg` console script: a KgError, a full disk, a folder kg may not
    write in or damaged graph files become a message on stderr and an exit code; anything else
    (a bug) keeps its traceback."""
    try:
        app()
    except KgError as exc:
        for line in error_lines(exc):
            err.print(line, markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except (OSError, RuntimeError) as exc:  # the world broke (a full disk, damaged graph files), not kg
        problem = storage_problem(exc)
        if problem is None:
            raise
        for line in problem:
            err.print(line, markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


# ---------------------------------------------------------------- number options
# One checker for every number option of the command line (query, serve, harvest and bench
# limits): each option names its range with positive_limit() or limit_at_least(n) as its typer
# callback, so NaN (which passes no comparison: it crashed a query and made a server answer 500),
# infinity, 0 and -1 are refused alike while the command line is parsed, with exit 2 and the
# flag's name, before a store is opened or a request made.
def positive_limit(*, infinite: bool = False):
    """The option callback for a limit above 0 (seconds, MB); infinity too when `infinite`, where
    kg reads it as no limit (as QueryLimits.unbounded does)."""
    return _limit_callback(0, strict=True, infinite=infinite,
                           wording="a positive number" + (" (or inf: no limit)" if infinite else ""))


def limit_at_least(least: float):
    """The option callback for a count or limit of `least` or more, finite."""
    return _limit_callback(least, strict=False, infinite=False, wording=f"at least {_shown(least)}")


def fraction():
    """The option callback for a share or confidence: a number from 0 to 1 (NaN is none)."""
    return _limit_callback(0, strict=False, infinite=False, wording="a number from 0 to 1", most=1)


def _limit_callback(least: float, *, strict: bool, infinite: bool, wording: str, most: float | None = None):
    """A typer/click option callback (ctx, param, value) raising UsageError '--flag must be
    <wording>, not <value>' for a number out of range; None (not given) passes, and so does each
    item of a repeated option that is in range."""
    from ..sparql.guard import within

    def check(ctx, param, value):
        for number in value if isinstance(value, (list, tuple)) else (value,):
            if number is not None and not (within(number, least, strict=strict, infinite=infinite)
                                           and (most is None or number <= most)):
                flag = max(param.opts, key=len)  # --min-links, not -k
                raise UsageError(f"{flag} must be {wording}, not {_shown(number)}")
        return value

    return check


def _shown(number: float) -> str:
    """A number as a user types it: 0, -1, 2.5, nan, inf."""
    return f"{number:g}" if isinstance(number, float) else str(number)
