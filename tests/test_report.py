"""The gap report in every format, each checked by a parser; escaping of hostile titles."""

from __future__ import annotations

import copy
import csv
import io
import json
import re
import shutil
import subprocess
from html.parser import HTMLParser

import bibtexparser
import jsonschema
import pytest
from markdown_it import MarkdownIt

from kg.analysis import load_corpus
from kg.errors import UsageError
from kg.report import FORMATS, TEXT_FORMATS, build_report, render, report_schema
from kg.report.escape import bibtex, latex, markdown
from kg.report.layout import shorten

PDFLATEX = shutil.which("pdflatex")
VOID = {"meta", "br", "hr", "img", "input", "link", "col", "area", "base", "wbr", "source"}


class StrictHTML(HTMLParser):
    """Every element closed in order; collects tags, attributes and text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)

    @classmethod
    def check(cls, text: str) -> "StrictHTML":
        parser = cls()
        parser.feed(text)
        parser.close()
        assert not parser.errors, parser.errors[:3]
        assert not parser.stack, f"unclosed: {parser.stack}"
        return parser

    def named(self, tag: str) -> list[dict]:
        return [attrs for t, attrs in self.tags if t == tag]

    @property
    def all_text(self) -> str:
        return "".join(self.text)


def assert_offline_and_safe(page: StrictHTML) -> None:
    assert not page.named("script") and not page.named("link") and not page.named("iframe")
    assert all("src" not in attrs for _, attrs in page.tags)
    assert all(a["href"].startswith(("http://", "https://")) for a in page.named("a"))
    assert all(not k.startswith("on") for _, attrs in page.tags for k in attrs)


def markdown_html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def compile_latex(tmp_path, text: str, runs: int = 2) -> str:
    """Compile with pdflatex (twice, so citations resolve); returns the log."""
    (tmp_path / "report.tex").write_text(text, encoding="utf-8")
    for _ in range(runs):
        done = subprocess.run([PDFLATEX, "-interaction=nonstopmode", "-halt-on-error", "report.tex"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=120)
        log = (tmp_path / "report.log").read_text(encoding="latin-1")
        assert done.returncode == 0, log[-3000:]
    assert (tmp_path / "report.pdf").stat().st_size > 1000
    return log


def latex_structure(text: str) -> None:
    begins = re.findall(r"\\begin\{(\w+\*?)\}", text)
    ends = re.findall(r"\\end\{(\w+\*?)\}", text)
    assert sorted(begins) == sorted(ends)
    unescaped = re.sub(r"\\[{}]", "", text)
    assert unescaped.count("{") == unescaped.count("}")
    assert text.isascii()


# ---------------------------------------------------------------- the bundled graph
@pytest.fixture(scope="module")
def bundled(graph):
    report = build_report(load_corpus(graph))
    return report, {fmt: render(report, fmt) for fmt in FORMATS}


def test_json_follows_the_schema(bundled):
    report, texts = bundled
    data = json.loads(texts["json"])
    jsonschema.validate(data, report_schema())
    assert data["summary"]["works"] == 49 and len(data["cells"]) == 16
    assert sum(c["count"] for c in data["cells"]) == 32
    assert all(c["count"] == c["asserted"] + c["predicted"] for c in data["cells"])
    assert data["summary"]["surveyed"] == 32 and data["summary"]["min_confidence"] == 0.5
    assert len(data["works"]) == 32 and len({w["key"] for w in data["works"]}) == 32
    assert not any(w["predicted"] for w in data["works"])  # the survey's own table only (nothing classified)
    assert data["missed_candidates"] and data["unexplored_combinations"] and data["methods"]["gap_score"]


def test_html_parses_and_is_self_contained(bundled):
    report, texts = bundled
    page = StrictHTML.check(texts["html"])
    assert_offline_and_safe(page)
    assert page.named("style") and "url(" not in texts["html"] and "@import" not in texts["html"]
    tables = texts["html"].count("<table>")
    assert tables >= 5
    for section in ("Taxonomy table", "Empty and thin cells", "Papers the survey may have missed",
                    "Unexplored combinations", "Trends", "Modality gaps", "Dataset gaps"):
        assert section in page.all_text
    assert "Yo'LLaVA" in page.all_text and "λ-ECLIPSE" in page.all_text


def test_html_template_shows_every_value_as_one_line_of_escaped_text(bundled):
    report, texts = bundled
    assert "references and citations with <code>kg harvest" in texts["html"]  # the note's command keeps its space
    changed = copy.deepcopy(report)
    work = changed["works"][0]
    work.update(label="Bell\x07 and \u202ebidi\u202c\n<i>split</i>", predicted=True, confidence=0.8125,
                url="https://example.org/?a=1&b=2")
    html = render(changed, "html")
    page = StrictHTML.check(html)
    item = next(text for text in page.text if "Bell" in text)
    assert item == "Bell and bidi <i>split</i>" and not page.named("i")
    assert {"href": "https://example.org/?a=1&b=2"} in page.named("a") and 'href="https://example.org/?a=1&amp;b=2"' in html
    assert '<span class="predicted" title="predicted by the classifier">\u20200.81</span>' in html


def test_markdown_renders_the_taxonomy_table(bundled):
    report, texts = bundled
    page = StrictHTML.check(markdown_html(texts["md"]))
    first_table = texts["md"].split("## Taxonomy table", 1)[1].split("##", 1)[0]
    rows = [line for line in first_table.splitlines() if line.startswith("| ")]
    assert len(rows) == 1 + 4  # header + four categories
    assert all(line.count(" | ") == 4 for line in rows)  # five columns, no stray pipes
    assert "Personalized retrieval (Sec. 6)" in page.all_text
    assert len(page.named("table")) >= 5


def test_latex_booktabs_table_compiles(bundled, tmp_path):
    report, texts = bundled
    text = texts["tex"]
    latex_structure(text)
    table = text.split("% kg:table:begin", 1)[1].split("% kg:table:end", 1)[0]
    for rule in (r"\toprule", r"\midrule", r"\bottomrule"):
        assert rule in table
    assert table.count(r"\\") == 1 + 4  # header row + one row per category
    bib_keys = {w["key"] for w in report["works"]}
    cited = {k for group in re.findall(r"\\cite\{([^}]*)\}", text) for k in group.split(",")}
    assert cited and cited <= bib_keys
    if PDFLATEX:
        log = compile_latex(tmp_path, text)
        assert "undefined" not in log.replace("There were undefined references", "")


def test_bibtex_parses_with_one_entry_per_work(bundled):
    report, texts = bundled
    db = bibtexparser.loads(texts["bib"])
    keys = [e["ID"] for e in db.entries]
    assert sorted(keys) == sorted(w["key"] for w in report["works"]) and len(set(keys)) == len(keys)
    entries = {e["ID"]: e for e in db.entries}
    modict = entries["li2024multimodal"]
    assert modict["eprint"] == "2402.13587" and modict["year"] == "2024"
    # every author, in byline order
    assert modict["author"] == "Yunxin Li and Baotian Hu and Wenhan Luo and Lin Ma and Yuxin Ding and Min Zhang"
    assert "text\\_generation/instruction" in modict["keywords"]
    for cell in report["cells"]:
        assert all(p["key"] in entries for p in cell["papers"])


def test_csv_has_one_row_per_cell_matching_the_json(bundled):
    report, texts = bundled
    rows = list(csv.DictReader(io.StringIO(texts["csv"])))
    assert len(rows) == 16
    for row, cell in zip(rows, report["cells"]):
        assert (row["category"], row["mechanism"], int(row["count"])) == (cell["category"], cell["mechanism"], cell["count"])
        assert (int(row["asserted"]), int(row["predicted"]), row["asserted_status"]) == (
            cell["asserted"], cell["predicted"], cell["asserted_status"])
        assert row["keys"].split("; ") == [p["key"] for p in cell["papers"]] and row["predicted_papers"] == ""


def test_category_report_narrows_the_content(graph):
    report = build_report(graph, "retrieval")
    assert {c["category"] for c in report["cells"]} == {"retrieval"} and len(report["works"]) == 8
    assert report["categories"] == [{"notation": "retrieval", "label": "Personalized retrieval", "section": 6}]
    assert all(e["category"] == "retrieval" for e in report["works"])
    with pytest.raises(UsageError, match="valid: text_generation, image_generation, recommendation, retrieval"):
        build_report(graph, "poetry")
    with pytest.raises(UsageError, match="md, tex, html, csv, json, bib"):
        render(report, "docx")


# ---------------------------------------------------------------- hostile titles
HOSTILE = ('<script>alert("x")</script> & *bold* _it_ [link](javascript:alert(1)) 50% $x$ #1 a_b {c} ~ ^ \\ | '
           '`code` <b>html</b> &amp; λ “quoted” Müller ⟨😀⟩')
FORMULA = "=HYPERLINK(\"http://evil\")"


@pytest.fixture(scope="module")
def hostile():
    """A graph whose titles, dataset and candidate names hold HTML, LaTeX and Markdown syntax."""
    import pyoxigraph as ox

    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.records import Author, Bundle, Citation, Dataset, Label, Source, Work
    from kg.store import LocalGraph
    from kg.rdf.taxonomy import read_taxonomy

    works = [
        Work(ids={"arxiv": "2401.00001", "url": "javascript:alert(1)"}, sources=["t"], title=HOSTILE, year=2024, venue="Conf & {Workshop}_%",
             authors=[Author("Jane {O'Brien} \\& Co")],
             labels=[Label("category", "retrieval", "t"), Label("mechanism", "alignment", "t")]),
        Work(ids={"arxiv": "2401.00002"}, sources=["t"], title=FORMULA, year=2023,
             labels=[Label("category", "retrieval", "t"), Label("mechanism", "alignment", "t")]),
        Work(ids={"arxiv": "2401.00003"}, sources=["t"], title="Candidate " + HOSTILE, year=2024, candidate=True),
    ]
    bundle = Bundle(sources=[Source("t", "test", "tester")], works=works,
                    citations=[Citation("arxiv:2401.00001", "arxiv:2401.00003", "t")],
                    datasets=[Dataset("Set <i>&</i> $1", ["t"], used_by=["arxiv:2401.00001"])])
    store = ox.Store()
    store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ("kg.ttl", "taxonomy.ttl"))))
    store.extend(bundle_quads(bundle, read_taxonomy())[0])
    report = build_report(LocalGraph("in-memory", store=store))
    return report, {fmt: render(report, fmt) for fmt in FORMATS}


def test_hostile_html_is_text_not_markup(hostile):
    report, texts = hostile
    page = StrictHTML.check(texts["html"])
    assert_offline_and_safe(page)
    assert not page.named("i") and not page.named("b")
    assert HOSTILE in page.all_text  # shown literally
    assert "Set <i>&</i> $1" in page.all_text
    assert "javascript:" not in " ".join(a.get("href", "") for a in page.named("a"))


def test_hostile_markdown_is_literal_after_rendering(hostile):
    report, texts = hostile
    rendered = markdown_html(texts["md"])
    page = StrictHTML.check(rendered)
    assert not page.named("script") and not page.named("em") and not page.named("b")
    assert all(re.fullmatch(r"[a-z0-9]+", code) for code in re.findall(r"<code>(.*?)</code>", rendered))  # keys only
    assert all(not a.get("href", "").startswith("javascript") for a in page.named("a"))
    assert HOSTILE.replace("&amp;", "&") in page.all_text.replace("&amp;", "&")
    table = texts["md"].split("## Taxonomy table", 1)[1].split("##", 1)[0]
    assert all(line.count(" | ") == 4 for line in table.splitlines() if line.startswith("| "))


def test_hostile_latex_compiles(hostile, tmp_path):
    report, texts = hostile
    latex_structure(texts["tex"])
    for escaped in (r"50\%", r"\$x\$", r"\#1", r"a\_b", r"\{c\}", r"\textasciitilde{}", r"\textasciicircum{}",
                    r"\textbackslash{}", r"\textless{}script\textgreater{}", r"$\lambda$", r"M{\"{u}}ller", r"\&"):
        assert escaped in texts["tex"], escaped
    if PDFLATEX:
        compile_latex(tmp_path, texts["tex"])


def test_hostile_bibtex_parses_with_balanced_braces(hostile):
    report, texts = hostile
    db = bibtexparser.loads(texts["bib"])
    assert len(db.entries) == 2
    entry = next(e for e in db.entries if e["eprint"] == "2401.00001")
    assert entry["title"] == "{" + bibtex(HOSTILE) + "}"
    assert "\\textbraceleft{}" in entry["title"] and "javascript" not in entry.get("url", "")
    assert entry["author"] == bibtex("Jane {O'Brien} \\& Co")
    for text in (entry["title"], entry["booktitle"], entry["author"]):
        assert text.count("{") == text.count("}")


def test_hostile_csv_and_json(hostile):
    report, texts = hostile
    rows = list(csv.DictReader(io.StringIO(texts["csv"])))
    papers = next(r["papers"] for r in rows if r["count"] == "2")
    assert HOSTILE in papers
    assert not any(v.startswith("=") for r in rows for v in r.values())
    data = json.loads(texts["json"])
    jsonschema.validate(data, report_schema())
    assert HOSTILE in {w["title"] for w in data["works"]}
    assert data["missed_candidates"][0]["title"] == "Candidate " + HOSTILE


def test_escapers():
    assert markdown("a*b_c [x](y) <t> | # ~ $") == r"a\*b\_c \[x\](y) \<t\> \| \# \~ \$"
    assert latex("& % $ # _ { } ~ ^ \\") == (r"\& \% \$ \# \_ \{ \} \textasciitilde{} \textasciicircum{} "
                                            r"\textbackslash{}")
    assert latex("naïve café Ångström") == r"na{\"{\i}}ve caf{\'{e}} \AA{}ngstr{\"{o}}m"
    assert latex("😀 中") == "? ?" and latex("x\u0303") == "x"
    assert bibtex("{x}") == r"\textbraceleft{}x\textbraceright{}"
    assert latex("line\nbreak\ttab\x00") == "line break tab"


# ---------------------------------------------------------------- empty and tiny graphs
def test_empty_graph_report_says_so(make_graph, tmp_path):
    for graph in (make_graph(None), make_graph(None, ontology=False)):
        report = build_report(graph)
        assert "no works" in report["summary"]["note"]
        texts = {fmt: render(report, fmt) for fmt in FORMATS}
        jsonschema.validate(json.loads(texts["json"]), report_schema())
        assert "no works" in StrictHTML.check(texts["html"]).all_text
        assert "no works" in texts["md"] and bibtexparser.loads(texts["bib"]).entries == []
        latex_structure(texts["tex"])
    if PDFLATEX:
        compile_latex(tmp_path, texts["tex"], runs=1)


def test_tiny_graph_report(rec, make_graph):
    report = build_report(make_graph(rec.bundle([rec.work(1, "retrieval", ["alignment"])])))
    assert "Only one work" in report["summary"]["note"] and len(report["works"]) == 1
    assert "Only one work" in render(report, "md")


def test_crowded_cell_lists_three_examples_and_how_many_more(rec, make_graph):
    works = [rec.work(n, "retrieval", ["alignment"]) for n in range(1, 6)] + [rec.work(6, "retrieval", ["generation"])]
    report = build_report(make_graph(rec.bundle(works, cites=[(6, 5), (6, 4)])))
    cell = next(c for c in report["cells"] if c["mechanism"] == "alignment" and c["category"] == "retrieval")
    assert [p["label"] for p in cell["papers"][:2]] == ["Paper 4", "Paper 5"]  # most cited first
    for fmt in ("md", "tex", "html"):
        assert "+2 more" in render(report, fmt)
    assert len(bibtexparser.loads(render(report, "bib")).entries) == 6


# ---------------------------------------------------------------- LaTeX: hostile corpus, table, references
LONG_TITLE = ("[x] & y% {z} \\\\ $w$ #1 ~ ^ " * 4000)[:100_000]
ROW_STARTS = ["[Bracketed] title", "*Starred title", "\\\\ Double backslash", "% Percent first", "& Ampersand first",
              "# Hash first", "$ Dollar first", "{ Open brace", "} Close brace", LONG_TITLE]  # candidates: rows
IN_CELLS = ["~ Tilde first", "^ Caret first", "[Opt] in a cell", "] Closing bracket", "{Braced} title",
            "\\\\[2pt] after a row end", "%comment swallows the rest", LONG_TITLE + " placed"]


@pytest.fixture(scope="module")
def hostile_latex():
    """Titles that start with what LaTeX reads as syntax, and a 100,000-character title, both as
    works in the taxonomy (table cells, references) and as candidates (first cell of table rows)."""
    import pyoxigraph as ox

    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.records import Author, Bundle, Label, Source, Work
    from kg.store import LocalGraph
    from kg.rdf.taxonomy import read_taxonomy

    cells = [(c, m) for c in ("text_generation", "image_generation", "recommendation", "retrieval")
             for m in ("instruction", "alignment", "generation", "fine_tuning")]
    works = [Work(ids={"arxiv": f"2402.{n:05d}"}, sources=["t"], title=title, year=2024, venue=LONG_TITLE if n == 7 else "[V] & %",
                  authors=[Author(f"[A{n}] Author")] + ([Author("x" * 400)] * 8 if n == 7 else []),
                  labels=[Label("category", cells[n][0], "t"), Label("mechanism", cells[n][1], "t")])
             for n, title in enumerate(IN_CELLS)]
    works += [Work(ids={"arxiv": f"2403.{n:05d}"}, sources=["t"], title=title, year=2023, candidate=True)
              for n, title in enumerate(ROW_STARTS)]
    bundle = Bundle(sources=[Source("t", "test", "tester")], works=works)
    store = ox.Store()
    store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ("kg.ttl", "taxonomy.ttl"))))
    store.extend(bundle_quads(bundle, read_taxonomy())[0])
    report = build_report(LocalGraph("in-memory", store=store))
    return report, {fmt: render(report, fmt) for fmt in TEXT_FORMATS}


def test_hostile_latex_corpus_compiles(hostile_latex, tmp_path):
    report, texts = hostile_latex
    text = texts["tex"]
    latex_structure(text)
    assert len(report["missed_candidates"]) == len(ROW_STARTS)
    assert len(text) < 60_000  # the 100,000-character title and venue are cut
    assert r"{[}Bracketed{]} title" in text and r"\relax {[}Bracketed{]} title" in text
    for line in text.splitlines():  # no text after a row end, a rule or \item can be an optional argument
        assert not re.search(r"(\\\\|rule|\\item\s)\s*[\[*]", line), line
    if PDFLATEX:
        log = compile_latex(tmp_path, text)
        assert "undefined" not in log.replace("There were undefined references", "")
        if shutil.which("pdftotext"):
            pdf = subprocess.run(["pdftotext", "report.pdf", "-"], cwd=tmp_path, capture_output=True, text=True).stdout
            for start in ("[Bracketed] title", "*Starred title", "% Percent first", "& Ampersand first", "} Close brace"):
                assert start in pdf, start


def test_long_fields_are_cut_for_reading_but_kept_as_data(hostile_latex):
    report, texts = hostile_latex
    for fmt in ("md", "html", "tex", "tex-table"):
        assert LONG_TITLE[:200] not in texts[fmt].replace("\\", "")  # not even its escaped start in full
        assert max(len(line) for line in texts[fmt].splitlines()) < 6_000, fmt
    assert "…" in texts["md"] and "…" in StrictHTML.check(texts["html"]).all_text and r"\ldots{}" in texts["tex"]
    assert LONG_TITLE + " placed" in {w["title"] for w in json.loads(texts["json"])["works"]}
    assert LONG_TITLE + " placed" in texts["csv"]
    assert max(len(line) for line in texts["bib"].splitlines()) > 100_000  # BibTeX is data too: kept whole
    assert LONG_TITLE in {c["title"] for c in report["missed_candidates"]}


def test_shorten():
    assert shorten("short") == "short"
    cut = shorten("word " * 100, 50)
    assert len(cut) <= 50 and cut.endswith("word…")
    assert shorten("x" * 1000, 300) == "x" * 299 + "…"


def test_references_read_like_a_bibliography(bundled):
    report, texts = bundled
    refs = texts["tex"].split(r"\begin{thebibliography}", 1)[1]
    items = re.findall(r"\\bibitem\{[a-z0-9]+\} (.*)", refs)
    assert len(items) == len(report["works"])
    for item in items:
        plain = item.replace(r"\ldots{}", "")
        assert ".." not in plain and ". ." not in plain and not re.search(r"\(\d{4}[a-z]?\)", plain), item
        assert item.endswith(".")
    assert (r"\bibitem{pi2024personalized} Renjie Pi, Jianshu Zhang, Tianyang Han, Jipeng Zhang, Rui Pan, and Tong "
            r"Zhang. \newblock \emph{Personalized Visual Instruction Tuning}. \newblock arXiv:2410.07113, 2024.") in refs
    assert r"\bibitem{wang2023} Wang et al. \newblock Cited in the survey; title not yet resolved. \newblock 2023." in refs
    assert (r"\bibitem{nguyen2024llava} Nguyen et al. \newblock \emph{Yo'LLaVA: Your Personalized Language and Vision "
            r"Assistant}. \newblock NeurIPS, 2024. \newblock arXiv:2406.09400.") in refs


def test_taxonomy_table_is_placed_where_the_text_refers_to_it(bundled, tmp_path):
    report, texts = bundled
    text = texts["tex"]
    assert r"\begin{table}[!htbp]" in text
    assert text.index(r"\kgfloatbarrier") < text.index(r"\begin{thebibliography}")
    if not PDFLATEX:
        pytest.skip("pdflatex is not installed")
    log = compile_latex(tmp_path, text)
    page = int(re.search(r"\\newlabel\{tab:kg-taxonomy\}\{\{1\}\{(\d+)\}",
                         (tmp_path / "report.aux").read_text()).group(1))
    pages = int(re.search(r"Output written on report\.pdf \((\d+) pages", log).group(1))
    assert page <= 2 < pages  # the text refers to it on page 1; the references come pages later
    assert "Overfull" not in log.split("tab:kg-taxonomy", 1)[0].rsplit("Table", 1)[-1]


def test_tex_table_fragment_inputs_into_a_survey(bundled, tmp_path):
    report, texts = bundled
    fragment = render(report, "tex-table")
    assert fragment.startswith("% ") and r"\documentclass" not in fragment and r"\newcolumntype" not in fragment
    table = texts["tex"].split("% kg:table:begin", 1)[1].split("% kg:table:end", 1)[0]
    assert table in fragment  # the same table as in the report
    (tmp_path / "table.tex").write_text(fragment, encoding="utf-8")
    survey = "\n".join([r"\documentclass{article}", r"\usepackage{booktabs}", r"\usepackage{array}",
                        r"\begin{document}", r"Our taxonomy is in Table~\ref{tab:kg-taxonomy}.", r"\input{table}",
                        r"\begin{thebibliography}{99}"] + [rf"\bibitem{{{w['key']}}} A work." for w in report["works"]]
                       + [r"\end{thebibliography}", r"\end{document}", ""])
    if PDFLATEX:
        log = compile_latex(tmp_path, survey)
        assert "undefined" not in log.replace("There were undefined references", "")
