"""``adhmr init`` and ``adhmr import`` end to end, and refusing files that are not projects."""

import hashlib
import sqlite3
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "projects"))  # the data builders
from project_files import write_dataset  # noqa: E402

from engine import store as st  # noqa: E402
from engine.cli import main  # noqa: E402
from engine.jobs import list_jobs  # noqa: E402



@pytest.fixture
def project(tmp_path):
    path = tmp_path / "study.adhmr"
    assert main(["init", str(path)]) == 0
    return path


def test_init_creates_a_project_and_refuses_to_overwrite(tmp_path, capsys):
    path = tmp_path / "p.adhmr"
    assert main(["init", str(path)]) == 0
    assert "created" in capsys.readouterr().out
    with st.Project.open(path) as p:
        assert st.list_datasets(p) == []
    assert main(["init", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists" in err


def test_import_good_and_bad_files(project, tmp_path, body, capsys):
    good, _ = write_dataset(tmp_path, "spin", 3, body)
    (tmp_path / "broken.json").write_text("{not json")
    capsys.readouterr()
    code = main(["import", str(project), str(good), str(tmp_path / "broken.json"), "--name", "mine"])
    out = capsys.readouterr().out
    assert code == 0
    assert f"rejected {tmp_path / 'broken.json'}: " in out
    assert "dataset 'mine' (mixed): 3 images and 3 persons imported" in out
    assert main(["import", str(project), str(good), "--name", "mine2"]) == 0
    with st.Project.open(project) as p:
        assert [d.name for d in st.list_datasets(p)] == ["mine", "mine2"]
        jobs = list_jobs(p)
        assert [(j.kind, j.status, j.params["name"]) for j in jobs] == [("import", "done", "mine2"), ("import", "done", "mine")]


def test_import_of_nothing_usable_exits_1(project, tmp_path, capsys):
    (tmp_path / "junk.npz").write_bytes(b"junk")
    assert main(["import", str(project), str(tmp_path / "junk.npz"), str(tmp_path / "missing.json")]) == 1
    captured = capsys.readouterr()
    assert f"rejected {tmp_path / 'junk.npz'}: " in captured.out
    assert f"rejected {tmp_path / 'missing.json'}: no such file or folder" in captured.out
    assert "nothing could be imported" in captured.err


def test_import_usage_errors_exit_2(project, tmp_path):
    for argv in (["import", str(project)], ["import", str(project), "x.npz", "--format", "csv"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    "argv",
    [
        ["import", "{p}", "{x}"],
        ["jobs", "{p}", "list"],
        ["jobs", "{p}", "show", "1"],
        ["export", "{p}", "pairs", "--out", "{o}"],
        ["detect", "--project", "{p}", "--dataset", "d"],
    ],
)
def test_newer_or_foreign_files_are_refused_untouched(tmp_path, capsys, argv):
    newer = tmp_path / "newer.adhmr"
    st.Project.create(newer).close()
    conn = sqlite3.connect(newer)
    conn.execute("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    conn.commit()
    conn.close()
    notes = tmp_path / "notes.adhmr"
    notes.write_text("shopping list\n")
    for path, message in ((newer, "written by a newer version"), (notes, "not an ADHMR project")):
        before = _digest(path)
        filled = [a.format(p=path, x=tmp_path / "a.npz", o=tmp_path / "o.jsonl") for a in argv]
        assert main(filled) == 1
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
        assert _digest(path) == before
        assert not (tmp_path / "o.jsonl").exists()
