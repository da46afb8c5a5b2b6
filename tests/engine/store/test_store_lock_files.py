"""A lock path that is a symlink, a directory or a FIFO is refused in one line, and the
file a planted symlink points at is never truncated."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import write_dataset  # noqa: E402

from engine.cli import main  # noqa: E402
from engine.errors import StoreError  # noqa: E402
from engine.store import FileLock, is_locked  # noqa: E402
from engine.store.lock import read_note  # noqa: E402


@pytest.fixture
def project(tmp_path):
    path = tmp_path / "study.adhmr"
    assert main(["init", str(path)]) == 0
    return path


def _error_line(err: str) -> str:
    """The one error line after the progress bar's carriage-return frames."""
    lines = [line for line in err.splitlines() if line.startswith("adhmr")]
    assert len(lines) == 1, err
    return lines[0]


def test_an_import_through_a_symlinked_lock_leaves_its_target_alone(project, tmp_path, body, capsys):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    Path(str(project) + ".lock").symlink_to(victim)
    good, _ = write_dataset(tmp_path, "spin", 2, body)
    capsys.readouterr()
    assert main(["import", str(project), str(good)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "symbolic link" in _error_line(err)
    assert victim.read_text() == "precious\n"


def test_a_directory_at_the_lock_path_is_one_line(project, tmp_path, body, capsys):
    Path(str(project) + ".lock").mkdir()
    good, _ = write_dataset(tmp_path, "spin", 2, body)
    capsys.readouterr()
    assert main(["import", str(project), str(good)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "is a directory" in _error_line(err)


def test_a_fifo_is_refused_without_hanging(tmp_path):
    fifo = tmp_path / "x.lock"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        FileLock(fifo, "test lock").acquire()
    with pytest.raises(StoreError, match="not a regular file"):
        is_locked(fifo)
    assert read_note(fifo) == {}


def test_a_symlink_is_refused_by_every_reader(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text('{"pid": 1}')
    link = tmp_path / "x.lock"
    link.symlink_to(victim)
    with pytest.raises(StoreError, match="symbolic link"):
        is_locked(link)
    assert read_note(link) == {}
    assert victim.read_text() == '{"pid": 1}'
