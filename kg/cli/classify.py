"""`kg classify`, `kg curate` and `kg screen`: thin wiring from arguments to kg.classify.

Registered on the typer app by kg/cli/__init__.py; the heavy imports (scikit-learn)
happen inside the commands. Every command hands the run's one Store down.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..errors import KgError, UsageError
from ..output.tables import emit, new_table
from . import console

if TYPE_CHECKING:
    from ..store import Store

MAX_CHANGES_SHOWN = 40


def _ctx():
    """The output consoles and the run's Store."""
    return console.out, console.err, console.store()


def _encoder(embeddings: bool):
    if not embeddings:
        return None
    from ..classify.embeddings import load_encoder

    return load_encoder()


def _emit(obj: dict) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False) + "\n")
    sys.stdout.flush()


# ---------------------------------------------------------------- kg classify
def classify(
    title: Optional[str] = typer.Option(None, "--title", help="Classify one paper from its title (with --abstract)."),
    abstract: Optional[str] = typer.Option(None, "--abstract", help="The paper's abstract (either text may be empty)."),
    input_file: Optional[Path] = typer.Option(
        None, "--input", "-i", help='JSON lines {"id", "title", "abstract"}, one paper a line ("-" reads stdin).'),
    evaluate: bool = typer.Option(False, "--evaluate", help="Cross-validated accuracy, macro-F1, top-2 accuracy and calibration per axis on the labelled papers."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (one object; one line per paper with --input)."),
    force: bool = typer.Option(
        False, "--all", "--force",
        help="Train the model again and label every paper again (by default only new or changed papers are "
             "labelled, with the model kept from the last run while its training data are the same)."),
    review_threshold: float = typer.Option(
        0.5, "--review-threshold", callback=console.fraction(), help="Predicted labels below this confidence are marked 'needs review'."),
    embeddings: bool = typer.Option(False, "--embeddings", help='Add the sentence-embedding layer (needs the extra: pip install "kg\\[embeddings]").'),
    folds: int = typer.Option(5, "--folds", min=2, help="Folds for --evaluate."),
    min_relevance: Optional[float] = typer.Option(
        None, "--min-relevance", callback=console.fraction(),
        help="Leave undecided works below this relevance out of the taxonomy (default 0.1; see kg screen)."),
):
    """Place papers in the taxonomy (category, mechanisms, modalities, datasets, methods) with confidence and evidence.

    Without options: label every new or changed paper in the graph (the model trained once per
    change of its training data and kept in the store), store the predictions with provenance,
    rebuild, and print what changed; --all labels every paper again.
    """
    modes = [title is not None or abstract is not None, input_file is not None, evaluate]
    if sum(modes) > 1:
        raise UsageError("give one of: --title/--abstract, --input FILE, --evaluate (or none to label the graph)")
    out, err, store = _ctx()
    encoder = _encoder(embeddings)
    if modes[0]:
        from ..classify.model import Doc
        from ..classify.run import classify_texts

        result = classify_texts(store, [Doc(title or "", abstract or "")], review_threshold=review_threshold,
                                encoder=encoder)[0]
        _emit(result) if as_json else _print_prediction(out, result)
    elif input_file is not None:
        _classify_file(input_file, as_json, review_threshold, encoder)
    elif evaluate:
        from ..classify.evaluate import evaluate as run_evaluate
        from ..classify.run import examples_from_graph

        examples, taxonomy, datasets = examples_from_graph(store)
        with err.status("Cross-validating..."):
            report = run_evaluate(examples, taxonomy, datasets, folds=folds, encoder=encoder)
        _emit(report) if as_json else _print_evaluation(out, report)
    else:
        from ..pipeline import classify as classify_graph

        with err.status("Classifying the graph's papers..."):
            report = classify_graph(store, force=force, review_threshold=review_threshold, encoder=encoder,
                                    **({} if min_relevance is None else {"min_relevance": min_relevance}))
        for warning in report.warnings:
            err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
        _emit(report.to_json()) if as_json else _print_report(out, report)


def _read_lines(path: Path):
    """(line number, text or None, problem) for every non-blank line."""
    try:
        raw = sys.stdin.buffer.read() if str(path) == "-" else path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    for lineno, line in enumerate(raw.splitlines(), 1):
        if not line.strip():
            continue
        try:
            yield lineno, line.decode("utf-8"), None
        except UnicodeDecodeError as exc:
            yield lineno, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})"


