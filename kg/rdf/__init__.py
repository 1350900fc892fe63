"""The RDF side of kg: vocabulary, taxonomy, quads written from records, SHACL validation."""
