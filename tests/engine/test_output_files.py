"""Writing user-named outputs: all or nothing, never over the project or an input."""

import pytest

from engine.errors import StoreError
from engine.output_files import atomic_output, check_output


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    out = tmp_path / "result.json"
    out.write_text("old")
    with pytest.raises(RuntimeError), atomic_output(out) as fh:
        fh.write("half")
        raise RuntimeError("disk full")
    assert out.read_text() == "old"
    assert [f.name for f in tmp_path.iterdir()] == ["result.json"]
    with atomic_output(out) as fh:
        fh.write("new")
    assert out.read_text() == "new" and [f.name for f in tmp_path.iterdir()] == ["result.json"]


def test_check_output_names_what_it_protects(tmp_path):
    project = tmp_path / "p.adhmr"
    project.write_bytes(b"x")
    (tmp_path / "p_data").mkdir()
    (tmp_path / "link.npz").symlink_to(project)
    src = tmp_path / "in.npz"
    src.write_bytes(b"y")
    where = {"project_file": project, "data_dir": tmp_path / "p_data", "inputs": [src]}
    for out, words in [(project, "is the project file"), (tmp_path / "link.npz", "is the project file"),
                       (tmp_path / "p.adhmr-wal", "is the project file"),
                       (tmp_path / "p_data" / "x.npz", "data folder"), (src, "is also an input"),
                       (tmp_path, "is a folder")]:
        with pytest.raises(StoreError, match=words):
            check_output(out, **where)
    assert check_output(tmp_path / "fine.npz", **where) == tmp_path / "fine.npz"