def _parse(text: str):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not valid JSON ({exc.msg}, column {exc.colno})"
    if not isinstance(data, dict):
        return None, f"expected a JSON object, got {type(data).__name__}"
    for key in ("title", "abstract"):
        if data.get(key) is not None and not isinstance(data[key], str):
            return None, f"'{key}' must be a string"
    if data.get("id") is not None and not isinstance(data["id"], (str, int)):
        return None, "'id' must be a string or a number"
    return data, None


def _input_name(path: Path) -> str:
    """How messages name the --input file ('-' is the standard input)."""
    return "the standard input" if str(path) == "-" else str(path)


def _predict_docs(store: Store, docs: list, review_threshold: float, encoder) -> list:
    """The classifier's predictions for the readable input lines; none (and no model trained or
    loaded) when every line was malformed, so those lines are answered with their errors alone."""
    from ..classify.run import train_from_graph

    if not docs:
        return []
    return train_from_graph(store, review_threshold=review_threshold, encoder=encoder).predict(docs)


def _classify_file(path: Path, as_json: bool, review_threshold: float, encoder) -> None:
    from ..classify.model import Doc

    out, err, store = _ctx()
    rows, problems = [], []
    for lineno, text, problem in _read_lines(path):
        data, problem = (None, problem) if problem else _parse(text)
        if problem:
            problems.append((lineno, problem))
            rows.append((lineno, None, problem))
        else:
            rows.append((lineno, Doc(data.get("title") or "", data.get("abstract") or "", data.get("id")), None))
    if not rows:
        raise UsageError(f"{_input_name(path)} holds no lines to classify (one JSON object a line: "
                         '{"id", "title", "abstract"})')
    docs = [doc for _, doc, _ in rows if doc is not None]
    results = iter(_predict_docs(store, docs, review_threshold, encoder))
    table = None if as_json or not docs else _prediction_table()
    for lineno, doc, problem in rows:
        if problem:
            err.print(f"error: {_input_name(path)}, line {lineno}: {problem}", markup=False, highlight=False)
            if as_json:
                _emit({"line": lineno, "error": problem})
            continue
        result = next(results).to_json()
        if "id" not in result:
            result = {"id": None, **result}
        if as_json:
            _emit(result)
        else:
            _add_prediction_row(table, str(result["id"] if result["id"] is not None else f"line {lineno}"), result)
    if table is not None:
        emit(out, table, whole=("paper",), wrap=("category", "mechanisms", "input", "output", "datasets", "methods"))
    if problems:
        raise KgError(_problems_message(problems, len(rows)))


def _problems_message(problems: list[tuple[int, str]], lines: int) -> str:
    """What the run ends with when input lines could not be classified: how many, the first few,
    and whether any line was answered at all."""
    first = ", ".join(f"line {n}" for n, _ in problems[:5])
    if len(problems) == lines:
        return (f"none of the {lines} input line(s) could be classified ({first}); "
                'each line is to be a JSON object {"id", "title", "abstract"}')
    return f"{len(problems)} of {lines} input lines could not be classified ({first}); the others were answered"


# ---------------------------------------------------------------- printing
def _fmt(items: list[dict]) -> str:
    return ", ".join(f"{i['label']} {i['confidence']:.2f}" + (" (review)" if i.get("needs_review") else "")
                     for i in items) or "-"


def _prediction_table() -> Table:
    table = new_table("Predicted labels")
    for col in ("paper", "category", "mechanisms", "input", "output", "datasets", "methods"):
        table.add_column(col)
    return table


