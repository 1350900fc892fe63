"""The resolver's invariants: works with different strong ids (arXiv ids, DOIs, S2 ids, OpenAlex ids,
CorpusIds) are never merged; titles only merge when no strong id conflicts and the match is unambiguous;
generic link texts ("Paper", "PDF") are never titles."""

from __future__ import annotations

from kg.harvest.publish import dedupe_works, merge_into
from kg.records.file import write_bundle
from kg.records import Bundle, Source, Work
from kg.records.resolve import Resolver, keys_of
from kg.store import LocalGraph

TITLE = "A Study of Personalized Multimodal Assistants"


def work(title=None, year=2024, source="test", **ids) -> Work:
    return Work(ids={k: v for k, v in ids.items() if v}, sources=[source], title=title, year=year)


def groups(works: list[Work]) -> list[list[int]]:
    """The nodes as lists of record positions, for comparing."""
    index = {id(w): i for i, w in enumerate(works)}
    return sorted(sorted(index[id(r)] for r in node.records) for node in Resolver(works).nodes)


def test_distinct_arxiv_works_sharing_a_title_and_year_stay_apart():
    works = [work(TITLE, arxiv=f"2401.{i:05d}") for i in range(100)]
    assert len(Resolver(works).nodes) == 100
    short = [work("Paper Title", arxiv=f"2402.{i:05d}") for i in range(30)]  # short titles key on the year
    assert len(Resolver(short).nodes) == 30


def test_generic_link_texts_are_never_titles():
    works = [work("Paper", year=2022 + i % 3, arxiv=f"2403.{i:05d}") for i in range(104)]
    assert len(Resolver(works).nodes) == 104
    for text in ("Paper", "[PDF]", "arXiv", "Code 💻", "arXiv 2024", "2406.09400"):
        assert not any(k.startswith("title:") for k in keys_of(work(text))), text
    # two title-only records called "Paper" are two works, not one
    assert len(Resolver([work("Paper", cite=None), work("Paper")]).nodes) == 2
    # a real title from another record of the work wins over the generic one
    node = Resolver([work("PDF", arxiv="2406.09400"), work("Yo'LLaVA", arxiv="2406.09400")]).nodes[0]
    assert node.first("title") == "Yo'LLaVA"


def test_same_doi_different_arxiv_ids_are_two_works_and_keep_the_doi():
    # A DOI shared by two arXiv works is usually a proceedings volume's: the arXiv ids decide.
    works = [work("First Paper On Topic A", arxiv="2401.00001", doi="10.1000/proc.2024"),
             work("Second Paper On Topic B", arxiv="2401.00002", doi="10.1000/PROC.2024")]
    nodes = Resolver(works).nodes
    assert len(nodes) == 2
    assert [n.ids["doi"] for n in nodes] == ["10.1000/proc.2024"] * 2
    # a record with that DOI only is ambiguous: it joins neither
    assert groups(works + [work("Untitled Proceedings Record", doi="10.1000/proc.2024")]) == [[0], [1], [2]]


def test_any_strong_id_conflict_keeps_works_apart_whatever_else_they_share():
    same_title = [work(TITLE, doi="10.1/a"), work(TITLE, doi="10.1/b")]
    assert groups(same_title) == [[0], [1]]
    same_cite = [work("One", cite="smith2020", s2="a" * 40), work("Two", cite="smith2020", s2="b" * 40)]
    assert groups(same_cite) == [[0], [1]]
    shared_arxiv = [work(TITLE, arxiv="2401.00001", openalex="W1"), work(TITLE, arxiv="2401.00001", openalex="W2")]
    assert groups(shared_arxiv) == [[0], [1]]
    nodes = Resolver(shared_arxiv).nodes
    assert nodes[0].iri != nodes[1].iri  # each its own node, the second IRI suffixed


def test_arxiv_versions_and_arxiv_dois_are_one_work():
    works = [work("Yo'LLaVA", arxiv="2406.09400v1"), work("Yo'LLaVA v2", arxiv="2406.09400v2"),
             work(None, doi="10.48550/arXiv.2406.09400"), work(None, arxiv="arXiv:2406.09400", doi="10.5555/nips.1")]
    nodes = Resolver(works).nodes
    assert len(nodes) == 1
    assert nodes[0].iri.endswith("/work/arxiv/2406.09400") and nodes[0].ids["arxiv"] == "2406.09400"


def test_a_chain_through_shared_ids_never_joins_conflicting_ids():
    a = work("Alpha", arxiv="2401.00001", doi="10.1/d")
    b = work("Beta", doi="10.1/d", s2="c" * 40)
    c = work("Gamma", s2="c" * 40, arxiv="2401.00002")
    assert groups([a, b, c]) == [[0, 1], [2]]
    assert groups([c, b, a]) == [[0], [1, 2]]  # the same works together: A and B by the DOI, C apart
    for order in ([a, b, c], [c, b, a], [b, a, c]):
        for node in Resolver(order).nodes:
            assert len({r.ids["arxiv"] for r in node.records if "arxiv" in r.ids}) <= 1


