"""`kg gaps` and `kg report` from the command line: output, formats, bad input, empty graphs."""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys

import pytest

from kg.report import FORMATS


def test_gaps_table(kg, built_store):
    result = kg("gaps", store=built_store)
    assert result.exit_code == 0, result.output
    for word in ("instruction", "fine_tuning", "retrieval", "16/16 cells filled"):
        assert word in result.output


def test_gaps_json(kg, built_store):
    result = kg("gaps", "--json", store=built_store)
    assert result.exit_code == 0
    cells = json.loads(result.output)
    assert len(cells) == 16
    assert set(cells[0]) == {"category", "mechanism", "asserted", "predicted", "total", "count", "expected", "score",
                             "status", "asserted_expected", "asserted_status", "papers", "works", "predicted_works"}
    assert sum(c["count"] for c in cells) == 32 == sum(c["asserted"] for c in cells)
    assert all(c["total"] == c["count"] == c["asserted"] + c["predicted"] for c in cells)


@pytest.mark.parametrize("by, key, rows", [("modality", "modality", 16 * 7), ("year", "year", 16 * 2)])
def test_gaps_by(kg, built_store, by, key, rows):
    result = kg("gaps", "--by", by, "--json", store=built_store)
    assert result.exit_code == 0
    cells = json.loads(result.output)
    assert len(cells) == rows and all(key in c for c in cells)
    table = kg("gaps", "--by", by, "--category", "retrieval", store=built_store)
    assert table.exit_code == 0 and "retrieval / alignment" in table.output


def test_gaps_bad_input_lists_valid_values(kg, built_store):
    result = kg("gaps", "--by", "venue", store=built_store)
    assert result.exit_code == 2 and "modality, year" in result.message
    result = kg("gaps", "--category", "poetry", store=built_store)
    assert result.exit_code == 2
    assert "text_generation, image_generation, recommendation, retrieval" in result.message


def test_gaps_without_a_graph(kg, tmp_path):
    result = kg("gaps", store=tmp_path / "nothing-here")
    assert result.exit_code == 1 and "kg build" in result.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_every_format(kg, built_store, tmp_path, fmt):
    out = tmp_path / f"gaps.{fmt}"
    result = kg("report", "--format", fmt, "--output", out, store=built_store)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    text = out.read_text(encoding="utf-8")
    assert "Yo'LLaVA" in (html.unescape(text) if fmt == "html" else text)
    assert not list(tmp_path.glob(".gaps.*"))  # no temp file left behind


def test_report_category_and_stdout(kg, built_store):
    result = kg("report", "--format", "json", "--output", "-", "--category", "recommendation", store=built_store)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["category"] == "recommendation" and {c["category"] for c in data["cells"]} == {"recommendation"}


def test_report_bad_input(kg, built_store, tmp_path):
    result = kg("report", "--format", "docx", "--output", tmp_path / "x.docx", store=built_store)
    assert result.exit_code == 2 and "md, tex, html, csv, json, bib" in result.message
    result = kg("report", "--format", "md", "--output", tmp_path / "x.md", "--category", "poetry", store=built_store)
    assert result.exit_code == 2 and "retrieval" in result.message and not (tmp_path / "x.md").exists()
    result = kg("report", "--format", "md", "--output", tmp_path / "missing" / "x.md", store=built_store)
    assert result.exit_code == 1 and "does not exist" in result.message
    result = kg("report", "--format", "md", "--output", tmp_path, store=built_store)
    assert result.exit_code == 2 and "folder" in result.message


def test_report_on_an_empty_graph(kg, tmp_path):
    """A store holding only the ontology: the report says there is nothing yet."""
    from kg.build import ONTOLOGY_FILES
    from kg.paths import ontology_dir
    from kg.rdf.quads import iter_ontology_quads
    from kg.store import StoreDir

    store = tmp_path / "empty-store"
    with StoreDir(store).new_generation({"kg_version": "test"}) as ox_store:
        ox_store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ONTOLOGY_FILES)))
    result = kg("report", "--format", "md", "--output", tmp_path / "r.md", store=store)
    assert result.exit_code == 0, result.output
    assert "The graph holds no works yet" in (tmp_path / "r.md").read_text()
    gaps = kg("gaps", store=store)
    assert gaps.exit_code == 0 and "0/16 cells filled" in gaps.output