def _add_prediction_row(table: Table, name: str, r: dict) -> None:
    table.add_row(name, _fmt([r["category"]]), _fmt(r["mechanisms"]), _fmt(r["input_modalities"]),
                  _fmt(r["output_modalities"]), ", ".join(d["name"] for d in r["datasets"]) or "-",
                  ", ".join(m["name"] for m in r["methods"]) or "-")


def _print_prediction(out, r: dict) -> None:
    table = new_table("Predicted labels")
    table.add_column("axis")
    table.add_column("labels (confidence)")
    for name, key in (("category", "category"), ("mechanisms", "mechanisms"), ("input modalities", "input_modalities"),
                      ("output modalities", "output_modalities")):
        table.add_row(name, _fmt(r[key] if isinstance(r[key], list) else [r[key]]))
    table.add_row("datasets", ", ".join(d["name"] for d in r["datasets"]) or "-")
    table.add_row("methods", ", ".join(m["name"] for m in r["methods"]) or "-")
    emit(out, table, whole=("axis",), wrap=("labels (confidence)",))
    fired = [e for e in r["evidence"] if e["layer"] == "lexicon"]
    if fired:
        out.print("Terms that fired: " + "; ".join(f"{e['axis']}={e['label']} <- \"{e['matched']}\" ({e['field']})"
                                                   for e in fired), highlight=False, markup=False)
    for e in r["evidence"]:
        if e["layer"] == "input":
            out.print(e["note"], highlight=False, markup=False)


def _print_report(out, report) -> None:
    table = new_table(f"Classified {report.papers} papers in {report.seconds:.2f} s")
    table.add_column("what")
    table.add_column("count", justify="right")
    for label, value in (("newly labelled", report.labelled), ("stale, labelled again", report.relabelled),
                         ("unchanged", report.unchanged), ("without title or abstract (unknown)", report.no_text),
                         ("surveys (unknown: span the taxonomy)", report.surveys),
                         ("excluded by a person (not placed)", report.excluded),
                         (f"undecided, relevance below {report.min_relevance:g} (not placed)", report.low_relevance),
                         ("labels needing review", report.needs_review), ("dataset mentions", report.dataset_links)):
        table.add_row(label, str(value))
    emit(out, table)
    if report.changes:
        changes = new_table("What changed")
        for col in ("paper", "axis", "before", "after"):
            changes.add_column(col)
        for c in report.changes[:MAX_CHANGES_SHOWN]:
            changes.add_row(Text(c.work), c.axis, ", ".join(c.before) or "-",
                            ", ".join(f"{v} {p:.2f}" for v, p in c.after) or "-")
        # one line a change: the paper's title cut with "…" on a terminal, whole when piped
        emit(out, changes, whole=("axis",), cut=("paper",))
        if len(report.changes) > MAX_CHANGES_SHOWN:
            out.print(f"... and {len(report.changes) - MAX_CHANGES_SHOWN} more (--json lists all)", style="dim")
    if report.model:
        out.print("model: kept from the last run (same training data)" if report.model_cached
                  else "model: trained on the graph's labelled papers", style="dim")
    out.print(f"time: reading the graph {report.read_seconds:.1f} s, model {report.train_seconds:.1f} s, "
              f"predicting {report.predict_seconds:.1f} s, mentions {report.mention_seconds:.1f} s, "
              f"writing {report.write_seconds:.1f} s, "
              f"{'publishing' if report.delta == 'delta' else 'rebuilding'} {report.rebuild_seconds:.1f} s", style="dim")
    if not report.rebuilt:
        out.print("nothing to do: every paper's labels are up to date", style="dim")
    elif report.delta == "delta":
        out.print("graph published: the classifier's change applied to the current graph (delta)", style="dim")
    else:
        out.print(f"graph rebuilt ({report.delta})" if report.delta else "graph rebuilt", style="dim")


