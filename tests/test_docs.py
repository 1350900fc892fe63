"""Docs kept true: the README is short and has the quick start, every command has help and a
reference entry, every `kg ...` command the docs show exists with the options they give it,
every link resolves, and the examples in the README and docs/ are what the quick start gives."""

from __future__ import annotations

import importlib.resources
import io
import json
import re
import shlex
import sys
from pathlib import Path

import pytest
import typer.main
from rich.console import Console
from typer.testing import CliRunner

from kg.cli import app

ROOT = Path(__file__).resolve().parents[1]
README_PATH = ROOT / "README.md"
DOCS_DIR = ROOT / "docs"
PAGES = {path: path.read_text(encoding="utf-8") for path in [README_PATH, *sorted(DOCS_DIR.glob("*.md"))]}
README = PAGES[README_PATH]
CLI_REFERENCE = PAGES[DOCS_DIR / "cli.md"]
MAX_README_LINES = 250


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


# ---------------------------------------------------------------- the README and the quick start
def test_the_readme_is_short():
    assert len(README.splitlines()) <= MAX_README_LINES


def _ci_test_command() -> tuple[str, str]:
    """What .ci/run installs (the extra) and the test command it runs."""
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    extra = re.search(r"pip install -q (\"\.\[\w+\]\")", ci).group(1)
    tests = [line.strip() for line in ci.splitlines() if line.strip().startswith("python -m pytest")]
    assert len(tests) == 1, tests
    return extra, tests[0]


def test_readme_has_the_two_quick_start_commands():
    bash = [line.strip() for block in _blocks(README, "bash") for line in block.splitlines()]
    assert "pip install . && kg app" in bash
    extra, tests = _ci_test_command()
    assert f"pip install {extra} && {tests}" in bash, "the README's test command is the one .ci/run runs"


# ---------------------------------------------------------------- commands: help, reference, existence
def _commands(group, prefix=""):
    for name, cmd in sorted(group.commands.items()):
        full = f"{prefix}{name}"
        yield full, cmd
        if hasattr(cmd, "commands"):
            yield from _commands(cmd, full + " ")


CLICK_APP = typer.main.get_command(app)


def test_every_command_has_help_and_a_reference_entry():
    commands = list(_commands(CLICK_APP))
    assert len(commands) >= 5
    for name, cmd in commands:
        assert (cmd.help or "").strip(), f"`kg {name}` has no help"
        assert f"kg {name}" in CLI_REFERENCE, f"`kg {name}` is not in docs/cli.md"
        if " " not in name:
            assert f"`kg {name}`" in README, f"`kg {name}` is not in the README's command table"
            assert any(re.search(rf"\bkg {name}\b", h) for h in _headings(CLI_REFERENCE)), \
                f"docs/cli.md has no section for `kg {name}`"


def _options(cmd) -> set[str]:
    names = {"--help"}
    for param in cmd.params:
        names.update(o for o in [*param.opts, *param.secondary_opts] if o.startswith("-"))
    return names


def _shown_commands(text: str) -> list[str]:
    """Every `kg ...` command a page shows: inline code that starts with `kg `, and lines of
    code blocks that do (after a `$ ` prompt), each `&&`- or pipe-separated part on its own."""
    found = []
    in_block = False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
            continue
        candidates = [line.strip().removeprefix("$ ")] if in_block else re.findall(r"`([^`]+)`", line)
        for candidate in candidates:
            for part in re.split(r"\s*(?:&&|\s\|\s|;)\s*", candidate):
                part = part.split(" #")[0].strip()
                if part.startswith("kg "):
                    found.append(part)
    return found


def _check_command(shown: str) -> str | None:
    """Why `shown` is not a command kg has with those options (None when it is)."""
    try:
        tokens = shlex.split(shown.replace("[", " ").replace("]", " "))[1:]
    except ValueError:
        tokens = shown.replace("[", " ").replace("]", " ").split()[1:]
    cmd, path = CLICK_APP, ["kg"]
    global_options = _options(CLICK_APP)
    while tokens and tokens[0].startswith("-"):  # global options before the command
        option = tokens.pop(0).split("=")[0]
        if option not in global_options:
            return f"`{option}` is not a global option of kg"
        if option in ("--store", "--project") and tokens:
            tokens.pop(0)
    while tokens and hasattr(cmd, "commands"):
        word = tokens[0]
        if word.isupper() or word in ("...", "COMMAND"):  # a placeholder for any command
            return None
        names = word.split("|")
        missing = [n for n in names if n not in cmd.commands]
        if missing:
            return f"`{' '.join(path)}` has no command `{missing[0]}`"
        cmd = cmd.commands[names[0]]
        path.append(tokens.pop(0))
    options = _options(cmd) | global_options
    for token in tokens:
        option = token.split("=")[0].rstrip(",.;:)")
        if re.fullmatch(r"--[a-z][-a-z0-9]*|-[a-zA-Z]", option) and option not in options:
            return f"`{' '.join(path)}` has no option `{option}`"
    return None


