import hashlib
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from engine import store as st
from engine.errors import StoreError
from engine.store import migrate
from engine.store.project import APPLICATION_ID
from engine.store.schema import Base


def fingerprint(path):
    """Bytes and modification time of a file, and which sidecar files exist beside it."""
    stat = path.stat()
    sidecars = sorted(p.name for p in path.parent.iterdir() if p.name != path.name)
    return hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_mtime_ns, stat.st_size, sidecars


def test_create_makes_file_and_data_folder_at_newest_schema(tmp_path):
    with st.Project.create(tmp_path / "study.adhmr") as p:
        assert p.revision == migrate.head_revision()
        assert p.data_dir == tmp_path / "study_data" and p.data_dir.is_dir()
        with p.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
            assert conn.exec_driver_sql("PRAGMA application_id").scalar() == APPLICATION_ID


def test_create_refuses_to_overwrite(tmp_path):
    path = tmp_path / "p.adhmr"
    path.write_text("precious")
    with pytest.raises(StoreError, match="already exists"):
        st.Project.create(path)
    assert path.read_text() == "precious"


def test_data_survives_close_and_reopen(tmp_path):
    path = tmp_path / "p.adhmr"
    with st.Project.create(path) as p:
        ds = st.add_dataset(p, "coco", "coco-json", "/data/coco")
    with st.Project.open(path) as p:
        assert st.get_dataset(p, "coco").id == ds
        assert st.get_dataset(p, ds).source_path == "/data/coco"


def test_foreign_keys_are_enforced(project):
    with pytest.raises(StoreError, match="does not exist"):
        st.add_image(project, 999, "x.jpg")


def test_migrations_build_exactly_the_orm_schema(project):
    with project.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(ctx, Base.metadata) == []


def test_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="no such project file"):
        st.Project.open(tmp_path / "nope.adhmr")


def test_text_file_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "notes.adhmr"
    path.write_text("not a database at all\n" * 20)
    before = fingerprint(path)
    with pytest.raises(StoreError, match=r"not an ADHMR project.*not an SQLite"):
        st.Project.open(path)
    assert fingerprint(path) == before


def test_foreign_sqlite_database_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = fingerprint(path)
    with pytest.raises(StoreError, match="without project tables"):
        st.Project.open(path)
    assert fingerprint(path) == before


def test_file_from_a_newer_version_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "future.adhmr"
    with st.Project.create(path) as p:
        st.add_dataset(p, "demo", "folder")
        with p.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    before = fingerprint(path)
    with pytest.raises(StoreError, match=r"newer version.*0099"):
        st.Project.open(path)
    assert fingerprint(path) == before


def _project_at(path, revision):
    """A project file as an older release would have written it."""
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA application_id={APPLICATION_ID}")
    raw.close()
    engine = st.project._make_engine(path)
    with engine.begin() as conn:
        migrate.upgrade(conn, revision)
        conn.execute(
            text(
                "INSERT INTO datasets (name, format, created_at) "
                "VALUES ('old', 'folder', '2025-01-01 00:00:00')"
            )
        )
    engine.dispose()


def test_older_file_is_backed_up_then_upgraded(tmp_path):
    path = tmp_path / "old.adhmr"
    _project_at(path, "0001")
    original = sqlite3.connect(path).execute("SELECT name FROM datasets").fetchall()
    with st.Project.open(path) as p:
        assert p.revision == migrate.head_revision()
        assert [d.name for d in st.list_datasets(p)] == ["old"]
        with p.engine.connect() as conn:
            indexes = {
                r[0]
                for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='index'")
            }
        assert "ix_pairs_status" in indexes
    backup = tmp_path / "old.adhmr.bak-0001"
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert conn.execute("SELECT name FROM datasets").fetchall() == original
    conn.close()
    with st.Project.open(path) as p:  # already current: no second backup
        assert p.revision == migrate.head_revision()
    assert sorted(f.name for f in tmp_path.glob("old.adhmr.bak-*")) == ["old.adhmr.bak-0001"]


def test_sessions_roll_back_on_error(project):
    with pytest.raises(RuntimeError), project.session() as s:
        st.add_dataset(s, "half", "folder")
        raise RuntimeError("importer failed")
    assert st.list_datasets(project) == []
