"""The Streamlit app in AppTest (no browser, no JavaScript): every page renders on the bundled
graph, its key elements are there, and bad input gives a message in the page."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from streamlit.testing.v1 import AppTest

from kg.build import build
from kg.store import LocalGraph, StoreDir

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT = 60


def _script(page):
    from kg.app.main import run

    run(default=page)


def open_page(page: str, **query) -> AppTest:
    at = AppTest.from_function(_script, args=(page,), default_timeout=TIMEOUT)
    at.query_params.update(query)
    return at.run()


def ok(at: AppTest) -> AppTest:
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements) -> list[str]:
    return [e.value for e in elements]


def frame_with(at: AppTest, column: str):
    """The first table on the page that has this column."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def iframe_html(at: AppTest) -> str:
    frames = at.get("iframe")
    assert frames, "no iframe on the page"
    return frames[0].proto.srcdoc


@pytest.fixture
def app_store(built_store, monkeypatch):
    monkeypatch.setenv("KG_STORE", str(built_store))
    return built_store


@pytest.fixture
def writable_store(store_copy, monkeypatch):
    monkeypatch.setenv("KG_STORE", str(store_copy))
    return store_copy


# ---------------------------------------------------------------- the entry point and first start
def test_app_py_opens_the_overview(app_store):
    at = ok(AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT).run())
    assert texts(at.title) == ["Overview"]
    assert any("Rebuild graph" == b.label for b in at.sidebar.button)


def test_page_shell_paths_are_the_apps_page_addresses():
    from kg.app import main, shell

    assert set(shell.PAGE_PATHS) == {path for path, *_ in main.PAGES if path != "overview"}  # overview is "/"


@pytest.mark.parametrize("entry", ["app.py", "kg/app/script.py"])
def test_streamlit_run_serves_the_entry_files_as_an_asgi_app(entry):
    import streamlit as st
    from streamlit.web.server.app_discovery import discover_asgi_app

    if not hasattr(st, "App"):
        pytest.skip("this Streamlit has no st.App: the entry files run as plain scripts")
    found = discover_asgi_app(ROOT / entry)
    assert found.is_asgi_app and found.app_name == "app"


def _asgi_get(app, path: str) -> tuple[int, dict, bytes]:
    import asyncio

    sent = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": path, "query_string": b"", "headers": [], "root_path": ""}
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_page_addresses_get_a_shell_that_names_the_server_root():
    """/papers?id=... once made the frontend ask /papers/_stcore/health and host-config first
    (two 404s in the console); the shell tells it the root, and everything else goes on."""
    from kg.app.shell import PageShell

    passed = []

    async def streamlit(scope, receive, send):
        passed.append(scope["path"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"streamlit"})

    shell = PageShell(streamlit)
    for path in ("/", "/papers", "/gaps/"):
        status, headers, body = _asgi_get(shell, path)
        assert status == 200 and headers["content-type"].startswith("text/html"), path
        assert b'BACKEND_BASE_URL: new URL("/", window.location.href).href' in body
        assert body.index(b"BACKEND_BASE_URL") < body.index(b'type="module"')  # before Streamlit's code runs
        assert headers["cache-control"] == "no-cache"
    for path in ("/_stcore/health", "/papers/_stcore/health", "/static/js/x.js", "/media/a.png", "/nowhere"):
        assert _asgi_get(shell, path)[2] == b"streamlit", path
    assert passed == ["/_stcore/health", "/papers/_stcore/health", "/static/js/x.js", "/media/a.png", "/nowhere"]
    assert shell.page_of("/kg/papers", "/kg/") == "papers" and shell.page_of("/papers", "/kg/") is None


