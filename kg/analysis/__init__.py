"""Gap, citation and method-combination analytics: pure functions returning data.

Every function takes `source`: a graph (kg.store.LocalGraph, or anything with
`.query`) or a `Corpus` from `load_corpus(graph)`. The graph is read only through the
`analysis-*` named SPARQL queries (kg/queries/); pass a Corpus when calling several
functions so the graph is queried once. Nothing here prints, draws or writes files;
the CLI (`kg gaps`), the reports (kg.report) and the app all call these. Bad input
(unknown category, --by, kind or method) raises kg.errors.UsageError naming the valid
values. An empty graph gives empty frames (and summary()["note"] says why).

What counts: works the graph marks out of scope (`kg:scopeStatus "out"`) are never
loaded, so they count nowhere. Every count splits into asserted works (the survey's
table, a curated list, a person's curation) and predicted ones (the classifier alone),
and a prediction counts only at or above the corpus's min_confidence (MIN_CONFIDENCE =
0.5 unless load_corpus(graph, min_confidence=...) says otherwise); see COUNT_EXPLANATION.

Public API (stable)
-------------------
Loading
    load_corpus(graph, min_confidence=None) -> Corpus (a Corpus passes through, re-counted
        for another min_confidence); with_min_confidence(corpus, t) -> Corpus;
    load_taxonomy(graph) -> Corpus without works (concepts and axis names only: two small queries);
    load_citation_corpus(graph) -> Corpus of works (slim columns), citations and taxonomy only
        Corpus fields (DataFrames): works [work, label, title, year, venue, arxiv, doi,
        cite, url, code, citation_count, category, candidate, review, surveyed (in the
        survey's own table or cited by it), authors, predicted (category predicted),
        confidence], links [work, kind, concept, notation, label, predicted, confidence,
        review] (kind: category, mechanism, input, output, task, metric, dataset, method),
        concepts [axis, concept, notation, label, order], edges [citing, cited], datasets
        [dataset, name, year], matches [work, match], held (predicted links below
        min_confidence: they count nowhere), min_confidence. Helpers: .labels(),
        .axis(name), .notation_labels(axis), .kind(name), .concepts_by_work(kind),
        .predicted_links(kind), .is_empty.

Gaps (kg.analysis.gaps)
    gap_matrix(source, by=None|"modality"|"year", *, category=None, thin_ratio=0.5)
        -> DataFrame, one row per cell, empty cells included: category, category_label,
        mechanism, mechanism_label, [modality, modality_label | year], count (= asserted +
        predicted), asserted, predicted, expected, ratio, score, status ("empty" | "thin" |
        "ok"), asserted_expected, asserted_status (by asserted works alone), papers
        (labels), works (IRIs), predicted_works ({IRI: confidence}).
    gap_pivot(cells, value="count", columns="mechanism") -> DataFrame (category x mechanism)
    empty_cells(source, *, category=None, nearest=3) -> gap_matrix rows + note (gap_note:
        'empty', 'empty in the asserted evidence, 2 predicted', ...) + nearest (list of dicts);
        a cell empty by its total or by its asserted works
    thin_cells(source, *, category=None, nearest=3, thin_ratio=0.5) -> same shape
    nearest_papers(source, category, mechanism, k=3)
        -> [{work, label, year, category, mechanisms, shares}]
    trends(source, *, category=None, window=2, margin=0.15) -> DataFrame: category,
        mechanism, total, asserted, predicted, by_year {year: n}, first_year, last_year, slope, recent_share,
        field_recent_share, trend ("empty" | "new" | "growing" | "fading" | "steady")
    year_counts(source) -> DataFrame: year, works, in_taxonomy, predicted, surveyed, candidates
    dataset_gaps(source) -> DataFrame: axis ("category" | "task"), notation, label, works,
        predicted, datasets (names), gap (bool)
    modality_gaps(source) -> DataFrame: modality, label, input, output, works, asserted,
        predicted, categories {category: n}, missing_categories, status ("absent" | "input
        only" | "output only" | "covered"), asserted_status
    summary(source) -> dict: works, in_taxonomy, placed_asserted, placed_predicted,
        surveyed, candidates, citations, datasets, cells, filled, empty, thin,
        asserted_filled, asserted_empty, asserted_thin, predicted_labels, held_back,
        needs_review, min_confidence, years [first, last], enough (bool), note (str)
    SCORE_EXPLANATION, COUNT_EXPLANATION (str): how expected and score are computed; what
        counts as asserted and predicted

Citations (kg.analysis.citations)
    citation_graph(source) -> nx.DiGraph (citing -> cited); node attrs label, title, year,
        category, candidate, surveyed, review, citation_count
    pagerank_scores(source_or_digraph, alpha=0.85) -> {work: score}
    communities(source_or_digraph, seed=0, resolution=1.0) -> [set(work)], largest first
    citation_metrics(source, seed=0, *, with_communities=True) -> DataFrame: work, label,
        year, category, candidate, surveyed, review, cited_by, references, pagerank,
        community, citation_count (sorted by pagerank)
    bridge_papers(source, min_categories=2) -> DataFrame: work, label, category, review,
        degree, categories {category: n}, spread, bridge (participation coefficient)
    cocitation(source, min_count=1) -> DataFrame: a, b, a_label, b_label, count
    bibliographic_coupling(source, min_count=1) -> DataFrame: a, b, a_label, b_label, count
    coverage_audit(source) -> DataFrame: work, label, title, year, venue,
        cited_by_surveyed, cites_surveyed, possible_match_for (labels), score

Combinations (kg.analysis.combinations)
    concept_occurrences(source, kinds=None) -> DataFrame: work, kind, key, notation, label
        (key = "kind:notation")
    cooccurrence_matrix(source, kinds=None) -> square DataFrame over keys (diagonal =
        papers per concept)
    cooccurrence_graph(source, kinds=None) -> nx.Graph; node attrs kind, label, count;
        edge attr weight
    unexplored_combinations(source, kinds=None, *, min_support=2, method="adamic_adar",
        top=None) -> DataFrame: a, b, a_kind, b_kind, a_label, b_label, a_count, b_count,
        expected, common, adamic_adar, resource_allocation, jaccard, score
    DEFAULT_KINDS, METHODS, COMBINATION_EXPLANATION (str)

Reports live in kg.report (build_report / render / write_report).
"""

