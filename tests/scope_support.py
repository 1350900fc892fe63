"""People's scope decisions written into a store's curation.yaml, for tests that build graphs with
works out of scope (and works a person included)."""

from __future__ import annotations


def write_scope_decisions(store, exclude=(), include=(), *, by: str = "tester", reason: str | None = None,
                          include_by: str | None = None) -> None:
    """Decisions on the works with these arXiv ids: `exclude`d by `by` (with `reason`, when given),
    `include`d by `include_by` (else `by`)."""
    why = f", reason: {reason}" if reason else ""
    lines = ["decisions:"]
    lines += [f"- {{work: {{arxiv: '{a}'}}, scope: exclude, by: {by}{why}}}" for a in exclude]
    lines += [f"- {{work: {{arxiv: '{a}'}}, scope: include, by: {include_by or by}}}" for a in include]
    (store / "curation.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