def test_first_start_builds_the_graph(tmp_path, monkeypatch):
    store = tmp_path / "fresh"
    monkeypatch.setenv("KG_STORE", str(store))
    at = ok(open_page("overview"))
    assert StoreDir(store).current() is not None
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Papers"] == "49"
    assert metrics["Cells filled"] == "16 / 16"
    # the first start also places the list's papers in the taxonomy, as predictions with provenance
    unplaced = LocalGraph(store).query(
        "SELECT ?w WHERE { ?w kg:listSection ?s . FILTER NOT EXISTS { ?w kg:category ?c } }", trusted=True)
    assert unplaced.rows == []
    predicted = LocalGraph(store).query(
        "ASK { ?w kg:listSection ?s ; kg:hasLabel ?a . ?a kg:axis kg:category ; prov:wasAttributedTo ?agent . "
        "?agent rdfs:label ?name . FILTER(STRSTARTS(?name, 'kg-classifier')) }", trusted=True)
    assert predicted.boolean


def _lasting(path) -> set:
    """The graph's quads but for the times they were made (a second build differs only there)."""
    import pyoxigraph as ox

    stamped = {"http://www.w3.org/2001/XMLSchema#dateTime"}
    return {q for q in LocalGraph(path).store.quads_for_pattern(None, None, None)
            if not (isinstance(q.object, ox.Literal) and q.object.datatype.value in stamped)}


def test_first_start_builds_once_and_makes_the_graph_kg_build_makes(tmp_path, monkeypatch, kg):
    from kg import build as build_module
    from kg.sparql.stats import graph_stats

    published, counted = [], []
    real_generation, real_stats = StoreDir.new_generation, build_module.graph_stats

    def new_generation(self, meta, **options):
        published.append(self.path)
        return real_generation(self, meta, **options)

    def stats(graph):
        counted.append(graph)
        return real_stats(graph)

    monkeypatch.setattr(StoreDir, "new_generation", new_generation)
    monkeypatch.setattr(build_module, "graph_stats", stats)
    app = tmp_path / "app"
    monkeypatch.setenv("KG_STORE", str(app))
    ok(open_page("overview"))
    assert published == [app] and len(counted) == 1  # one generation published, counted once
    assert len(list(app.glob("gen-*"))) == 1
    cli = tmp_path / "cli"
    result = kg("build", store=cli)
    assert result.exit_code == 0, result.output + result.message
    assert LocalGraph(cli).triple_count() == LocalGraph(app).triple_count()
    assert graph_stats(LocalGraph(cli)) == graph_stats(LocalGraph(app))
    assert _lasting(cli) == _lasting(app)


def test_first_start_with_a_broken_record_file_says_so_and_stays_up(tmp_path, monkeypatch):
    store = tmp_path / "broken"
    (store / "records").mkdir(parents=True)
    (store / "records" / "harvest.jsonl").write_text("{not json\n")
    monkeypatch.setenv("KG_STORE", str(store))
    at = ok(open_page("overview"))
    assert at.error and "harvest.jsonl" in at.error[0].value
    assert StoreDir(store).current() is None
    assert not at.title  # no page drawn over a missing graph


def test_an_unreachable_remote_store_gets_a_message(monkeypatch):
    monkeypatch.setenv("KG_STORE", "http://127.0.0.1:9/sparql")
    for page in ("overview", "gaps", "network", "papers", "combinations", "screening", "reports"):
        at = ok(open_page(page))
        assert "cannot reach the SPARQL endpoint http://127.0.0.1:9/sparql" in " ".join(texts(at.error)), page
    at = _run_sparql(ok(open_page("sparql")))
    assert "cannot reach the SPARQL endpoint" in at.error[0].value


@pytest.fixture(scope="module")
def remote_store(tmp_path_factory):
    """The bundled graph built into an Oxigraph server on 127.0.0.1."""
    from remote_support import OxigraphServer

    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph"))
    try:
        build(server.url)
        yield server.url
    finally:
        server.stop()