def _print_evaluation(out, report: dict) -> None:
    table = new_table(f"{report['folds']}-fold cross-validation on {report['papers']} labelled papers")
    for col in ("axis", "papers", "layer", "accuracy", "macro-F1", "top-2"):
        table.add_column(col, justify="left" if col in ("axis", "layer") else "right")
    for axis, r in report["axes"].items():
        for i, layer in enumerate(("combined", "lexicon", "learned")):
            table.add_row(axis if i == 0 else "", str(r["papers"]) if i == 0 else "", layer,
                          f"{r[layer]['accuracy']:.3f}", f"{r[layer]['macro_f1']:.3f}",
                          f"{r['top2_accuracy']:.3f}" if i == 0 and "top2_accuracy" in r else "")
    emit(out, table)
    if "calibration" in report:
        c = report["calibration"]
        out.print(f"category confidence: mean {c['mean_confidence']:.3f} vs accuracy {c['accuracy']:.3f} "
                  f"(Brier {c['brier']:.3f})", highlight=False)
    calibrated = {axis: r["calibration"] for axis, r in report["axes"].items() if "calibration" in r}
    if calibrated:
        table = new_table("Calibration of the first-ranked concept (reliability by confidence bucket)")
        for col in ("axis", "ECE", "Brier", "confidence", "papers", "mean conf.", "accuracy"):
            table.add_column(col, justify="left" if col in ("axis", "confidence") else "right")
        for axis, c in calibrated.items():
            for i, b in enumerate(c["buckets"]):
                table.add_row(axis if i == 0 else "", f"{c['ece']:.3f}" if i == 0 else "",
                              f"{c['brier']:.3f}" if i == 0 else "", b["confidence"], str(b["papers"]),
                              f"{b['mean_confidence']:.3f}", f"{b['accuracy']:.3f}")
        emit(out, table)
    if report.get("note"):
        out.print(report["note"])


