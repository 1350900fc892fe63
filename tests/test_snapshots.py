"""Snapshots: a manifest naming a generation, kept by pruning; the previous build is remembered."""

from __future__ import annotations

import json

from kg.build import build
from kg.store import KEEP_GENERATIONS, LocalGraph, Store
from kg.store.snapshots import resolve, snapshots


def _generations(path):
    return sorted(p.name for p in path.glob("gen-*") if p.is_dir())


def test_a_snapshot_keeps_its_generation_through_later_builds(store_copy, kg):
    first = Store.at(store_copy).dir.current().name
    result = kg("snapshot", "create", "v1", "--note", "as submitted", store=store_copy)
    assert result.exit_code == 0, result.output
    manifest = json.loads((store_copy / "snapshots" / "v1.json").read_text())
    assert manifest["generation"] == first and manifest["note"] == "as submitted"
    for _ in range(KEEP_GENERATIONS + 1):
        build(store_copy)
    gens = _generations(store_copy)
    assert first in gens  # pinned by the snapshot
    assert len(gens) == KEEP_GENERATIONS + 1  # the others are pruned as before
    # the snapshot's graph opens read-only beside the current one
    old = Store.at(store_copy).open_at(first)
    assert old.generation.name == first and old.triple_count() == LocalGraph(store_copy).triple_count()
    listed = kg("snapshot", "list", "--json", store=store_copy)
    assert [s["name"] for s in json.loads(listed.output)] == ["v1"]
    # deleting it lets the next build prune the generation
    assert kg("snapshot", "delete", "v1", store=store_copy).exit_code == 0
    build(store_copy)
    assert first not in _generations(store_copy)
    assert snapshots(store_copy) == []


def test_every_build_remembers_the_previous_generation(store_copy):
    store = Store.at(store_copy)
    before = store.dir.current().name
    build(store_copy)
    ref = resolve(store, "previous")
    assert ref.generation == before and before in _generations(store_copy)
    assert resolve(store, "current").generation == store.dir.current().name != before


def test_bad_snapshot_names_and_references_are_clear_errors(store_copy, kg):
    for bad in ("current", "previous", "gen-1", "a/b", "", ".x"):
        result = kg("snapshot", "create", bad, store=store_copy)
        assert result.exit_code == 2 and "cannot name a snapshot" in result.message, (bad, result.output)
    assert kg("snapshot", "create", "v1", store=store_copy).exit_code == 0
    again = kg("snapshot", "create", "v1", store=store_copy)
    assert again.exit_code == 2 and "exists already" in again.message
    assert kg("snapshot", "create", "v1", "--replace", store=store_copy).exit_code == 0
    missing = kg("snapshot", "delete", "nope", store=store_copy)
    assert missing.exit_code == 2 and "no snapshot called 'nope'" in missing.message and "v1" in missing.message
    assert [s.name for s in snapshots(store_copy)] == ["v1"]  # nothing lost


def test_snapshots_are_refused_on_a_remote_store(kg):
    result = kg("snapshot", "create", "v1", store="http://127.0.0.1:9/query")
    assert result.exit_code != 0 and "local store only" in result.message and result.exception is not None
    assert "Traceback" not in result.output


def _pin_then_damage(store_copy, kg, damage: str) -> str:
    """A snapshot of the graph now whose manifest is then overwritten with `damage`."""
    first = Store.at(store_copy).dir.current().name
    assert kg("snapshot", "create", "submitted", store=store_copy).exit_code == 0
    (store_copy / "snapshots" / "submitted.json").write_text(damage.replace("GEN", first))
    return first


def test_a_damaged_manifest_keeps_every_generation_until_it_is_mended_or_deleted(store_copy, kg):
    """A manifest cut or edited into something unreadable: what it named is unknown, so no build
    prunes anything; the snapshot is named in the list, refused by diff with the reason, and
    can be replaced or deleted (then pruning goes on as before)."""
    first = _pin_then_damage(store_copy, kg, "{")
    for _ in range(KEEP_GENERATIONS + 2):
        build(store_copy)
    gens = _generations(store_copy)
    assert first in gens and len(gens) == KEEP_GENERATIONS + 3  # nothing pruned
    listed = kg("snapshot", "list", store=store_copy)
    assert listed.exit_code == 0 and "'submitted'" in listed.stderr and "cannot be read" in listed.stderr
    assert json.loads(kg("snapshot", "list", "--json", store=store_copy).stdout) == []
    diffed = kg("diff", "submitted", store=store_copy)
    assert diffed.exit_code == 1 and "snapshot 'submitted' cannot be read" in diffed.message
    again = kg("snapshot", "create", "submitted", store=store_copy)
    assert again.exit_code == 2 and "damaged manifest" in again.message and "--replace" in again.message
    assert kg("snapshot", "delete", "submitted", store=store_copy).exit_code == 0
    build(store_copy)
    assert first not in _generations(store_copy)
    assert len(_generations(store_copy)) == KEEP_GENERATIONS


def test_a_damaged_manifest_that_still_names_its_generation_pins_only_that_one(store_copy, kg):
    first = _pin_then_damage(store_copy, kg, '{"name": "submitted", "generation": "GEN", "crea')
    for _ in range(KEEP_GENERATIONS + 2):
        build(store_copy)
    gens = _generations(store_copy)
    assert first in gens and len(gens) == KEEP_GENERATIONS + 1  # the others are pruned as before
    assert kg("snapshot", "create", "submitted", "--replace", store=store_copy).exit_code == 0
    assert [s.name for s in snapshots(store_copy)] == ["submitted"]


def test_a_manifest_cut_inside_its_generations_name_pins_them_all(store_copy, kg):
    """'gen-...-4242-123' of 'gen-...-4242-12340' is legible but names no folder: it pins nothing,
    so the manifest is taken as unreadable, and no build prunes anything."""
    first = Store.at(store_copy).dir.current().name
    _pin_then_damage(store_copy, kg, '{"name": "submitted", "generation": "' + first[:-2])
    for _ in range(KEEP_GENERATIONS + 2):
        build(store_copy)
    gens = _generations(store_copy)
    assert first in gens and len(gens) == KEEP_GENERATIONS + 3