def test_every_page_on_a_remote_store(remote_store, monkeypatch):
    monkeypatch.setenv("KG_STORE", remote_store)
    at = ok(open_page("overview"))
    assert {m.label: m.value for m in at.metric}["Papers"] == "49"
    at = ok(open_page("gaps"))
    assert any("32 placements in the taxonomy" in c for c in texts(at.caption))
    at = ok(open_page("network"))
    assert len(at.dataframe[0].value) == 33
    at = ok(open_page("papers", id="2406.09400"))
    assert "Yo'LLaVA" in texts(at.header)
    at = ok(open_page("sparql"))
    _run_sparql(at, "SELECT ?w WHERE { ?w a fabio:ScholarlyWork }")
    assert "49 rows" in texts(at.caption)
    _run_sparql(at, "DELETE WHERE { ?s ?p ?o }")
    assert "refused" in at.error[0].value
    at = ok(open_page("reports"))
    assert "Taxonomy gap report" in iframe_html(at)
    at = ok(open_page("screening"))
    assert {m.label: m.value for m in at.metric}["Undecided"] == "3"
    assert any("shows the ranking only" in i.value for i in at.info)
    assert not {"Include", "Exclude"} & {b.label for b in at.button}


# ---------------------------------------------------------------- overview
def test_overview_counts_years_latest_and_sources(app_store):
    at = ok(open_page("overview"))
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Papers"] == "49" and metrics["Datasets"] == "5" and metrics["Citation links"] == "32"
    assert metrics["Candidates"] == "3" and metrics["Triples"] == f"{LocalGraph(app_store).triple_count():,}"
    assert "Papers per year" in texts(at.subheader)
    frames = at.dataframe
    latest, sources = frames[0].value, frames[1].value
    assert len(latest) == 12 and set(latest["year"].dropna()) <= set(range(2018, 2026))
    assert len(sources) == 2 and sources["works"].sum() >= 49


def test_overview_latest_additions_follow_the_source_date_not_the_classifier(writable_store):
    """A harvest after the survey's snapshot comes first; re-running the classifier (whose
    source is dated when it ran) moves nothing."""
    from kg.analysis.browse import data_sources
    from kg.pipeline import classify as classify_graph
    from kg.records.file import write_bundle
    from kg.records import Bundle, Source, Work

    harvest = Source("s2-test-later", "Semantic Scholar (test harvest)", "Semantic Scholar",
                     retrieved="2025-03-02T10:00:00+0000")
    earlier = Source("bibtex-test", "BibTeX file test.bib", "BibTeX import", retrieved="2025-01-15")
    write_bundle(StoreDir(writable_store).records_dir / "s2-test.jsonl", Bundle(sources=[harvest], works=[
        Work(ids={"arxiv": "1901.00001"}, sources=[harvest.id], title="An old paper harvested last", year=2019,
             candidate=True)]))
    write_bundle(StoreDir(writable_store).records_dir / "bibtex-test.jsonl", Bundle(sources=[earlier], works=[
        Work(ids={"arxiv": "2501.00002"}, sources=[earlier.id], title="A new paper imported before", year=2025,
             candidate=True)]))
    build(writable_store)
    classify_graph(writable_store)  # labels every work, from a source dated now
    at = ok(open_page("overview"))
    latest = frame_with(at, "added")
    assert list(latest["label"][:2]) == ["An old paper harvested last", "A new paper imported before"]
    assert list(latest["added"][:2]) == ["2025-03-02T10:00:00+0000", "2025-01-15"]
    assert set(latest["added"][2:].dropna()) == {"2024-12-03"}  # then the survey table's works
    ran = {s["retrieved"] for s in data_sources(LocalGraph(writable_store)) if s["source"].endswith("/classifier")}
    assert ran and not ran & set(latest["added"].dropna())


