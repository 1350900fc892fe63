"""kg: a knowledge-graph explorer and taxonomy gap analysis tool for research surveys."""

__version__ = "0.1.0"
