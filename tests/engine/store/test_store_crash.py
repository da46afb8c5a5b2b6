"""Decisions are never lost or half-written, even when the writer is killed."""

import signal
import sqlite3
import subprocess

import numpy as np
import pytest
from store_helpers import D, python_child

from engine import store as st


def expected(pair_id):
    return "accepted" if pair_id % 2 else "rejected"


@pytest.fixture
def many_pairs(project):
    """Two persons with 40 candidates each, 780 proposed pairs each."""
    rng = np.random.default_rng(3)
    with project.session() as s:
        ds = st.add_dataset(s, "d", "folder")
        persons = []
        for k in range(2):
            person = st.add_person(
                s, st.add_image(s, ds, f"{k}.jpg"), (0, 0, 1, 1), np.zeros((17, 3))
            )
            st.add_sample_run(s, person, rng.normal(size=(40, D)), seed=k, steps=4)
            c = st.candidates_of_person(s, person)
            st.add_auto_pairs(
                s,
                [
                    st.PairProposal(person, c[i].id, c[j].id)
                    for i in range(40)
                    for j in range(i + 1, 40)
                ],
            )
            persons.append(person)
    project.close()
    return project.path, persons


def integrity(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("PRAGMA integrity_check").fetchall()
    finally:
        conn.close()


def test_kill_9_while_deciding_loses_no_acknowledged_decision(many_pairs):
    path, persons = many_pairs
    child = python_child(
        "_child_decide.py", str(path), str(persons[0]), "100000", stdout=subprocess.PIPE
    )
    acknowledged = [int(child.stdout.readline()) for _ in range(40)]
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    assert integrity(path) == [("ok",)]
    with st.Project.open(path) as project:
        status = {p.id: p.status for p in st.list_pairs(project, person_id=persons[0])}
        assert all(status[i] == expected(i) for i in acknowledged)
        decided = [i for i, s in status.items() if s != "proposed"]
        assert len(decided) < len(status), "the child finished before it was killed"
        assert all(status[i] == expected(i) for i in decided)
        # The history has exactly the decisions that reached the file, so undo still works.
        assert len(st.history(project, limit=10_000)) == len(decided)
        assert st.undo(project).row_id == max(decided)
        after = {p.id: p.status for p in st.list_pairs(project, person_id=persons[0])}
        assert after[max(decided)] == "proposed"


def test_two_processes_deciding_at_once_both_succeed(many_pairs):
    path, persons = many_pairs
    children = [
        python_child(
            "_child_decide.py",
            str(path),
            str(p),
            "120",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for p in persons
    ]
    outs = [c.communicate(timeout=60) for c in children]
    assert [c.returncode for c in children] == [0, 0], [err for _, err in outs]
    assert integrity(path) == [("ok",)]
    with st.Project.open(path) as project:
        for person, (out, _) in zip(persons, outs, strict=True):
            acked = [int(line) for line in out.split()]
            assert len(acked) == 120
            pairs = {p.id: p for p in st.list_pairs(project, person_id=person)}
            assert all(
                pairs[i].status == expected(i) and pairs[i].who == f"pid-{person}" for i in acked
            )
        assert len(st.history(project, limit=1000)) == 240