def test_a_title_only_record_merges_into_the_unique_strong_work_with_that_title():
    strong = work(TITLE, arxiv="2401.00001")
    title_only = work(TITLE.upper() + "!", cite="bib-key")
    assert groups([strong, title_only]) == [[0, 1]]
    assert groups([title_only, strong]) == [[0, 1]]
    # two records without strong ids and one title: one work, joined to the strong one too
    assert groups([strong, title_only, work(TITLE)]) == [[0, 1, 2]]


def test_a_title_shared_by_two_strong_works_is_ambiguous_and_merges_nothing():
    one, two = work(TITLE, arxiv="2401.00001"), work(TITLE, arxiv="2401.00002")
    title_only = work(TITLE, cite="bib-key")
    assert groups([one, two, title_only]) == [[0], [1], [2]]
    assert groups([title_only, one, two]) == [[0], [1], [2]]
    doi_only = work(TITLE, doi="10.1/x")  # fits either arXiv work: no arbitrary pick
    assert groups([one, two, doi_only]) == [[0], [1], [2]]


def test_harvest_dedupe_and_merge_keep_same_titled_works_apart(tmp_path):
    works = [work(TITLE, arxiv=f"2401.{i:05d}") for i in range(5)] + [work(TITLE, arxiv="2401.00000v2")]
    kept = dedupe_works(works)
    assert [w.ids["arxiv"] for w in kept] == [f"2401.{i:05d}" for i in range(5)]
    path = tmp_path / "arxiv.jsonl"
    write_bundle(path, Bundle(sources=[Source("test", "t", "t")], works=kept[:3]))
    merged = merge_into(path, Bundle(sources=[Source("test", "t", "t")], works=[work(TITLE, arxiv="2401.00099")]))
    assert sorted(w.ids["arxiv"] for w in merged.works) == ["2401.00000", "2401.00001", "2401.00002", "2401.00099"]


def test_a_work_found_again_by_a_new_run_keeps_its_record_and_the_file_stays_the_same(tmp_path):
    """A second harvest run (a new source id) that finds the same works leaves the record file byte
    for byte as it was, so `kg update` keeps the graph; a changed field or a new candidate is a change."""
    from kg.records.file import holds

    def run(source: str, title: str = TITLE, candidate: bool = False) -> Bundle:
        found = work(title, source=source, arxiv="2401.00001")
        found.candidate = candidate
        return Bundle(sources=[Source(source, "arXiv API", "arXiv API")], works=[found, work("Other", source=source,
                                                                                               arxiv="2401.00002")])

    path = tmp_path / "arxiv.jsonl"
    write_bundle(path, merge_into(path, run("arxiv-1", candidate=True)))
    before = path.read_bytes()
    again = merge_into(path, run("arxiv-2"))  # placed by another input since: still the same record
    assert holds(path, again) and [s.id for s in again.sources] == ["arxiv-1"]
    write_bundle(path, again)
    assert path.read_bytes() == before
    changed = merge_into(path, run("arxiv-3", title=TITLE + " (revised)", candidate=True))
    assert not holds(path, changed) and {s.id for s in changed.sources} == {"arxiv-1", "arxiv-3"}
    assert [w.title for w in changed.works] == [TITLE + " (revised)", "Other"]
    write_bundle(tmp_path / "plain.jsonl", merge_into(tmp_path / "plain.jsonl", run("arxiv-1")))
    now_candidate = merge_into(tmp_path / "plain.jsonl", run("arxiv-4", candidate=True))
    assert not holds(tmp_path / "plain.jsonl", now_candidate) and now_candidate.works[0].candidate


def _bib(entries: list[tuple[str, str, str]]) -> str:
    return "\n".join(f"@article{{{key},\n  title = {{{title}}},\n  year = {{2024}},\n  eprint = {{{arxiv}}}\n}}\n"
                     for key, title, arxiv in entries)


def test_100_same_titled_arxiv_works_stay_100_nodes_after_import_and_build(tmp_path, kg):
    bib = tmp_path / "same.bib"
    bib.write_text(_bib([(f"w{i}", TITLE, f"2405.{i:05d}") for i in range(100)]) +
                   _bib([(f"p{i}", "Paper", f"2312.8{i:04d}") for i in range(104)]), encoding="utf-8")
    store = tmp_path / "store"
    result = kg("import", "bibtex", str(bib), store=store)
    assert result.exit_code == 0, result.output + result.message
    graph = LocalGraph(store)
    n = graph.query(f'SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE {{ ?w dcterms:title "{TITLE}" }}',
                    trusted=True).records()[0]["n"]
    assert n == 100
    ids = graph.query('SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE { ?w kg:arxivId ?a FILTER(STRSTARTS(?a, "2312.8")) }',
                      trusted=True).records()[0]["n"]
    assert ids == 104
