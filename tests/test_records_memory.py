"""Records take little memory: no per-instance dictionary, and the short texts JSON repeats on every
line (axes, concepts, sources, agents, identifier kinds, author names) shared between records,
which is what keeps `kg build`'s peak at 100,000 papers under its target (docs/benchmarks.md)."""

from __future__ import annotations

import copy
import json
import pickle

from kg.records import Author, Bundle, Citation, Dataset, EntityMention, Label, Source, Work
from kg.records.file import read_bundle, write_bundle

LONG = "An abstract that is long enough to be unique to its paper, as abstracts are, " * 2


def _line(n: int) -> dict:
    return {"type": "work", "ids": {"arxiv": f"2401.0000{n}"}, "sources": ["harvest-1"],
            "title": f"Paper {n}", "abstract": LONG, "venue": "NeurIPS",
            "authors": [{"name": "Ada Lovelace", "ids": {"s2": "12345"}}],
            "labels": [{"axis": "category", "value": "retrieval", "source": "harvest-1",
                        "agent": "kg-classifier 1.0", "confidence": 0.7}]}


def test_repeated_short_texts_are_one_object_and_long_texts_stay_apart(tmp_path):
    path = tmp_path / "records.jsonl"
    # each line decoded on its own, as JSON gives every occurrence its own string
    path.write_text("".join(json.dumps(_line(n)) + "\n" for n in range(2)), encoding="utf-8")
    first, second = read_bundle(path).works
    a, b = first.labels[0], second.labels[0]
    assert (a.axis, a.value, a.source, a.agent) == ("category", "retrieval", "harvest-1", "kg-classifier 1.0")
    for x, y in ((a.axis, b.axis), (a.value, b.value), (a.source, b.source), (a.agent, b.agent),
                 (first.sources[0], second.sources[0]), (first.venue, second.venue),
                 (first.authors[0].name, second.authors[0].name),
                 (next(iter(first.ids)), next(iter(second.ids))),
                 (first.authors[0].ids["s2"], second.authors[0].ids["s2"])):
        assert x is y
    assert first.abstract == second.abstract and first.abstract is not second.abstract
    assert first.ids != second.ids and first.title != second.title


def test_records_keep_no_instance_dictionary_and_still_copy_and_round_trip(tmp_path):
    work = Work(ids={"doi": "10.1/x"}, sources=["s"], title="T", authors=[Author("A", {"s2": "1"})],
                labels=[Label("category", "retrieval", "s")],
                mentions=[EntityMention("method", "uses", "LoRA", "lora", "s")])
    records = [work, Source("s", "S", "a"), Dataset("D", ["s"]), Citation("doi:10.1/x", "doi:10.1/y", "s"),
               *work.authors, *work.labels, *work.mentions]
    for record in records:
        assert not hasattr(record, "__dict__"), type(record).__name__
        assert pickle.loads(pickle.dumps(record)) == record
        assert copy.deepcopy(record) == record
    path = tmp_path / "records.jsonl"
    write_bundle(path, Bundle(sources=[records[1]], works=[work], datasets=[records[2]], citations=[records[3]]))
    again = read_bundle(path)
    assert (again.works, again.sources, again.datasets, again.citations) == ([work], [records[1]], [records[2]], [records[3]])
