"""A file a command is asked to write (--output) is checked before the work, and a failure to
write it is a clear message naming the file, never a traceback (kg.fileio.output_path,
writing_output): kg report, kg report --since, kg diff and kg export alike."""

from __future__ import annotations

import errno

import pytest

from kg import fileio
from kg.build import build


@pytest.fixture
def two_builds(store_copy):
    build(store_copy)  # a previous build for kg diff and --since
    return store_copy


COMMANDS = [("diff", "--format", "md"), ("export", "--format", "ttl"), ("report", "--format", "md"),
            ("report", "--since", "previous", "--format", "md")]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_bad_output_path_is_a_clear_error(kg, two_builds, tmp_path, command):
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    for output, code, said in ((tmp_path / "nodir" / "x.out", 1, "does not exist"),
                               (tmp_path, 2, "is a folder; give a file name such as"),
                               (a_file / "x.out", 1, "is a file, not a folder")):
        result = kg(*command, "--output", str(output), store=two_builds)
        assert result.exit_code == code, (command, output, result.output)
        assert said in result.message and "Traceback" not in result.output
    assert a_file.read_text() == "x"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c[:2]))
def test_a_file_that_cannot_be_written_is_named(kg, two_builds, tmp_path, monkeypatch, command):
    def refused(path, *args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    monkeypatch.setattr(fileio, "atomic_file", refused)
    monkeypatch.setattr(fileio, "write_atomic", refused)
    import kg.output.export as export

    monkeypatch.setattr(export, "atomic_file", refused)
    monkeypatch.setattr(export, "write_atomic", refused)
    target = tmp_path / "out.txt"
    result = kg(*command, "--output", str(target), store=two_builds)
    assert result.exit_code == 1, result.output
    assert f"cannot write {target}: Permission denied" in result.message and "Traceback" not in result.output
    assert not target.exists()
