"""Named snapshots of a local store's graph: a manifest naming a generation, which pruning keeps.

    <store>/snapshots/<name>.json   {"name", "generation", "created", "note", "kind", "built_at"}

A snapshot copies nothing: it names the generation folder that was current when it was taken,
and kg.store.local's pruning keeps every generation a manifest names (and, besides, the current
generation and the one before it). Manifests are written whole and renamed, under the same lock
pruning takes, so a snapshot never names a generation a concurrent build is removing.

References a caller may give (`resolve`): a snapshot's name, `current` (the graph now),
`previous` (the generation before the current build: "since the last build"), or a generation
folder's own name (gen-...). A remote store has no generation folders: snapshots are refused
there with a local-only message (Store.require_local).
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import KgError, UsageError
from ..fileio import file_lock, write_atomic

FOLDER = "snapshots"
LOCK = ".snapshots.lock"
CURRENT_REF = "current"
PREVIOUS_REF = "previous"
RESERVED = (CURRENT_REF, PREVIOUS_REF, "now")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
LOCAL_ONLY_HINT = ("Snapshots name generation folders of a local store; keep the endpoint's graph as a local "
                   "store too (`kg --store DIR build`) to follow its changes.")


@dataclass
class Snapshot:
    """One named state of the graph: the generation it names and what it held then."""

    name: str
    generation: str
    created: str
    note: str = ""
    kind: str = "manual"  # manual (kg snapshot create) | update (kg update)
    built_at: str | None = None  # when the generation was built

    def as_dict(self) -> dict:
        return asdict(self)


def folder(store_path: Path) -> Path:
    return Path(store_path) / FOLDER


def _read(path: Path) -> Snapshot | None:
    """The manifest at `path`; None when there is none or it cannot be read (see damaged)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        snap = Snapshot(**{k: data[k] for k in Snapshot.__dataclass_fields__ if k in data})
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return snap if isinstance(snap.generation, str) and isinstance(snap.name, str) else None


def _manifests(store_path: Path) -> list[tuple[Path, Snapshot | None]]:
    """Every manifest file of the store, each read once: (its path, its snapshot or None)."""
    return [(p, _read(p)) for p in sorted(folder(store_path).glob("*.json")) if p.is_file()]


def snapshots(store_path: Path) -> list[Snapshot]:
    """Every snapshot of the store whose manifest can be read, oldest first (the others: damaged)."""
    found = [snap for _, snap in _manifests(store_path) if snap is not None]
    return sorted(found, key=lambda s: (s.created, s.name))


def damaged(store_path: Path) -> list[Path]:
    """The manifests that are there but cannot be read (cut, edited by hand, not JSON). What they
    named is not known, so pruning keeps every generation they may name (pinned_generations),
    and `kg snapshot list` names them; `kg snapshot delete NAME` removes one."""
    return [path for path, snap in _manifests(store_path) if snap is None]


_GENERATION = re.compile(r"gen-[0-9]{8}T[0-9]{6}-[0-9]+-[0-9]+")


def pinned_generations(store_path: Path) -> set[str] | None:
    """The generation folders snapshots name (kept by pruning). A damaged manifest pins the
    generation whose whole name is still legible in it; one in which no such name (or more than
    one) is legible pins them all: None, nothing may be pruned (a snapshot's graph is never
    removed because its manifest was cut)."""
    manifests = _manifests(store_path)
    pinned = {snap.generation for _, snap in manifests if snap is not None}
    existing = {p.name for p in Path(store_path).glob("gen-*") if p.is_dir()}
    for path in (path for path, snap in manifests if snap is None):
        try:
            legible = set(_GENERATION.findall(path.read_text(encoding="utf-8", errors="replace")))
        except OSError:
            legible = set()
        legible &= existing  # a name cut short ('...-123' of '...-12340') names no folder: it pins nothing
        if len(legible) != 1:
            return None
        pinned |= legible
    return pinned


def _damaged_hint(path: Path) -> str:
    return (f"Its manifest {path} cannot be read, so kg keeps every generation it may name. Mend the file "
            f"(JSON naming its generation), or remove the snapshot with `kg snapshot delete {path.stem}`.")


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME.match(name) or name.lower() in RESERVED or name.startswith("gen-"):
        raise UsageError(f"{name!r} cannot name a snapshot: use letters, digits, '.', '_' and '-' (up to 80, "
                         f"starting with a letter or digit), and none of {', '.join(RESERVED)} or gen-...",
                         field="name")
    return name