# ---------------------------------------------------------------- taxonomy & gaps
def test_gaps_heat_map_cells_and_a_selected_cell(app_store):
    at = ok(open_page("gaps"))
    assert at.get("vega_lite_chart"), "no heat map"
    caption = [c for c in texts(at.caption) if "cells" in c][0]
    # the whole graph: counted in the store, no work read
    assert caption.startswith("32 placements in the taxonomy (32 asserted, 0 predicted") and "· 0 empty cells" in caption
    at.selectbox(key="gap_cell").set_value("retrieval|generation")
    ok(at.run())
    assert "Personalized retrieval x Generation-based personalization" in texts(at.subheader)
    table = at.dataframe[0].value
    assert set(table["label"]) == {"Yo'LLaVA", "Ye et al. (2024a)"}
    assert "./papers?id=https%3A%2F%2Fw3id.org%2Fkg-survey%2Fid%2Fwork%2Farxiv%2F2406.09400" in set(table["page"])
    assert {m.label: m.value for m in at.metric}["Status"] == "ok"





def test_gaps_heat_map_shows_predicted_papers_apart(classified_store, monkeypatch):
    """Cells read '2 (+1 predicted)' (asserted, plus works only the classifier places at
    confidence 0.5 or more), in the heat map, its tooltip and the cell's panel."""
    import pyarrow as pa

    from kg.analysis import gap_matrix, load_corpus

    monkeypatch.setenv("KG_STORE", str(classified_store))
    cells = gap_matrix(load_corpus(LocalGraph(classified_store)))
    guessed = cells[cells["predicted"] > 0]
    assert len(guessed), "the classifier places some list paper in a cell"
    at = ok(open_page("gaps"))
    caption = [c for c in texts(at.caption) if "cells" in c][0]
    placed = int(re.search(r"(\d+) placements in the taxonomy \(32 asserted, (\d+) predicted", caption).group(1))
    assert placed > 32
    chart = at.get("vega_lite_chart")[0].proto
    spec = chart.spec
    assert '"field": "count_text"' in spec and '"title": "papers"' in spec  # the cell text and its tooltip
    drawn = pa.ipc.open_stream(chart.datasets[0].data.data).read_all().to_pandas()
    labels = dict(zip(zip(drawn["category"], drawn["mechanism"]), drawn["count_text"]))
    for row in guessed.itertuples():
        assert labels[(row.category, row.mechanism)] == f"{row.asserted} (+{row.predicted} predicted)"
    assert set(labels.values()) >= {"2"}
    first = guessed.iloc[0]
    at.selectbox(key="gap_cell").set_value(f"{first['category']}|{first['mechanism']}")
    ok(at.run())
    assert {m.label: m.value for m in at.metric}["Papers"] == f"{first['asserted']} (+{first['predicted']} predicted)"
    table = at.dataframe[0].value  # the cell's works from the store (cell-papers): predictions at any confidence
    assert len(table) >= first["count"]


def test_gaps_modality_filter_marks_empty_cells_and_offers_nearest_papers(app_store):
    at = open_page("gaps")
    at.selectbox(key="gap_modality").set_value("image")
    ok(at.run())
    caption = [c for c in texts(at.caption) if "cells" in c][0]
    empty = int(re.search(r"(\d+) empty cells", caption).group(1))
    assert 0 < empty < 16
    at.selectbox(key="gap_cell").set_value("recommendation|alignment")
    ok(at.run())
    assert any("No paper sits in this cell" in i.value for i in at.info)
    assert {m.label: m.value for m in at.metric}["Status"] == "empty"
    nearest = at.dataframe[0].value
    assert len(nearest) >= 1


def test_gaps_filters_that_empty_the_view_give_a_message(app_store):
    at = open_page("gaps")
    at.selectbox(key="gap_modality").set_value("audio")
    ok(at.run())
    assert any("placed in the taxonomy with these filters" in w.value for w in at.warning)
    at.selectbox(key="gap_modality").set_value(None)
    at.slider(key="gap_years").set_value((2018, 2018))
    ok(at.run())
    assert at.warning