# ---------------------------------------------------------------- kg curate
def curate(
    paper: Optional[str] = typer.Argument(None, help="The paper: arXiv id, DOI, S2 id, citation key, short name, IRI or title."),
    category: Optional[str] = typer.Option(None, "--category", "-c", help="Its category (one)."),
    mechanism: list[str] = typer.Option([], "--mechanism", "-m", help="A mechanism (repeat for several)."),
    input_modality: list[str] = typer.Option([], "--input-modality", help="An input modality (repeatable)."),
    output_modality: list[str] = typer.Option([], "--output-modality", help="An output modality (repeatable)."),
    method: list[str] = typer.Option([], "--method", help="A named method it builds on (repeatable)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: $KG_CURATOR, else your user name)."),
    note: Optional[str] = typer.Option(None, "--note", help="Why: kept as the label's evidence (or the scope decision's reason)."),
    exclude: bool = typer.Option(False, "--exclude", help="Exclude the paper from the survey's scope (as kg screen --exclude)."),
    include: bool = typer.Option(False, "--include", help="Include the paper in the survey's scope (labels may be given too)."),
    list_: bool = typer.Option(False, "--list", help="List the recorded decisions."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    entity: Optional[str] = typer.Option(
        None, "--entity", help="A method or dataset papers name (see kg query --name methods / datasets), "
                               "instead of a paper: with --rename, --merge-into or --reject."),
    rename: Optional[str] = typer.Option(None, "--rename", help="With --entity: its new name."),
    merge_into: Optional[str] = typer.Option(
        None, "--merge-into", help="With --entity: the method or dataset it is the same as."),
    reject: bool = typer.Option(False, "--reject", help="With --entity: it is no method or dataset; drop it."),
    kind: Optional[str] = typer.Option(None, "--kind", help="With --entity: method or dataset, when a name is both."),
):
    """Record a person's label (or scope) decision for a paper, or a rename, merge or rejection of a
    method or dataset; decisions survive rebuilds and always win."""
    from ..classify.curation import curation_file, read_decisions
    from ..pipeline import curate as run_curate

    out, err, store = _ctx()
    if list_:
        decisions = read_decisions(curation_file(store))
        if as_json:
            _emit({"decisions": decisions})
            return
        table = new_table(f"{len(decisions)} curation decision(s)")
        for col in ("at", "by", "paper", "labels"):
            table.add_column(col)
        for d in decisions:
            labels = "; ".join(f"{k}={v if isinstance(v, str) else ', '.join(map(str, v))}" for k, v in d.items()
                               if k in ("category", "mechanism", "input_modality", "output_modality", "method",
                                        "scope", "reason", "kind", "rename", "merge_into", "reject"))
            table.add_row(str(d.get("at", "")), str(d.get("by", "")), Text(str(d.get("paper", d.get("entity", "")))),
                          labels)
        emit(out, table, whole=("at", "by"), cut=("paper",), wrap=("labels",))
        return
    if entity is not None or rename is not None or merge_into is not None or reject or kind is not None:
        _curate_entity(out, err, store, paper, entity, rename, merge_into, reject, kind, by, as_json,
                       labelled=bool(category or mechanism or input_modality or output_modality or method
                                     or exclude or include or note))
        return
    if not paper:
        raise UsageError("give the PAPER to curate (or --list, or --entity NAME)")
    if include and exclude:
        raise UsageError("give --include or --exclude, not both")
    labels = {"category": [category] if category else [], "mechanism": mechanism,
              "input_modality": input_modality, "output_modality": output_modality, "method": method}
    scope = "exclude" if exclude else "include" if include else None
    try:
        with err.status("Recording and rebuilding..."):
            decision = run_curate(store, paper, labels, by=by, note=note, scope=scope)
    except KgError as exc:
        if type(exc) is KgError and exc.message.startswith("no paper matches"):
            _suggest_titles(exc, store, paper)
        raise
    if as_json:
        _emit(decision)
    else:
        what = "; ".join(f"{k}={', '.join(v) if isinstance(v, list) else v}" for k, v in decision.items()
                         if k in ("category", "mechanism", "input_modality", "output_modality", "method", "scope"))
        out.print(f"Recorded for {decision['display']} by {decision['by']}: {what}", highlight=False, markup=False)
        out.print("Curated labels win over predictions; the graph was rebuilt. Run `kg classify` to retrain on them.",
                  style="dim")


def _curate_entity(out, err, store: Store, paper, entity, rename, merge_into, reject, kind, by, as_json,
                   labelled: bool) -> None:
    from ..pipeline import curate_entity

    if entity is None:
        raise UsageError("--rename, --merge-into, --reject and --kind are about a method or dataset: give --entity NAME")
    if paper or labelled:
        raise UsageError("--entity is about a method or dataset, not a paper: give it without PAPER, labels, "
                         "--note or scope options")
    with err.status("Recording and rebuilding..."):
        decision = curate_entity(store, entity, rename=rename, merge_into=merge_into, reject=reject, kind=kind, by=by)
    if as_json:
        _emit(decision)
        return
    what = (f"renamed to {decision['rename']}" if "rename" in decision else
            f"merged into {decision['merge_into']}" if "merge_into" in decision else "rejected")
    out.print(f"Recorded by {decision['by']}: the {decision['kind']} {decision['name']} is {what}; the graph was rebuilt.",
              highlight=False, markup=False)


_STOP = frozenset("a an and as at by for from in into is of on or the to via with without".split())


def _words(text: str) -> list[str]:
    from ..records.ids import normalise_title

    return [w for w in normalise_title(text or "").split() if w not in _STOP]


def _handle(work) -> str:
    """What to give `kg curate` to name this work again: an identifier if it has one."""
    for key in ("arxiv", "doi", "s2", "openalex", "cite"):
        if work.ids.get(key):
            return str(work.ids[key])
    return work.short_name or f'"{work.title}"'


def closest_works(works, text: str, n: int = 5, floor: float = 0.3) -> list:
    """The works whose titles (or short names) come closest to `text`: the share of its words a
    title has (spelling variants count, by difflib), blended with difflib's ratio of the two."""
    from difflib import SequenceMatcher, get_close_matches

    query = _words(text)
    if not query:
        return []
    scored = []
    for work in works:
        best = 0.0
        for name in {work.title or "", work.short_name or ""} - {""}:
            words = _words(name)
            if not words:
                continue
            hits = sum(1 for q in query if q in words or get_close_matches(q, words, n=1, cutoff=0.8))
            ratio = SequenceMatcher(None, " ".join(query), " ".join(words)).ratio()
            best = max(best, 0.7 * hits / len(query) + 0.3 * ratio)
        if best >= floor:
            scored.append((best, work))
    scored.sort(key=lambda pair: -pair[0])
    top = scored[0][0] if scored else 0.0
    return [work for score, work in scored[:n] if score >= 0.75 * top]


def _suggest_titles(exc: KgError, store: Store, paper: str) -> None:
    """Name the closest titles in the error's hint (a partial or misspelt title)."""
    try:
        from ..classify.data import read_works

        works = closest_works(read_works(store.open()), paper)
    except Exception:  # noqa: BLE001 - suggestions are a courtesy; the error stands without them
        return
    if works:
        lines = "\n".join(f"  {_handle(w)}  {w.title or w.display}" if _handle(w) != f'"{w.title}"'
                          else f"  {_handle(w)}" for w in works)
        exc.hint = (f"Closest titles (give `kg curate` the id, or the whole title in quotes):\n{lines}"
                    + (f"\n{exc.hint}" if exc.hint else ""))


# ---------------------------------------------------------------- kg screen
def _stdin_is_tty() -> bool:
    try:
        return sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def screen(
    include: Optional[str] = typer.Option(None, "--include", help="Include this paper in the survey's scope (any id, key or title)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Exclude this paper from the survey's scope."),
    reason: Optional[str] = typer.Option(None, "--reason", help="Why (kept with the decision)."),
    by: Optional[str] = typer.Option(None, "--by", help="Who decides (default: $KG_CURATOR, else your user name)."),
    list_: bool = typer.Option(False, "--list", help="List the undecided works, most relevant first."),
    limit: int = typer.Option(0, "--limit", min=0, help="With --list: at most this many (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Screen undecided works: show the one most worth a decision and record include / exclude.

    The ranking is the scope model's relevance, retrained on every decision so far (in-scope
    works as positives, excluded ones as negatives). Decisions go to the store's curation.yaml
    (who, when, why), so they survive rebuilds. Without options: interactive on a terminal,
    else the next work and the progress.
    """
    from ..classify.screen import screening

    out, _, store = _ctx()
    if include and exclude:
        raise UsageError("give --include or --exclude, not both")
    if (include or exclude) and list_:
        raise UsageError("--list shows the ranking; give it without --include/--exclude")
    if reason is not None and not (include or exclude):
        raise UsageError("--reason goes with --include or --exclude")
    if limit and not list_:
        raise UsageError("--limit goes with --list")
    if include or exclude:
        _screen_decide(store, "include" if include else "exclude", include or exclude, by, reason, as_json)
        return
    state = screening(store.open())
    if list_:
        items = state.queue[:limit] if limit else state.queue
        if as_json:
            _emit({"progress": state.progress.to_json(), "undecided": [i.to_json() for i in items]})
            return
        _print_queue(out, items, state.progress)
        return
    if _stdin_is_tty() and not as_json:
        _screen_interactive(store, by)
        return
    if as_json:
        _emit({"progress": state.progress.to_json(), "next": state.next.to_json() if state.next else None})
        return
    _print_progress(out, state.progress)
    if state.next is None:
        out.print("Nothing left to screen: every work is decided.", highlight=False)
        return
    _print_item(out, store, state.next)
    out.print(f"Decide with: kg screen --include {_quoted(state.next.handle)}  or  "
              f"kg screen --exclude {_quoted(state.next.handle)} --reason '...'", style="dim", highlight=False)


def _quoted(text: str) -> str:
    import shlex

    return shlex.quote(text)


def _screen_decide(store: Store, decision: str, paper: str, by, reason, as_json: bool):
    from ..classify.screen import screening
    from ..pipeline import decide

    out, err, _ = _ctx()
    try:
        with err.status("Recording the decision and rebuilding..."):
            recorded = decide(store, paper, decision, by=by, reason=reason)
    except KgError as exc:
        if type(exc) is KgError and exc.message.startswith("no paper matches"):
            _suggest_titles(exc, store, paper)
        raise
    state = screening(store.open())
    if as_json:
        _emit({"decision": recorded, "progress": state.progress.to_json(),
               "next": state.next.to_json() if state.next else None})
        return
    why = f", reason: {recorded['reason']}" if recorded.get("reason") else ""
    out.print(f"{decision.capitalize()}d {recorded['display']} (by {recorded['by']}{why}); the graph was rebuilt "
              "and the ranking refreshed.", highlight=False, markup=False)
    _print_progress(out, state.progress)
    if state.next is not None:
        out.print(f"Next: {state.next.label} (relevance {state.next.relevance or 0:.2f}): "
                  f"kg screen --include/--exclude {_quoted(state.next.handle)}", highlight=False, markup=False)
    return recorded


def _screen_interactive(store: Store, by) -> None:
    from ..classify.screen import screening
    from ..pipeline import decide

    out, err, _ = _ctx()
    skipped: set[str] = set()
    while True:
        state = screening(store.open())
        item = next((i for i in state.queue if i.work not in skipped), None)
        _print_progress(out, state.progress)
        if item is None:
            out.print("Nothing left to screen." if not state.queue else "Every undecided work was skipped.",
                      highlight=False)
            return
        _print_item(out, store, item)
        choice = typer.prompt("[i]nclude, [e]xclude, [s]kip, [q]uit", default="s").strip().lower()[:1]
        if choice == "q":
            return
        if choice == "s":
            skipped.add(item.work)
            continue
        if choice not in ("i", "e"):
            err.print("answer i, e, s or q", highlight=False)
            continue
        reason = typer.prompt("Reason (optional)", default="", show_default=False).strip() or None
        with err.status("Recording and rebuilding..."):
            recorded = decide(store, item.work, "include" if choice == "i" else "exclude", by=by, reason=reason)
        out.print(f"{recorded['scope'].capitalize()}d {recorded['display']}.", highlight=False, markup=False)


def _print_progress(out, p) -> None:
    out.print(f"Screening: {p.decided} decided ({p.in_scope} in scope, {p.excluded} excluded; "
              f"{p.decided_by_people} by people), {p.undecided} undecided, "
              f"estimated relevant left {p.estimated_relevant_left:.1f}", highlight=False, markup=False)


def _print_item(out, store: Store, item) -> None:
    from ..classify.screen import predicted_labels, work_text

    graph = store.open()
    title, abstract = work_text(graph, item.work)
    table = new_table(f"Next to screen: {item.label}")
    table.add_column("field")
    table.add_column("value")
    table.add_row("title", Text(title or item.label))
    table.add_row("year", str(item.year or "-"))
    table.add_row("id", Text(item.handle))
    table.add_row("relevance", f"{item.relevance or 0:.2f}" + (f" ({item.why})" if item.why else ""))
    labels = predicted_labels(graph, item.work)
    table.add_row("predicted labels", "; ".join(f"{axis}: " + ", ".join(f"{lab} {conf:.2f}" for lab, conf in values)
                                                 for axis, values in labels.items())
                  or "none (not placed: its relevance is below the classifier's threshold, or not classified yet)")
    if abstract:
        table.add_row("abstract", Text(abstract[:1200] + ("…" if len(abstract) > 1200 else "")))
    emit(out, table, whole=("field",), wrap=("value",))


def _print_queue(out, items, progress) -> None:
    table = new_table(f"{progress.undecided} undecided works, most relevant first")
    for col in ("rank", "relevance", "id", "year", "work"):
        table.add_column(col, justify="right" if col in ("rank", "relevance", "year") else "left")
    for rank, item in enumerate(items, 1):
        table.add_row(str(rank), f"{item.relevance or 0:.3f}", Text(item.handle), str(item.year or ""),
                      Text(item.label))
    emit(out, table, whole=("rank", "relevance", "id", "year"), cut=("work",))
    _print_progress(out, progress)