def create(store, name: str, note: str = "", kind: str = "manual", replace: bool = False) -> Snapshot:
    """Name the current generation of `store` (a kg.store.Store). A name already taken is refused
    unless `replace`."""
    store.require_local("a snapshot", hint=LOCAL_ONLY_HINT)
    name = check_name(name)
    with file_lock(store.path / LOCK):
        current = store.dir.current()
        if current is None:
            raise KgError(f"no graph in {store.path} yet: nothing to snapshot", hint="Run `kg build` first.",
                          field="store")
        path = folder(store.path) / f"{name}.json"
        if path.exists() and not replace:
            known = _read(path)
            if known is None:
                raise UsageError(f"a snapshot called {name!r} exists already, with a damaged manifest",
                                 hint=_damaged_hint(path) + " Or take it anew with --replace.", field="name")
            raise UsageError(f"a snapshot called {name!r} exists already (generation {known.generation})",
                             hint="Pick another name, or delete it first with `kg snapshot delete`.", field="name")
        snap = Snapshot(name=name, generation=current.name, created=time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                        note=note, kind=kind, built_at=store.dir.generation_info(current.name).get("built_at"))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, json.dumps(snap.as_dict(), indent=1, ensure_ascii=False))
    return snap


def delete(store, name: str) -> Snapshot:
    """Remove a snapshot's manifest; its generation goes at the next build's pruning (unless the
    current one, the previous one or another snapshot's)."""
    store.require_local("a snapshot", hint=LOCAL_ONLY_HINT)
    path = folder(store.path) / f"{name}.json"
    named = bool(NAME.match(name or "")) and path.is_file()
    snap = _read(path) if named else None
    if not named:
        raise UsageError(f"no snapshot called {name!r}", hint=_known(store), field="name")
    if snap is None:  # a damaged manifest: removed all the same (what it named is kept until then)
        snap = Snapshot(name=name, generation="unknown: its manifest was damaged", created="")
    with file_lock(store.path / LOCK):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    return snap


def _known(store) -> str:
    names = [s.name for s in snapshots(store.path)] + [f"{p.stem} (damaged)" for p in damaged(store.path)]
    return ("Snapshots: " + ", ".join(names) + ".") if names else "There are no snapshots yet (`kg snapshot create NAME`)."


def latest(store) -> Snapshot | None:
    """The newest snapshot (None: there is none)."""
    found = snapshots(store.path)
    return found[-1] if found else None


@dataclass
class Ref:
    """A resolved reference: the generation it names and how to call it."""

    label: str
    generation: str
    created: str | None = None


def resolve(store, ref: str | None, *, default: str = CURRENT_REF, field: str = "ref") -> Ref:
    """A snapshot name, `current`, `previous` or a generation folder -> the generation it names."""
    store.require_local("comparing snapshots", hint=LOCAL_ONLY_HINT)
    ref = (ref or default).strip()
    current = store.dir.current()
    if current is None:
        raise KgError(f"no graph in {store.path} yet", hint="Run `kg build` first.", field="store")
    if ref.lower() in (CURRENT_REF, "now"):
        return Ref(CURRENT_REF, current.name, store.dir.generation_info(current.name).get("built_at"))
    if ref.lower() == PREVIOUS_REF:
        previous = store.dir.generation_info(current.name).get("previous")
        if not previous or store.dir.generation(previous) is None:
            raise KgError("there is no previous build to compare with (the store has one build so far)",
                          hint="Build again after a change, or name a snapshot.", field=field)
        return Ref(f"{PREVIOUS_REF} ({previous})", previous, store.dir.generation_info(previous).get("built_at"))
    if ref.startswith("gen-"):
        if store.dir.generation(ref) is None:
            raise KgError(f"no generation {ref!r} in {store.path} (removed, or never published)", field=field)
        return Ref(ref, ref, store.dir.generation_info(ref).get("built_at"))
    path = folder(store.path) / f"{ref}.json"
    snap = _read(path) if NAME.match(ref) else None
    if snap is None and NAME.match(ref) and path.is_file():
        raise KgError(f"snapshot {ref!r} cannot be read", hint=_damaged_hint(path), field=field)
    if snap is None:
        raise UsageError(f"no snapshot called {ref!r}", hint=_known(store), field=field)
    if store.dir.generation(snap.generation) is None:
        raise KgError(f"snapshot {ref!r} names generation {snap.generation}, which is no longer on disk",
                      hint="Delete the snapshot (`kg snapshot delete`) and take a new one.", field=field)
    return Ref(ref, snap.generation, snap.created)
