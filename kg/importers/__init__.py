"""Importing what a survey author already has: a BibTeX bibliography, an awesome-list README.

bibtex.py and awesome.py turn files into kg.records bundles and name every entry they could
not read; text.py makes text plain (no HTML/script) and repairs mojibake.
"""