def test_gaps_year_range_and_score_colouring(app_store):
    at = open_page("gaps")
    at.slider(key="gap_years").set_value((2024, 2025))
    at.radio(key="gap_value").set_value("score")
    at.toggle(key="gap_more").set_value(True)  # the tables that read every work, asked for
    ok(at.run())
    caption = [c for c in texts(at.caption) if "cells" in c][0]
    placed = int(re.search(r"(\d+) placed", caption).group(1))
    assert 0 < placed < 32
    assert [t.label for t in at.tabs] == ["Modalities", "Datasets and benchmarks", "Trends"]


# ---------------------------------------------------------------- citation network
def test_network_draws_in_line_vis_without_cdn(app_store):
    at = ok(open_page("network"))
    page = iframe_html(at)
    assert "vis-network" in page and "new vis.Network" in page
    assert not re.search(r"(?:src|href)=\"https?://", page), "the network page loads something from the web"
    assert page.count('"shape": "star"') == 1  # the survey
    assert "Most central papers" in texts(at.subheader)
    central = at.dataframe[0].value
    assert len(central) == 33 and central.iloc[0]["label"] != ""


def test_network_says_the_citations_come_from_the_survey_and_marks_ties(app_store):
    at = ok(open_page("network"))
    notes = [i.value for i in at.info]
    assert any("All 32 citation links come from the survey (1 citing work)" in n
               and "kg harvest s2 --from-graph --references --citations" in n for n in notes), notes
    central = frame_with(at, "rank")
    assert set(central[central["cited_by"] == 1]["rank"]) == {"tied at 1 (32 works)"}
    assert any("Tied PageRank: 32 works share rank 1" in c for c in texts(at.caption))
    at.number_input(key="net_cap").set_value(10)
    ok(at.run())
    assert any("The cut falls inside a tie: 32 works share rank 1" in i.value for i in at.info)


def test_network_filters_cap_and_empty_selection(app_store):
    at = open_page("network")
    at.number_input(key="net_cap").set_value(10)
    ok(at.run())
    assert any("Showing the 10 most central of 33" in i.value for i in at.info)
    at.number_input(key="net_cap").set_value(150)
    at.multiselect(key="net_categories").set_value(["retrieval"])
    at.toggle(key="net_linked").set_value(False)
    ok(at.run())
    assert len(at.dataframe[0].value) == 8
    at.toggle(key="net_candidates").set_value(False)
    at.multiselect(key="net_categories").set_value(["none"])
    ok(at.run())
    shown = at.dataframe[0].value
    assert len(shown) == 49 - 32 - 3  # outside the taxonomy, candidates hidden
    at.slider(key="net_years").set_value((2018, 2018))
    at.toggle(key="net_linked").set_value(True)
    ok(at.run())
    assert any("No work matches these filters" in w.value for w in at.warning)


def test_network_colour_by_community(app_store):
    """Communities (Louvain) come with the generation's stored citation table: filter and column at once."""
    at = ok(open_page("network"))
    assert not at.multiselect(key="net_communities").disabled
    assert set(at.dataframe[0].value["community"]) != {-1}
    at.radio(key="net_color").set_value("community")
    ok(at.run())
    assert "community 1" in " ".join(texts(at.markdown))
    assert not at.multiselect(key="net_communities").disabled
    assert at.multiselect(key="net_communities").options


# ---------------------------------------------------------------- method combinations
def test_combinations_matrix_and_ranked_unexplored_pairs(app_store):
    at = ok(open_page("combinations"))
    assert at.get("vega_lite_chart")
    ranked = at.dataframe[0].value
    assert len(ranked) > 0 and list(ranked["score"]) == sorted(ranked["score"], reverse=True)
    at.number_input(key="combo_support").set_value(100)
    ok(at.run())
    assert any("No unexplored combination" in i.value for i in at.info)
    at.multiselect(key="combo_kinds").set_value([])
    ok(at.run())
    assert any("Pick at least one concept kind" in w.value for w in at.warning)


