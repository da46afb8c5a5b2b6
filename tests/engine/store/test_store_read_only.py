"""Projects that cannot be written: on a read-only medium they are listed, viewed and
exported; a write is one line; a file whose tables do not match its recorded schema
revision is refused in one line on every open, leaving no backup copies behind."""

import hashlib
import os
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import write_dataset  # noqa: E402

from engine import store as st  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.errors import StoreError  # noqa: E402
from engine.store import project as project_module  # noqa: E402


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def project(tmp_path, body):
    path = tmp_path / "study.adhmr"
    source, _ = write_dataset(tmp_path, "spin", 2, body)
    assert main(["init", str(path)]) == 0
    assert main(["import", str(path), str(source), "--name", "d"]) == 0
    with st.Project.open(path):  # checkpoint the WAL into the file, as a copied medium holds it
        pass
    return path, source


@pytest.fixture
def read_only_medium(monkeypatch):
    """Nothing is writable (tests run as root, for whom chmod would not stop a write)."""
    monkeypatch.setattr(project_module.os, "access", lambda path, mode: mode != os.W_OK)


def _one_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("adhmr")]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def test_a_read_only_project_is_listed_viewed_and_exported(project, read_only_medium, tmp_path, capsys):
    path, _ = project
    before = _digest(path)
    with st.Project.open(path) as p:
        assert p.read_only
        assert [d.name for d in st.list_datasets(p)] == ["d"]
        assert len(st.list_images(p)) == 2
    assert main(["jobs", str(path), "list"]) == 0
    assert "import" in capsys.readouterr().out
    out = tmp_path / "elsewhere" / "d.npz"
    out.parent.mkdir()
    assert main(["export", str(path), "dataset", "--dataset", "d", "--out", str(out)]) == 0
    assert out.is_file()
    assert _digest(path) == before


def test_a_write_to_a_read_only_project_is_one_line(project, read_only_medium, tmp_path, capsys):
    path, source = project
    before = _digest(path)
    capsys.readouterr()
    assert main(["import", str(path), str(source), "--name", "again"]) == 1
    assert "read-only" in _one_line(capsys.readouterr().err)
    with st.Project.open(path) as p, pytest.raises(StoreError, match="read-only"):
        st.add_dataset(p, "x", "spin")
    assert _digest(path) == before


def test_a_schema_that_does_not_match_its_revision_is_refused_on_every_open(project, capsys):
    path, _ = project
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num = '0001'")  # tables are at the head revision
    conn.commit()
    conn.close()
    before = _digest(path)
    for _ in range(2):
        capsys.readouterr()
        assert main(["jobs", str(path), "list"]) == 1
        assert "do not match the schema revision 0001" in _one_line(capsys.readouterr().err)
    assert not list(path.parent.glob("*.bak*"))
    assert _digest(path) == before
