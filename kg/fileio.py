"""Writing a file so that a kill or a full disk never leaves half of it, and locking a file
between processes: the one way kg writes the files it keeps, and the one lock it takes.

    write_atomic(path, text_or_bytes)          # the whole file at once
    with atomic_file(path) as fh:              # a writer that streams into it
        fh.write(...)
    with file_lock(folder / ".lock"):          # one writer at a time, across processes
        ...
    path = output_path(given, "gaps.md")       # a file a user asked for, checked before the work
    write_output(path, text)                   # written atomically; failures said as a KgError

Both atomic forms write a temporary file in the same folder (`.<name>.<random>.<pid>.tmp`),
fsync it and rename it over `path` with os.replace, so a reader sees the old file or the
new one, never a mix. On any error the temporary file is removed and `path` is as it was.
A temporary file whose writer was killed is removed by `remove_stale_temp_files`.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO


def _temp_path(path: Path) -> Path:
    """A fresh temporary name beside `path`; the pid second to last (see remove_stale_temp_files)."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.{os.getpid()}.tmp")


@contextlib.contextmanager
def atomic_file(path: str | Path, mode: str = "w", *, encoding: str = "utf-8",
                newline: str | None = None) -> Iterator[IO]:
    """An open temporary file (mode "w" for text, "wb" for bytes) that replaces `path` when
    the block ends without an error; `newline` as for open() ("" keeps line ends as written)."""
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_file writes a whole file: mode 'w' or 'wb', not {mode!r}")
    path = Path(path)
    tmp = _temp_path(path)
    text = mode == "w"
    try:
        # O_EXCL: never write through a file (or link) that is already there; 0o666 less the umask,
        # as open() would create it
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with open(fd, mode, encoding=encoding if text else None, newline=newline if text else None) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:  # a full disk, a kill, an error of the caller's: no half-written copy is left
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_atomic(path: str | Path, data: str | bytes, *, encoding: str = "utf-8", newline: str | None = None) -> None:
    """Write `data` (text or bytes) as the whole of `path`, atomically."""
    with atomic_file(path, "wb" if isinstance(data, bytes) else "w", encoding=encoding, newline=newline) as fh:
        fh.write(data)


def need_file(path: Path, field: str | None = None) -> Path:
    """`path`, when it is a file a command is to read; else a UsageError saying what stands there
    instead (nothing, or a folder)."""
    from .errors import UsageError

    if path.is_dir():
        raise UsageError(f"{path} is a folder; give a file", field=field)
    if not path.is_file():
        raise UsageError(f"{path}: no such file", field=field)
    return path


def output_path(given: str | Path, example: str = "output") -> Path:
    """The file a user asked a command to write (`--output`), checked before any work is done: a
    folder, a folder that does not exist or a file standing where a folder should are said as a
    KgError naming the path (`example`: a file name to suggest inside a folder given instead)."""
    from .errors import KgError, UsageError

    path = Path(given).expanduser()
    if path.is_dir():
        raise UsageError(f"the output {path} is a folder; give a file name such as {path / example}", field="output")
    parent = path.parent
    if not parent.exists():
        raise KgError(f"cannot write {path}: the folder {parent} does not exist", field="output")
    if not parent.is_dir():
        raise KgError(f"cannot write {path}: {parent} is a file, not a folder", field="output")
    return path


@contextlib.contextmanager
def writing_output(path: Path) -> Iterator[None]:
    """Around writing the file a user asked for: a failure of the system (no permission, a
    read-only disk, a full one) becomes a KgError saying which file could not be written, and
    nothing is left half written (the writes are atomic)."""
    from .errors import KgError

    try:
        yield
    except OSError as exc:
        raise KgError(f"cannot write {path}: {exc.strerror or exc}", field="output") from None


def write_output(path: Path, data: str | bytes, **options) -> None:
    """write_atomic for a file a user asked for (see writing_output)."""
    with writing_output(path):
        write_atomic(path, data, **options)


@contextlib.contextmanager
def file_lock(lock_path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock (fcntl.flock) on `lock_path`, created if missing, for the block:
    a second process (or thread) taking the same lock waits until the first leaves its block."""
    lock_path = Path(lock_path)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


STALE_AFTER_S = 24 * 3600  # a writer whose process id was reused is not waited for longer than this


def remove_stale_temp_files(folder: Path, pattern: str = "*.jsonl.*.tmp") -> list[Path]:
    """Remove the temporary files matching `pattern` (`….<pid>.tmp`: ours, and the
    `<name>.<pid>.tmp` of earlier versions) left by writers that died mid-write (their process
    is gone, or the file is older than a day); a running writer's file is left alone."""
    removed = []
    for tmp in folder.glob(pattern):
        pid = tmp.name.rsplit(".", 2)[-2] if tmp.name.count(".") >= 2 else ""
        if not pid.isdigit() or int(pid) == os.getpid() or not tmp.is_file():
            continue  # not a temporary file of ours, or this process is writing it
        try:
            fresh = time.time() - tmp.stat().st_mtime < STALE_AFTER_S
        except OSError:
            continue
        if fresh and _alive(int(pid)):
            continue
        with contextlib.suppress(OSError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True