SHOWN = sorted({(_name(path), shown) for path, text in PAGES.items() for shown in _shown_commands(text)})


def test_the_docs_show_commands():
    assert len(SHOWN) >= 50
    assert {page for page, _ in SHOWN} >= {"README.md", "docs/cli.md", "docs/imports.md"}


@pytest.mark.parametrize("page, shown", SHOWN, ids=[f"{p}: {s}" for p, s in SHOWN])
def test_every_command_shown_exists_with_its_options(page, shown):
    problem = _check_command(shown)
    assert problem is None, f"{page} shows `{shown}`: {problem}"


def test_every_named_query_is_documented():
    ontology = PAGES[DOCS_DIR / "ontology.md"]
    queries = sorted(p.name[:-3] for p in importlib.resources.files("kg.queries").iterdir() if p.name.endswith(".rq"))
    assert len(queries) >= 10
    for name in queries:
        assert f"`{name}`" in ontology, f"the named query `{name}` is not in docs/ontology.md"


# ---------------------------------------------------------------- links
def _slug(heading: str) -> str:
    """The anchor GitHub gives a heading."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _headings(text: str) -> set[str]:
    headings, in_block = set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif not in_block and re.match(r"#{1,6} ", line):
            headings.add(line.lstrip("#").strip())
    return headings


def _anchors(text: str) -> set[str]:
    return {_slug(h) for h in _headings(text)}


def _links(text: str) -> list[str]:
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)  # not inside code blocks
    text = re.sub(r"`[^`]*`", "", text)  # nor inline code
    return re.findall(r"!?\[[^\]]*\]\(([^)\s]+)\)", text)


def test_every_link_resolves():
    checked = 0
    for path, text in PAGES.items():
        for target in _links(text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            assert linked.exists(), f"{_name(path)} links to {target}: no such file"
            if anchor:
                assert linked.suffix == ".md", f"{_name(path)} links to an anchor in {target}"
                assert anchor in _anchors(linked.read_text(encoding="utf-8")), \
                    f"{_name(path)} links to {target}: no such heading"
            checked += 1
    assert checked >= 40


def test_every_doc_and_screenshot_is_reachable_from_the_readme():
    readme_links = {(README_PATH.parent / t.partition("#")[0]).resolve() for t in _links(README)}
    for path in PAGES:
        if path != README_PATH:
            assert path.resolve() in readme_links, f"the README does not link {_name(path)}"
    shown = {(path.parent / t).resolve() for path, text in PAGES.items() for t in _links(text)}
    for image in sorted((DOCS_DIR / "screenshots").glob("*.png")):
        assert image.resolve() in shown, f"{_name(image)} is shown nowhere"


# ---------------------------------------------------------------- the examples are the quick start's
# The examples show what a user who follows the quick start (`kg build && kg classify &&
# kg validate && kg gaps`) sees: the quick start runs here on a fresh store, and each example
# is compared with what the same command prints (tables as on an 80-column terminal).
QUICK_START = "kg build && kg classify && kg validate && kg gaps"
NOT_RUN = {"kg serve --port 7070": "starts a server that runs until Ctrl-C (tests/test_serve*.py drive it)"}


def _blocks(text: str, fence: str = "") -> list[str]:
    """The page's fenced code blocks whose opening line is ``` + fence (their text)."""
    blocks, current, opened = [], None, None
    for line in text.splitlines():
        if current is None and line.startswith("```"):
            current, opened = [], line[3:].strip()
        elif current is not None and line.strip() == "```":
            if opened == fence:
                blocks.append("\n".join(current) + "\n")
            current = None
        elif current is not None:
            current.append(line)
    return blocks


def _transcripts(text: str) -> dict[str, str]:
    """Each `$ kg ...` line of the page's plain code blocks and the lines printed under it."""
    found = {}
    for block in _blocks(text):
        command, lines = None, []
        for line in block.splitlines() + ["$ "]:
            if line.startswith("$ "):
                if command and command.startswith("kg "):
                    found[command] = "\n".join(lines).strip("\n")
                command, lines = line[2:].strip(), []
            elif command:
                lines.append(line)
    return found


TRANSCRIPTS = sorted((_name(path), command) for path, text in PAGES.items() for command in _transcripts(text)
                     if command not in NOT_RUN)


def _tour() -> str:
    """The README's tour section: from its heading to the next heading outside code blocks."""
    lines, in_block = [], False
    for line in README[README.index("## A tour in five commands"):].splitlines():
        if line.startswith("```"):
            in_block = not in_block
        elif not in_block and lines and line.startswith("## "):
            break
        lines.append(line)
    return "\n".join(lines) + "\n"