# Loaded on first use (PEP 562), so that a command reading store aggregates (kg gaps:
# kg.analysis.gap_counts) does not pay for pandas, networkx and igraph.
_HOMES = {
    "citations": ("bibliographic_coupling", "bridge_papers", "citation_graph", "citation_metrics", "cocitation",
                  "communities", "coverage_audit", "pagerank_scores"),
    "combinations": ("DEFAULT_KINDS", "METHODS", "concept_occurrences", "cooccurrence_graph", "cooccurrence_matrix",
                     "unexplored_combinations"),
    "data": ("KINDS", "MIN_CONFIDENCE", "Corpus", "load_citation_corpus", "load_corpus", "load_taxonomy",
             "with_min_confidence"),
    "gaps": ("BY_CHOICES", "COUNT_EXPLANATION", "SCORE_EXPLANATION", "dataset_gaps", "empty_cells", "gap_matrix",
             "gap_note", "gap_pivot", "modality_gaps", "nearest_papers", "summary", "thin_cells", "trends",
             "year_counts"),
}
_HOME = {name: module for module, names in _HOMES.items() for name in names}


def __getattr__(name: str):
    if name == "COMBINATION_EXPLANATION":
        from .combinations import SCORE_EXPLANATION

        return SCORE_EXPLANATION
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{_HOME[name]}"), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "BY_CHOICES", "COMBINATION_EXPLANATION", "COUNT_EXPLANATION", "DEFAULT_KINDS", "KINDS", "METHODS",
    "MIN_CONFIDENCE", "SCORE_EXPLANATION",
    "Corpus", "bibliographic_coupling", "bridge_papers", "citation_graph", "citation_metrics", "cocitation",
    "communities", "concept_occurrences", "cooccurrence_graph", "cooccurrence_matrix", "coverage_audit",
    "dataset_gaps", "empty_cells", "gap_matrix", "gap_note", "gap_pivot", "load_citation_corpus", "load_corpus", "load_taxonomy", "modality_gaps",
    "nearest_papers", "pagerank_scores", "summary", "thin_cells", "trends", "unexplored_combinations",
    "with_min_confidence", "year_counts",
]