# ---------------------------------------------------------------- tex-table and pdf
def test_report_tex_table(kg, built_store, tmp_path):
    out = tmp_path / "table.tex"
    result = kg("report", "--format", "tex-table", "--output", out, store=built_store)
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("% ") and r"\begin{table}" in text and r"\documentclass" not in text
    assert r"\label{tab:kg-taxonomy}" in text and "Yo'LLaVA" in text


@pytest.mark.skipif(not shutil.which("pdflatex"), reason="pdflatex is not installed")
def test_report_pdf_with_pdflatex(kg, built_store, tmp_path, monkeypatch):
    from kg.report import pdf

    monkeypatch.setattr(pdf, "latex_tools", lambda: (None, shutil.which("pdflatex")))  # no latexmk: kg runs pdflatex
    out = tmp_path / "gaps.pdf"
    result = kg("report", "--format", "pdf", "--output", out, store=built_store)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out} (pdf," in result.output
    assert out.read_bytes().startswith(b"%PDF") and not list(tmp_path.glob(".gaps.*"))
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True).stdout
        assert "??" not in text and "Table 1 places the works" in text and "Renjie Pi, Jianshu Zhang" in text


def _fake_tool(folder, name: str, body: str) -> str:
    path = folder / name
    path.write_text(f"#!{sys.executable}\nimport pathlib, sys\n{body}\n", encoding="utf-8")
    path.chmod(0o755)
    return str(path)


def test_report_pdf_runs_latexmk_when_installed(kg, built_store, tmp_path, monkeypatch):
    from kg.report import pdf

    calls = tmp_path / "calls.txt"
    latexmk = _fake_tool(tmp_path, "latexmk", f"pathlib.Path({str(calls)!r}).write_text(' '.join(sys.argv[1:]))\n"
                                              "pathlib.Path('report.pdf').write_bytes(b'%PDF-1.5 from latexmk')")
    monkeypatch.setattr(pdf, "latex_tools", lambda: (latexmk, None))
    out = tmp_path / "gaps.pdf"
    result = kg("report", "--format", "pdf", "--output", out, store=built_store)
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == b"%PDF-1.5 from latexmk"
    args = calls.read_text().split()
    assert {"-pdf", "-norc", "-no-shell-escape", "-interaction=nonstopmode", "-halt-on-error"} <= set(args)
    assert args[-1] == "report.tex"


def test_report_pdf_reruns_pdflatex_until_references_settle(kg, built_store, tmp_path, monkeypatch):
    from kg.report import pdf

    runs = tmp_path / "runs.txt"
    pdflatex = _fake_tool(tmp_path, "pdflatex", f"""
runs = pathlib.Path({str(runs)!r})
n = int(runs.read_text()) + 1 if runs.exists() else 1
runs.write_text(str(n))
pathlib.Path('report.aux').write_text('\\\\relax' if n == 1 else '\\\\bibcite{{a}}{{1}}')
pathlib.Path('report.log').write_text('There were undefined references.' if n == 1 else 'Output written')
pathlib.Path('report.pdf').write_bytes(b'%PDF-1.5 run ' + str(n).encode())""")
    monkeypatch.setattr(pdf, "latex_tools", lambda: (None, pdflatex))
    out = tmp_path / "gaps.pdf"
    assert kg("report", "--format", "pdf", "--output", out, store=built_store).exit_code == 0
    assert runs.read_text() == "2" and out.read_bytes() == b"%PDF-1.5 run 2"