def test_the_readme_tour_has_five_checked_examples():
    tour = _tour()
    examples = (list(_transcripts(tour)) + [b for b in _blocks(tour, "json") if '"triples"' in b]
                + [b for b in _blocks(tour) if b.startswith("## Summary")])
    assert len(examples) == 5, examples
    assert QUICK_START in tour
    assert not set(_transcripts(tour)) & set(NOT_RUN)


def _consoles():
    """The rich consoles the CLI modules print tables with (module, attribute name)."""
    for name, module in list(sys.modules.items()):
        if (name == "kg.cli" or name.startswith("kg.cli.")) and isinstance(getattr(module, "out", None), Console):
            yield module, "out"


@pytest.fixture(scope="module")
def quick_start(tmp_path_factory):
    """A store the quick start made, and a runner of `kg` against it that answers as an
    80-column terminal would show it (without colour)."""
    store = tmp_path_factory.mktemp("quick-start") / "store"
    runner = CliRunner()

    def run(*args: str, terminal: bool = True) -> str:
        buffer = io.StringIO()
        saved = [(module, attr, getattr(module, attr)) for module, attr in _consoles()]
        if terminal:
            assert saved, "no console to render tables on"
            console = Console(file=buffer, force_terminal=True, width=80, soft_wrap=True, color_system=None,
                              legacy_windows=False)
            for module, attr, _ in saved:
                setattr(module, attr, console)
        try:
            result = runner.invoke(app, ["--store", str(store), *args], catch_exceptions=False)
        finally:
            for module, attr, value in saved:
                setattr(module, attr, value)
        assert result.exit_code == 0, (args, result.output)
        return buffer.getvalue() + result.stdout

    assert QUICK_START in README
    for step in QUICK_START.split(" && "):
        run(*step.split()[1:])
    return store, run


def test_the_examples_are_found():
    assert len(TRANSCRIPTS) >= 4
    assert sum(1 for page, _ in TRANSCRIPTS if page == "README.md") >= 3


def test_stats_examples_are_the_quick_starts(quick_start):
    _, run = quick_start
    shown = {_name(p): [b for b in _blocks(t, "json") if '"triples"' in b] for p, t in PAGES.items()}
    assert len(shown["README.md"]) == 1, "the README's `kg stats --json` example"
    printed = json.loads(run("stats", "--json", terminal=False))
    for page, blocks in shown.items():
        for block in blocks:
            assert json.loads(block) == printed, page


@pytest.mark.parametrize("page, command", TRANSCRIPTS, ids=[f"{p}: {c}" for p, c in TRANSCRIPTS])
def test_transcripts_are_the_quick_starts(quick_start, page, command):
    _, run = quick_start
    shown = _transcripts(PAGES[ROOT / page])[command]
    args, _, pipe = command.partition(" | ")
    printed = run(*shlex.split(args)[1:])
    lines = [line.rstrip() for line in printed.splitlines()]
    if pipe:
        assert pipe.startswith("head -")
        lines = lines[:int(pipe.split("-")[1])]
    assert [line.rstrip() for line in shown.splitlines()] == lines


def test_report_summaries_are_the_quick_starts(quick_start, tmp_path):
    _, run = quick_start
    shown = {_name(p): [b for b in _blocks(t) if b.startswith("## Summary")] for p, t in PAGES.items()}
    assert len(shown["README.md"]) == 1, "the README's report summary example"
    assert "kg report --format md --output gaps.md" in README
    output = tmp_path / "gaps.md"
    run("report", "--format", "md", "--output", str(output), terminal=False)
    report = output.read_text(encoding="utf-8")
    summary = report[report.index("## Summary"):]
    summary = summary[:summary.index("\n## ", 1)] if "\n## " in summary[1:] else summary
    for page, blocks in shown.items():
        for block in blocks:
            assert block.strip() == summary.strip(), page


def test_classifier_figures_are_the_quick_starts(quick_start):
    """The cross-validation table of `kg classify` in docs/classifier.md (its figures do not
    move when the classifier's own predictions are in the graph: it learns only from people
    and sources)."""
    _, run = quick_start
    page = PAGES[DOCS_DIR / "classifier.md"]
    report = json.loads(run("classify", "--evaluate", "--json", terminal=False))
    rows = {}
    for line in page.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and cells[1].isdigit() and " / " in cells[2]:
            rows[cells[0].replace(" ", "_")] = cells[1:]
    assert set(rows) == set(report["axes"]), rows
    for axis, figures in report["axes"].items():
        shown = [str(figures["papers"])] + [f"{figures[layer]['accuracy']:.3f} / {figures[layer]['macro_f1']:.3f}"
                                            for layer in ("combined", "lexicon", "learned")]
        assert rows[axis] == shown, axis
    c = report["calibration"]
    text = " ".join(page.split())
    assert f"mean {c['mean_confidence']:.3f} against accuracy {c['accuracy']:.3f} (Brier {c['brier']:.3f})" in text
    assert f"bundled graph, {report['papers']} labelled papers" in text