# ---------------------------------------------------------------- papers
def test_papers_search_by_title_author_and_id(app_store):
    at = ok(open_page("papers"))
    assert len(at.dataframe[0].value) == 49
    at.text_input(key="paper_search").set_value("personalized vision language")
    ok(at.run())
    hits = at.dataframe[0].value
    assert 1 <= len(hits) < 49 and hits.iloc[0]["matched"] == "title"
    at.text_input(key="paper_search").set_value("doi:10.0000/none OR zzzz")
    ok(at.run())
    assert any("No paper matches" in i.value for i in at.info)
    at.text_input(key="paper_search").set_value("x" * 400)
    ok(at.run())
    assert any("keep it under" in e.value for e in at.error)


def test_paper_page_labels_provenance_citations_links(app_store):
    at = ok(open_page("papers", id="2406.09400"))
    assert "Yo'LLaVA" in texts(at.header)
    assert "Taxonomy labels" in texts(at.subheader)
    body = " ".join(texts(at.markdown))
    assert "Personalized retrieval" in body and "Generation\\-based personalization" in body
    provenance = frame_with(at, "agent")
    assert {"Survey authors (Wu et al., 2024)", "awesome-personalized-lmms maintainers"} <= set(provenance["agent"])
    assert "Cited by (1)" in texts(at.subheader) and "Cites (0)" in texts(at.subheader)
    links = {b.proto.label: b.proto.url for b in at.get("link_button")}
    assert links["arXiv"] == "https://arxiv.org/abs/2406.09400"
    assert links["code"].startswith("https://github.com/")


def test_paper_link_with_an_iri_opens_that_paper(app_store):
    at = ok(open_page("papers", id="https://w3id.org/kg-survey/id/work/arxiv/2412.02142"))
    assert [h.replace("\\", "") for h in texts(at.header)] == ["Personalized Multimodal Large Language Models: A Survey"]
    assert "Cites (32)" in texts(at.subheader)


def test_paper_link_with_an_unknown_id_says_so(app_store):
    at = ok(open_page("papers", id="9999.99999"))
    assert any("no paper in the graph has the identifier" in e.value for e in at.error)


def test_curation_from_the_paper_page_survives_a_rebuild(writable_store):
    at = ok(open_page("papers", id="2406.09400"))
    work = "https://w3id.org/kg-survey/id/work/arxiv/2406.09400"
    at.selectbox(key=f"cur_category_{work}").set_value("recommendation")
    at.multiselect(key=f"cur_mechanism_{work}").set_value(["alignment"])
    at.text_input(key="cur_by").set_value("Ada Tester")
    [save] = [b for b in at.button if b.label == "Save decision"]
    save.click()
    ok(at.run())
    assert any("Saved Yo'LLaVA" in s.value for s in at.success)
    decisions = yaml.safe_load((writable_store / "curation.yaml").read_text())["decisions"]
    assert decisions[-1]["category"] == ["recommendation"] and decisions[-1]["by"] == "Ada Tester"
    assert "Personalized recommendation" in " ".join(texts(at.markdown))
    build(writable_store)  # any later rebuild keeps the decision
    at = ok(open_page("papers", id="2406.09400"))
    provenance = frame_with(at, "agent")
    curated = provenance[provenance["agent"] == "Ada Tester"]
    assert {"recommendation", "alignment"} <= set(curated["notation"]) and curated["effective"].all()


def test_paper_page_shows_scope_status_and_relevance(app_store):
    at = ok(open_page("papers", id="2312.04793"))
    shown = " ".join(texts(at.markdown))
    assert "scope undecided" in shown and "relevance" in shown
    assert any("relevance by kg\\-scope" in c or "relevance by kg-scope" in c for c in texts(at.caption))
    at = ok(open_page("papers", id="2410.07113"))
    assert "in scope" in " ".join(texts(at.markdown))
    assert any("Table 1" in c for c in texts(at.caption))