def test_report_pdf_failure_names_the_latex_error(kg, built_store, tmp_path, monkeypatch):
    from kg.report import pdf

    pdflatex = _fake_tool(tmp_path, "pdflatex", "pathlib.Path('report.log').write_text('! LaTeX Error: boom.\\n')\n"
                                                "sys.exit(1)")
    monkeypatch.setattr(pdf, "latex_tools", lambda: (None, pdflatex))
    out = tmp_path / "gaps.pdf"
    result = kg("report", "--format", "pdf", "--output", out, store=built_store)
    assert result.exit_code == 1 and "! LaTeX Error: boom." in result.message and not out.exists()


def test_report_pdf_without_latex_says_how_to_install_it(kg, built_store, tmp_path, monkeypatch):
    from kg.report import pdf

    monkeypatch.setattr(pdf, "latex_tools", lambda: (None, None))
    out = tmp_path / "gaps.pdf"
    result = kg("report", "--format", "pdf", "--output", out, store=built_store)
    assert result.exit_code == 1 and not out.exists()
    assert "needs pdflatex (or latexmk)" in result.message
    assert "apt-get install texlive-latex-base texlive-latex-recommended" in result.message and "latexmk" in result.message
    result = kg("report", "--format", "pdf", "--output", "-", store=built_store)
    assert result.exit_code == 2 and "--output FILE" in result.message


def test_report_without_output_prints_markdown(kg, built_store):
    result = kg("report", store=built_store)
    assert result.exit_code == 0, result.output
    assert result.output.lstrip().startswith("#") and "Missing option" not in result.output


def test_report_works_per_cell(kg, built_store):
    """The formats people read list each cell's most relevant works (WORKS_PER_CELL; the bundled
    graph's cells hold fewer), JSON and CSV every work; --works-per-cell sets it for any format."""
    from kg.cli.gaps import WORKS_PER_CELL
    from kg.report import content

    assert WORKS_PER_CELL == content.WORKS_PER_CELL  # kept in the CLI too, so that --help loads no pandas
    default = json.loads(kg("report", "--format", "json", store=built_store).output)
    assert default["works_per_cell"] is None and not any(c["more_papers"] for c in default["cells"])
    one = kg("report", "--format", "json", "--works-per-cell", "1", store=built_store)
    assert one.exit_code == 0, one.output
    capped = json.loads(one.output)
    assert capped["works_per_cell"] == 1 and all(len(c["papers"]) <= 1 for c in capped["cells"])
    crowded = [c for c in capped["cells"] if c["more_papers"]]
    assert crowded and len(capped["works"]) < len(default["works"])
    md = kg("report", "--works-per-cell", "1", store=built_store).output
    cell = crowded[0]
    assert f"kg query --name cell-papers --bind category={cell['category']} --bind mechanism={cell['mechanism']} --all" in md
    assert "kg report --works-per-cell all" in md
    assert "most relevant works" not in kg("report", store=built_store).output  # every work listed: no note
    every = json.loads(kg("report", "--format", "json", "--works-per-cell", "all", store=built_store).output)
    every["generated_at"] = default["generated_at"]
    assert every == default
    # the LaTeX report and the BibTeX of the same --works-per-cell cite the same keys
    tex = kg("report", "--format", "tex", "--works-per-cell", "1", store=built_store).output
    bib = kg("report", "--format", "bib", "--works-per-cell", "1", store=built_store).output
    keys = sorted(e["key"] for e in capped["works"])
    assert sorted(re.findall(r"^@\w+\{([^,]+),", bib, re.M)) == keys
    assert sorted(re.findall(r"\\bibitem(?:\[[^\]]*\])?\{([^}]+)\}", tex)) == keys


@pytest.mark.parametrize("value", ["0", "many", "1.5"])
def test_report_works_per_cell_bad_value(kg, built_store, value):
    result = kg("report", "--works-per-cell", value, store=built_store)
    assert result.exit_code == 2 and "positive number or 'all'" in result.message


def test_report_help_says_which_formats_list_every_work(kg):
    result = kg("report", "--help")
    assert result.exit_code == 0
    text = " ".join(result.output.replace("\u2502", " ").split())  # the help's box drawn away
    assert "--works-per-cell" in text and "all in json and csv" in text
