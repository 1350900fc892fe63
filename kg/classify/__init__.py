"""Placing papers in the survey taxonomy, with confidence and provenance.

- text: cleaning and tokenising titles and abstracts
- lexicon: the transparent layer (terms from the taxonomy's SKOS labels and dataset names)
- model: the learned layer (TF-IDF + logistic regression) and the calibrated combination
- embeddings: the optional sentence-embedding layer (`pip install kg[embeddings]`)
- data: what the classifier reads from the graph (named queries)
- run: classifying the graph's papers into a record file; classifying free text
- delta: publishing the record file's change alone on the current graph (no full rebuild)
- evaluate: cross-validated accuracy / macro-F1 and throughput
- curation: people's decisions (curation.yaml), which always win
- relevance: the scope model (how relevant a work looks to the survey's field)
- screen: screening undecided works (include / exclude, active learning) and its simulation
- attach: label-only records attach to known works at build time
- cli: `kg classify` and `kg curate`

Importing this package is cheap: scikit-learn loads only when a model is trained.
"""
