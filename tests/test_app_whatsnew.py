"""The app's What's new page: the last snapshot -> now, the cells' count changes and the new works."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from diff_support import make_changed_store


def _script():
    from kg.app.main import run

    run(default="whatsnew")


def test_whats_new_shows_the_diff(store_copy, tmp_path, kg, monkeypatch):
    make_changed_store(store_copy, tmp_path, kg)
    monkeypatch.setenv("KG_STORE", str(store_copy))
    at = AppTest.from_function(_script, default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.selectbox] == ["v1", "current"]
    page = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "From v1 to current: 1 work(s) added" in page
    frame = at.dataframe[0].value
    assert list(frame["title"]) == ["A Brand New Personalized Video Agent"]
    assert list(frame["cells"]) == ["retrieval x alignment"]
    assert "Cells whose counts changed" in [h.value for h in at.subheader]
    assert any("Works removed (1)" in e.label for e in at.expander)


def test_new_works_are_listed_placed_first_then_most_relevant():
    from kg.app.whatsnew import new_work_rows

    def work(label, cells, relevance):
        return {"work": f"https://example.org/{label}", "label": label, "title": label.title(), "id": None,
                "status": "in", "relevance": relevance, "cells": cells, "labels": {}}

    rows = new_work_rows([work("alpha", [], 1.0), work("beta", ["retrieval x alignment"], 0.2),
                          work("gamma", [], None), work("delta", ["recommendation x generation"], 0.9)])
    assert [r["title"] for r in rows] == ["Delta", "Beta", "Alpha", "Gamma"]
    assert list(rows[0])[:3] == ["work", "title", "cells"] and rows[1]["cells"] == "retrieval x alignment"


def test_on_a_large_graph_the_comparison_waits_for_a_button_then_is_kept(store_copy, tmp_path, kg, monkeypatch):
    """Above ASK_ABOVE works the page asks before reading both graphs; once compared, the diff is
    kept with the build, and the next visit shows it at once."""
    from kg.app import data
    from kg.store import Store

    make_changed_store(store_copy, tmp_path, kg)
    monkeypatch.setenv("KG_STORE", str(store_copy))
    monkeypatch.setattr(data, "ASK_ABOVE", 0)
    at = AppTest.from_function(_script, default_timeout=90).run()
    assert not at.exception, [e.value for e in at.exception]
    assert [b.label for b in at.button if b.label == "Compare"] and not at.dataframe
    derived = Store(store_copy).dir.current() / "kg-derived"
    assert not list(derived.glob("view-diff-*")) if derived.is_dir() else True
    next(b for b in at.button if b.label == "Compare").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert list(at.dataframe[0].value["title"]) == ["A Brand New Personalized Video Agent"]
    assert len(list(derived.glob("view-diff-*"))) == 1
    again = AppTest.from_function(_script, default_timeout=90).run()  # a new visit: the kept comparison
    assert not [b for b in again.button if b.label == "Compare"]
    assert list(again.dataframe[0].value["title"]) == ["A Brand New Personalized Video Agent"]