# ---------------------------------------------------------------- screening
def test_screening_page_shows_the_next_work_progress_and_queue(app_store):
    at = ok(open_page("screening"))
    assert texts(at.title) == ["Screening"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Decided"] == "46" and metrics["Undecided"] == "3" and metrics["By people"] == "0"
    assert 0 < float(metrics["Estimated relevant left"]) <= 3
    assert at.subheader[0].value.startswith("Towards Unified Multi-Modal Personalization")
    assert any(p.proto.text.startswith("relevance") for p in at.get("progress"))
    assert any("Predicted labels" in m for m in texts(at.markdown))
    assert {"Include", "Exclude", "Skip for now"} <= {b.label for b in at.button}
    queue = frame_with(at, "relevance")
    assert len(queue) == 3 and list(queue["relevance"]) == sorted(queue["relevance"], reverse=True)


def test_screening_page_records_a_decision_that_survives_a_rebuild(writable_store):
    at = ok(open_page("screening"))
    first = at.subheader[0].value
    at.text_input(key="screen_by").set_value("Dana Tester")
    at.text_input(key="screen_reason").set_value("a recommender, not personalized generation")
    [exclude] = [b for b in at.button if b.label == "Exclude"]
    exclude.click()
    ok(at.run())
    assert any(s.value.startswith("Excluded ") and "Dana Tester" in s.value for s in at.success)
    [d] = yaml.safe_load((writable_store / "curation.yaml").read_text())["decisions"]
    assert d["scope"] == "exclude" and d["by"] == "Dana Tester" and d["reason"].startswith("a recommender")
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Undecided"] == "2" and metrics["By people"] == "1"
    assert at.subheader[0].value != first
    build(writable_store)
    at = ok(open_page("screening"))
    assert {m.label: m.value for m in at.metric}["Undecided"] == "2"


def test_screening_page_skip_until_nothing_is_left(app_store):
    at = ok(open_page("screening"))
    seen = []
    for _ in range(3):
        seen.append(at.subheader[0].value)
        [skip] = [b for b in at.button if b.label == "Skip for now"]
        skip.click()
        at = ok(at.run())
    assert len(set(seen)) == 3
    assert any("Every undecided work was skipped" in i.value for i in at.info)


# ---------------------------------------------------------------- SPARQL
def _run_sparql(at: AppTest, text: str | None = None) -> AppTest:
    if text is not None:
        at.text_area(key="sparql_text").set_value(text)
    [run] = [b for b in at.button if b.label == "Run query"]
    run.click()
    return ok(at.run())


def test_sparql_named_query_results_and_downloads(app_store):
    at = ok(open_page("sparql"))
    at.selectbox(key="sparql_named").set_value("papers-by-cell")
    ok(at.run())
    assert "# title: Papers by taxonomy cell" in at.text_area(key="sparql_text").value
    _run_sparql(at)
    assert "16 rows" in texts(at.caption)
    assert len(at.dataframe[0].value) == 16
    downloads = [d.proto.label for d in at.get("download_button")]
    assert downloads == ["Download CSV", "Download JSON"]


def test_sparql_refuses_updates_and_service(app_store):
    at = open_page("sparql")
    _run_sparql(at, "INSERT DATA { <urn:a> <urn:b> <urn:c> }")
    assert "refused" in at.error[0].value and "read-only" in at.error[0].value
    _run_sparql(at, "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }")
    assert "SERVICE" in at.error[0].value
    _run_sparql(at, "LOAD <http://127.0.0.1:9/x.ttl>")
    assert "refused" in at.error[0].value


def test_sparql_syntax_error_shows_line_and_column(app_store):
    at = open_page("sparql")
    _run_sparql(at, "SELECT ?s WHERE {\n  ?s ?p \n")
    assert re.search(r"SPARQL syntax error at line \d+, column \d+", at.error[0].value)
    assert not at.dataframe


def test_sparql_errors_read_as_words_in_the_app(app_store):
    at = open_page("sparql")
    _run_sparql(at, "SELECT ?x WHERE { ?x a owl:Class }")
    message = at.error[0].value
    assert "prefix owl: is not declared" in message and "PREFIX owl: <http://www.w3.org/2002/07/owl#>" in message
    assert "line 1, column" in message and "u{00B7}" not in message


def test_sparql_parameters_row_limit_and_ask(app_store):
    at = open_page("sparql")
    at.selectbox(key="sparql_named").set_value("paper")
    ok(at.run())
    _run_sparql(at)
    assert "needs a value for ?id" in at.error[0].value
    at.text_input(key="sparql_bind_paper_id").set_value("arXiv:2406.09400v1")
    _run_sparql(at)
    rows = at.dataframe[0].value
    assert "title" in set(rows["property"])
    at.number_input(key="sparql_rows").set_value(5)
    _run_sparql(at, "SELECT ?s WHERE { ?s ?p ?o }")
    assert any("Stopped at 5 rows" in w.value for w in at.warning)
    _run_sparql(at, "ASK { ?w a fabio:ScholarlyWork }")
    assert any("yes" in s.value for s in at.success)


# ---------------------------------------------------------------- reports
def test_reports_preview_and_every_format(app_store):
    at = ok(open_page("reports"))
    assert "Taxonomy gap report" in iframe_html(at)
    buttons = {d.proto.label: d for d in at.get("download_button")}
    assert set(buttons) == {"Markdown", "LaTeX", "HTML", "CSV", "JSON", "BibTeX"}
    assert "25 most relevant works" in " ".join(c.value for c in at.caption)
    at.selectbox(key="report_category").set_value("retrieval")
    ok(at.run())
    assert "Personalized retrieval" in iframe_html(at)


# ---------------------------------------------------------------- a large graph: every work read only when asked
def test_on_a_large_graph_what_reads_every_work_waits_for_a_button_then_is_kept(writable_store, monkeypatch):
    """Above ASK_ABOVE works the report, the combinations and the classifier's suggestion are made
    when asked (a button), then kept beside the generation: a new session shows them at once."""
    import shutil

    from kg.app import data
    from kg.store import StoreDir

    shutil.rmtree(StoreDir(writable_store).current() / "kg-derived", ignore_errors=True)
    monkeypatch.setattr(data, "ASK_ABOVE", 10)
    at = ok(open_page("reports"))
    assert not at.get("iframe") and not at.get("download_button")
    [make] = [b for b in at.button if b.key == "report_make"]
    at = ok(make.click().run())
    assert "Taxonomy gap report" in iframe_html(at)
    # the data exports list every work: they wait for a button of their own
    assert {d.proto.label for d in at.get("download_button")} == {"Markdown", "LaTeX", "HTML", "BibTeX"}
    [make_json] = [b for b in at.button if b.key == "report_make_json"]
    at = ok(make_json.click().run())
    assert {d.proto.label for d in at.get("download_button")} == {"Markdown", "LaTeX", "HTML", "BibTeX", "CSV", "JSON"}
    at = ok(open_page("reports"))  # another session: kept for this generation
    assert "Taxonomy gap report" in iframe_html(at) and not [b for b in at.button if b.key == "report_make"]
    assert len(at.get("download_button")) == 6

    at = ok(open_page("combinations"))
    assert not at.get("vega_lite_chart") and not at.dataframe
    [count] = [b for b in at.button if b.key == "combo_count"]
    at = ok(count.click().run())
    assert at.get("vega_lite_chart") and len(at.dataframe[0].value) > 0
    at = ok(open_page("combinations"))
    assert at.get("vega_lite_chart") and not [b for b in at.button if b.key == "combo_count"]

    at = ok(open_page("screening"))
    suggest = [b for b in at.button if (b.key or "").startswith("screen_suggest_")]
    if suggest:  # the first work has no label in the graph: the classifier's suggestion waits for the button
        assert not any("Predicted labels" in m for m in texts(at.markdown))
        at = ok(suggest[0].click().run())
    assert any("Predicted labels" in m for m in texts(at.markdown))
