"""Writing what kg knows to files and terminals: CSV, tables, RDF exports, reference lists."""
