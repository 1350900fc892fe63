"""SPARQL text, the guard, query results and kg's named queries."""
