"""The app end to end in real headless Chromium: `streamlit run app.py` on 127.0.0.1 over a
store that does not exist yet (so the first start builds it), every page visited,
screenshots kept in test-artifacts/.

Needs Debian's chromium (.ci/run installs it); never downloads a browser.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg.app_timing import CHROMIUM, VIEWPORT, free_port, serve, wait_healthy
from kg.app_timing import chromium as open_chromium
from kg.app_timing import open_page as _open
from kg.app_timing import settle as _settle

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
NEWER_LIST = ROOT / "tests" / "fixtures" / "awesome_lists" / "JiahongLiu21-Awesome-Personalized-Large-Language-Models.md"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.is_file(), reason=f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    """The app served by a real Streamlit server, on a store that is built on first start."""
    home = tmp_path_factory.mktemp("e2e")
    store = home / "store"
    # HOME is the test's own folder: Streamlit keeps its files there, and the app shows the store as ~/store.
    env = {**os.environ, "KG_STORE": str(store), "KG_HOME": str(home), "HOME": str(home), "PYTHONUNBUFFERED": "1"}
    yield from _serve(env, home / "streamlit.log")


@pytest.fixture(scope="module")
def rag_app_url(tmp_path_factory):
    """The app on a `kg init`-ed copy of the RAG example project (KG_PROJECT, its store inside
    it, its bibliography imported), built on first start from the project's taxonomy and corpus."""
    home = tmp_path_factory.mktemp("e2e-rag")
    project = home / "my-rag"
    env = {k: v for k, v in os.environ.items() if k not in ("KG_STORE", "KG_PROJECT")}
    env.update(KG_HOME=str(home / "kg-home"), HOME=str(home), PYTHONUNBUFFERED="1")
    example = ROOT / "examples" / "rag"
    for args in (["init", str(project), "--taxonomy", str(example / "taxonomy.ttl"), "--corpus",
                  str(example / "corpus"), "--name", "RAG example"],
                 ["--project", str(project), "import", "bibtex", str(example / "references.bib")]):
        done = subprocess.run([sys.executable, "-m", "kg", *args], cwd=home, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    env["KG_PROJECT"] = str(project)
    yield from _serve(env, home / "streamlit.log")


@pytest.fixture(scope="module")
def whatsnew_app_url(tmp_path_factory):
    """The app on a store of its own that has a history: the bundled graph built and snapshotted
    as 'submitted', then a newer awesome list imported and classified, all with the CLI before
    the server starts (the other pages' store stays as it is)."""
    home = tmp_path_factory.mktemp("e2e-whatsnew")
    env = {k: v for k, v in os.environ.items() if k not in ("KG_STORE", "KG_PROJECT")}
    env.update(KG_HOME=str(home / "kg-home"), KG_STORE=str(home / "store"), HOME=str(home), PYTHONUNBUFFERED="1")
    for args in (["build"], ["snapshot", "create", "submitted", "--note", "as submitted"],
                 ["import", "awesome", str(NEWER_LIST)], ["classify"]):
        done = subprocess.run([sys.executable, "-m", "kg", *args], cwd=home, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    yield from _serve(env, home / "streamlit.log")


def _serve(env: dict, log: Path):
    """Start `streamlit run app.py` with `env`, yield its URL once healthy, stop it afterwards."""
    with serve(env, log, script=ROOT / "app.py", cwd=ROOT) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    """One headless Chromium for the module: Playwright's sync API runs one instance per thread,
    so the apps' pages are contexts of this one browser."""
    ARTIFACTS.mkdir(exist_ok=True)
    with open_chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def browser_page(chromium, app_url):
    yield from _browser(chromium, app_url)


@pytest.fixture(scope="module")
def rag_page(chromium, rag_app_url):
    yield from _browser(chromium, rag_app_url)


@pytest.fixture(scope="module")
def whatsnew_page(chromium, whatsnew_app_url):
    yield from _browser(chromium, whatsnew_app_url)


def _browser(browser, app_url: str):
    """A page of its own (a new browser context) that records page errors, console errors, failed
    answers and every request that leaves the app's server."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(30_000)
    page = context.new_page()
    errors: list[str] = []
    outside: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda req: None if req.url.startswith((app_url, "data:", "blob:", "about:"))
            else outside.append(req.url))
    page.errors, page.outside = errors, outside
    page.console_errors, page.failed = _watch_console(page)
    yield page
    context.close()


def _watch_console(page) -> tuple[list[str], list[str]]:
    """Console errors and HTTP error answers (such as 404s under a page's URL) as they come."""
    console: list[str] = []
    failed: list[str] = []
    page.on("console", lambda msg: console.append(f"{msg.text} ({msg.location.get('url', '')})")
            if msg.type == "error" else None)
    page.on("response", lambda answer: failed.append(f"{answer.status} {answer.url}")
            if answer.status >= 400 else None)
    return console, failed


def _shot(page, name: str) -> Path:
    page.mouse.move(2, VIEWPORT["height"] - 2)  # no tooltip in the picture
    page.wait_for_timeout(300)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def _coloured_pixels(png: bytes) -> int:
    """How many pixels of an element screenshot are clearly not white or grey."""
    import numpy as np
    from PIL import Image

    rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    return int(((rgb.max(axis=2) - rgb.min(axis=2)) > 40).sum())


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0, page.locator(
        "[data-testid='stException']").first.inner_text()


def test_first_start_builds_the_graph_and_shows_the_overview(browser_page, app_url):
    page = browser_page
    _open(page, app_url)
    page.get_by_text("Cells filled").wait_for()
    metrics = page.locator("[data-testid='stMetric']")
    assert metrics.count() >= 10
    papers = metrics.filter(has_text="Papers").first.locator("[data-testid='stMetricValue']").inner_text()
    assert papers.strip() == "49"
    assert page.get_by_text("16 / 16").count() == 1
    page.locator("[data-testid='stVegaLiteChart']").first.wait_for()  # charts may draw after the metrics
    page.get_by_text("Where the data came from").wait_for()
    _no_exception(page)
    _shot(page, "overview")


def test_gaps_heat_map_is_drawn_and_a_click_lists_the_cell_papers(browser_page, app_url):
    page = browser_page
    _open(page, app_url + "/gaps")
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.locator("canvas, svg").first.wait_for()
    box = chart.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 200
    assert _coloured_pixels(chart.screenshot()) > 20_000, "the heat map has no coloured cells"
    # The plot area sits right of the category labels and below the mechanism labels:
    # a click there lands on a cell.
    page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
    _settle(page)
    heading = page.locator("h3").filter(has_text=" x ").first
    heading.wait_for()
    assert "Personalized" in heading.inner_text()
    panel = page.locator("[data-testid='stMetric']").filter(has_text="Papers").first
    assert panel.locator("[data-testid='stMetricValue']").inner_text().strip() == "2"
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    # A modality filter empties most cells: they turn red, and an empty cell offers its nearest papers.
    page.get_by_role("combobox", name="Modality (input or output)").click()
    page.keyboard.type("Image")
    page.keyboard.press("Enter")
    _settle(page)
    caption = page.get_by_text("papers match").inner_text()
    empty = int(caption.split("·")[2].split()[0])
    assert 0 < empty < 16, caption
    # The filter redraws the chart (and the caption above it may wrap differently): measure it
    # again, and click again if the redrawn chart was not yet listening when the click came.
    gap = page.get_by_text("No paper sits in this cell")
    for _ in range(3):
        chart.locator("canvas, svg").first.wait_for()
        box = chart.bounding_box()
        page.mouse.click(box["x"] + box["width"] * 0.45, box["y"] + box["height"] * 0.55)
        _settle(page)
        try:
            gap.wait_for(timeout=5_000)
            break
        except Exception:
            continue
    gap.wait_for()
    _no_exception(page)
    _shot(page, "gaps")


def test_citation_network_canvas_renders(browser_page, app_url):
    page = browser_page
    _open(page, app_url + "/network")
    frame = page.frame_locator("iframe").first
    canvas = frame.locator("#mynetwork canvas")
    canvas.wait_for()
    page.wait_for_timeout(1500)  # physics stabilisation
    nodes = frame.locator("body").evaluate("() => network.body.data.nodes.length")
    edges = frame.locator("body").evaluate("() => network.body.data.edges.length")
    assert nodes == 33 and edges == 32
    assert _coloured_pixels(canvas.screenshot()) > 3_000, "the network canvas is blank"
    page.get_by_text("Most central papers").wait_for()
    _no_exception(page)
    _shot(page, "network")


def test_method_combinations_page(browser_page, app_url):
    page = browser_page
    _open(page, app_url + "/combinations")
    page.get_by_text("Unexplored combinations").wait_for()
    page.locator("[data-testid='stVegaLiteChart']").first.locator("canvas, svg").first.wait_for()
    page.locator("[data-testid='stDataFrame']").first.wait_for()
    assert page.locator("[data-testid='stDataFrame']").count() == 1
    _no_exception(page)
    _shot(page, "combinations")


@pytest.mark.parametrize("width", [1280, 1400, 1920])
def test_method_combinations_layout_fits_the_window(browser_page, app_url, width):
    """The matrix (labels included) and the table each keep inside the page, one above the
    other: at 1400 px the matrix once ran under the table and cut off its score column."""
    page = browser_page
    page.set_viewport_size({"width": width, "height": 2200})  # tall: the whole page in one picture
    try:
        _open(page, app_url + "/combinations")
        chart = page.locator("[data-testid='stVegaLiteChart']").first
        chart.locator("canvas, svg").first.wait_for()
        table = page.locator("[data-testid='stDataFrame']").first
        table.wait_for()
        page.wait_for_timeout(500)
        main = page.locator("[data-testid='stMainBlockContainer']").first.bounding_box()
        drawn = chart.locator("canvas, svg").first.bounding_box()
        grid = table.bounding_box()
        assert drawn["x"] >= main["x"] - 1 and drawn["x"] + drawn["width"] <= main["x"] + main["width"] + 1, \
            (width, drawn, main)
        assert drawn["y"] + drawn["height"] <= grid["y"], ("the matrix runs under the table", width, drawn, grid)
        assert grid["x"] >= main["x"] - 1 and grid["x"] + grid["width"] <= main["x"] + main["width"] + 1, \
            (width, grid, main)
        # every column of the table is in view: no horizontal scrolling needed
        overflow = table.evaluate("""el => [...el.querySelectorAll('*')].some(
            n => n.scrollWidth > n.clientWidth + 1 && getComputedStyle(n).overflowX !== 'visible'
                 && n.clientWidth > 200)""")
        assert not overflow, f"the table scrolls sideways at {width} px"
        _no_exception(page)
        path = ARTIFACTS / f"combinations-{width}.png"
        page.screenshot(path=str(path))
    finally:
        page.set_viewport_size(VIEWPORT)


def test_papers_search_opens_a_paper_page(browser_page, app_url):
    page = browser_page
    _open(page, app_url + "/papers")
    box = page.get_by_role("textbox", name="Search by title, author or identifier")
    box.fill("arXiv:2406.09400v2")
    box.press("Enter")
    _settle(page)
    page.locator("h2").filter(has_text="Yo'LLaVA").wait_for()
    page.get_by_text("Taxonomy labels").wait_for()
    # The page draws in pieces (slowly on a busy machine): wait for each part, do not count at once.
    page.get_by_text("Personalized retrieval").first.wait_for()
    page.get_by_role("link", name="arXiv").first.wait_for()
    _no_exception(page)
    _shot(page, "papers")


def test_sparql_runs_a_named_query_downloads_csv_and_refuses_updates(browser_page, app_url):
    page = browser_page
    _open(page, app_url + "/sparql")
    page.get_by_role("combobox", name="Start from a named query").click()
    page.keyboard.type("papers-by-cell")
    page.keyboard.press("Enter")
    _settle(page)
    assert "# title: Papers by taxonomy cell" in page.locator("textarea").first.input_value()
    page.get_by_role("button", name="Run query").click()
    _settle(page)
    page.get_by_text("16 rows").wait_for()
    _shot(page, "sparql")
    with page.expect_download() as info:
        page.get_by_role("button", name="Download CSV").click()
    csv_text = Path(info.value.path()).read_text(encoding="utf-8")
    assert csv_text.splitlines()[0].startswith("category,mechanism,categoryLabel")
    assert len(csv_text.splitlines()) == 17
    area = page.locator("textarea").first
    area.fill("DELETE WHERE { ?s ?p ?o }")
    page.get_by_role("button", name="Run query").click()
    _settle(page)
    refused = page.locator("[data-testid='stAlert']").filter(has_text="refused")
    refused.first.wait_for()  # (the page's caption says "read-only" too: wait for the alert itself)
    assert refused.count() == 1 and "read-only" in refused.first.inner_text()
    _no_exception(page)


def test_reports_preview_and_download(browser_page, app_url):
    page = browser_page
    _open(page, app_url + "/reports")
    preview = page.frame_locator("iframe").first
    preview.get_by_text("Taxonomy gap report").first.wait_for()
    with page.expect_download() as info:
        page.get_by_role("button", name="Markdown").click()
    download = info.value
    assert download.suggested_filename == "gap-report.md"
    text = Path(download.path()).read_text(encoding="utf-8")
    assert "Taxonomy" in text and "|" in text
    with page.expect_download() as info:
        page.get_by_role("button", name="LaTeX").click()
    assert "\\begin{tabular}" in Path(info.value.path()).read_text(encoding="utf-8") or \
        "\\toprule" in Path(info.value.path()).read_text(encoding="utf-8")
    _no_exception(page)
    _shot(page, "reports")


@pytest.mark.parametrize("path", ["/papers?id=2406.09400", "/gaps", "/network", "/combinations", "/screening",
                                  "/sparql", "/reports", "/"])
def test_direct_page_urls_load_with_a_clean_console(browser_page, app_url, path):
    """A page address typed or bookmarked (not reached from the start page) connects to the
    server's root at once: no 404s for /papers/_stcore/health or /papers/_stcore/host-config,
    no console errors."""
    page = browser_page.context.new_page()
    console, failed = _watch_console(page)
    try:
        _open(page, app_url + path)
        page.wait_for_timeout(1000)
        _no_exception(page)
        assert failed == [], failed
        assert console == [], console
        if path.startswith("/papers"):
            page.locator("h2").filter(has_text="Yo'LLaVA").wait_for()
    finally:
        page.close()


def test_no_javascript_errors_and_nothing_loaded_from_the_web(browser_page):
    assert browser_page.errors == []
    assert browser_page.outside == []
    assert browser_page.console_errors == []
    assert browser_page.failed == []


# ---------------------------------------------------------------- another survey: the RAG example project
RAG_CATEGORIES = ("Open-domain question answering", "Language modeling", "Fact verification",
                  "Knowledge-grounded dialogue")
RAG_AXIS_TITLES = ("task (what retrieval serves)", "mechanism (where retrieved text enters)")
BUNDLED_WORDING = ("Personaliz", "personaliz", "what is personalized", "Text generation", "Image generation")


def _body_text(page) -> str:
    text = page.locator("[data-testid='stMain']").inner_text()
    assert not [w for w in BUNDLED_WORDING if w in text], [w for w in BUNDLED_WORDING if w in text]
    return text


def test_an_example_project_drives_every_page_in_its_own_wording(rag_page, rag_app_url):
    """KG_PROJECT names a `kg init`-ed RAG example: the first start builds its graph from the
    project's taxonomy and corpus, and every page speaks the RAG taxonomy, never the bundled one."""
    from kg.app.main import PAGES

    page = rag_page
    _open(page, rag_app_url)
    page.get_by_text("Cells filled").wait_for()
    papers = page.locator("[data-testid='stMetric']").filter(has_text="Papers").first
    assert papers.locator("[data-testid='stMetricValue']").inner_text().strip() == "22"
    assert page.get_by_text("Where the data came from").count() == 1
    _body_text(page)
    _no_exception(page)

    _open(page, rag_app_url + "/gaps")
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.locator("canvas, svg").first.wait_for()
    text = _body_text(page)
    assert all(title in text for title in RAG_AXIS_TITLES), text[:500]
    page.get_by_role("combobox", name="Cell").click()
    option = page.get_by_role("option", name="Language modeling x Output interpolation")
    option.wait_for()
    option.click()
    _settle(page)
    page.locator("h3").filter(has_text="Language modeling x Output interpolation").wait_for()
    panel = page.locator("[data-testid='stMetric']").filter(has_text="Papers").first
    assert panel.locator("[data-testid='stMetricValue']").inner_text().strip().startswith("1")
    _no_exception(page)
    _shot(page, "rag-gaps")

    _open(page, rag_app_url + "/network")
    page.frame_locator("iframe").first.locator("#mynetwork canvas").wait_for()
    page.get_by_text("Most central papers").wait_for()
    _body_text(page)
    _no_exception(page)

    _open(page, rag_app_url + "/combinations")
    page.get_by_text("Unexplored combinations").wait_for()
    _body_text(page)
    _no_exception(page)

    _open(page, rag_app_url + "/papers?id=2005.11401")
    page.locator("h2").filter(has_text="RAG").wait_for()
    page.get_by_text("Taxonomy labels").wait_for()
    assert "Open-domain question answering" in _body_text(page)
    _no_exception(page)

    for path in ("/screening", "/sparql", "/whatsnew"):  # What's new on a store with no snapshot yet
        _open(page, rag_app_url + path)
        _body_text(page)
        _no_exception(page)

    _open(page, rag_app_url + "/reports")
    preview = page.frame_locator("iframe").first
    preview.get_by_text("Taxonomy gap report: Retrieval-augmented generation").first.wait_for()
    report = preview.locator("body").inner_text()
    assert all(title in report for title in RAG_AXIS_TITLES) and all(c in report for c in RAG_CATEGORIES)
    assert not [w for w in BUNDLED_WORDING if w in report]
    _body_text(page)
    _no_exception(page)
    _shot(page, "rag-reports")

    assert {path for path, *_ in PAGES} == {"overview", "gaps", "network", "combinations", "papers", "screening",
                                           "sparql", "reports", "whatsnew"}  # every page above
    assert page.errors == [] and page.outside == [] and page.console_errors == [] and page.failed == []


# ---------------------------------------------------------------- What's new: a store with a history
def test_whats_new_shows_the_diff_since_a_snapshot(whatsnew_page, whatsnew_app_url):
    """From the 'submitted' snapshot to the graph now: the headline, the heat map of the cells whose
    counts changed, the newer list's works with the cells they fill, no exception."""
    page = whatsnew_page
    _open(page, whatsnew_app_url + "/whatsnew")
    page.locator("h1").filter(has_text="What's new").wait_for()
    headline = page.get_by_text("From submitted to current:")
    headline.wait_for()
    assert "cell(s) changed" in headline.inner_text() and " 0 cell(s) changed" not in headline.inner_text()
    page.locator("h3").filter(has_text="Cells whose counts changed").wait_for()
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    chart.locator("canvas, svg").first.wait_for()
    page.wait_for_timeout(500)
    assert _coloured_pixels(chart.screenshot()) > 3_000, "the change heat map has no coloured cells"
    page.locator("h3").filter(has_text="New works").wait_for()
    table = page.locator("[data-testid='stDataFrame']").first
    table.wait_for()
    cells = table.get_by_role("gridcell")
    rows = [row.locator("[role='gridcell']").all_text_contents()
            for row in table.locator("[role='row']").all()]
    rows = [r for r in rows if r]  # the header row has column headers, no cells
    assert rows and rows[0][1], rows[:3]  # title, cells, ...: the works placed in a cell come first
    placed = {r[0]: r[1] for r in rows if r[1]}
    assert placed.get("Customizing Language Models with Instance-wise Lora for Sequential Recommendation") \
        == "recommendation x fine_tuning", placed
    assert len(placed) >= 3
    _no_exception(page)
    _shot(page, "whatsnew")
    assert page.errors == [] and page.outside == [] and page.console_errors == [] and page.failed == []


# ---------------------------------------------------------------- kg app from any working folder
def test_kg_app_started_beside_another_kg_package_serves_its_pages(chromium, tmp_path):
    """`kg app` run from a folder that holds another package named kg (a clone, a project folder)
    serves this package's app: the working folder does not land on the server's import path
    (once: "kg.app is not a package", or that kg's import errors, on every page)."""
    home = tmp_path / "somewhere"
    (home / "kg").mkdir(parents=True)
    (home / "kg" / "__init__.py").write_text("raise ImportError('the wrong kg was imported')\n")
    env = {k: v for k, v in os.environ.items() if k not in ("KG_STORE", "KG_PROJECT")}
    env.update(KG_HOME=str(tmp_path / "kg-home"), HOME=str(tmp_path), PYTHONUNBUFFERED="1")
    store = tmp_path / "store"
    # -P for the launcher alone: the folder's kg must not shadow the command that starts the server
    kg = [sys.executable, "-P", "-m", "kg", "--store", str(store)]
    done = subprocess.run([*kg, "build"], cwd=home, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    port = free_port()
    log = tmp_path / "app.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([*kg, "app", "--no-browser", "--port", str(port)], cwd=home, env=env,
                                stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log)
        context = chromium.new_context(viewport=VIEWPORT)
        page = context.new_page()
        try:
            for path, heading in (("", "Overview"), ("/sparql", "SPARQL")):
                _open(page, url + path)
                page.locator("h1").filter(has_text=heading).first.wait_for()
                _no_exception(page)
        finally:
            context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "wrong kg" not in log.read_text()
