"""Harvesting papers from arXiv, Semantic Scholar and OpenAlex into record files.

- http.py: the polite client (rate limit, retries with backoff and Retry-After, timeouts,
  user agent, logging) every source uses; cache.py: the on-disk response cache.
- arxiv.py, s2.py, openalex.py: one client per source and its conversion into kg.records
  (arXiv through the `arxiv` package's Client and Result, S2 answers through the
  `semanticscholar` package's Paper/Citation/Reference models; the transport is http.py's).
- jobs.py: resumable checkpoints; publish.py: merge into <store>/records, rebuild the graph.
- run.py: the harvests (`harvest_arxiv`, `harvest_s2` with snowballing, `harvest_openalex`).
- cli.py: `kg harvest ...` and `kg import ...`.
Nothing here runs at import time.
"""
