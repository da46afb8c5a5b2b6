from pathlib import Path

import numpy as np
import pytest
from store_helpers import D

from engine import store as st
from engine.errors import ShapeError, StoreError


def test_person_arrays_round_trip(project):
    ds = st.add_dataset(project, "d", "folder")
    image = st.add_image(project, ds, "a.jpg", sha256="ab" * 32, width=640, height=480)
    kp = np.random.default_rng(1).uniform(0, 1, (17, 3))
    label = np.linspace(-1, 1, D)
    joints = np.random.default_rng(2).normal(size=(24, 3))
    pid = st.add_person(project, image, (1, 2, 3, 4), kp, label, "spin", joints)
    person = st.get_person(project, pid)
    assert person.box == (1.0, 2.0, 3.0, 4.0)
    np.testing.assert_array_equal(person.keypoints, kp.astype(np.float32))
    np.testing.assert_array_equal(person.label_params, label.astype(np.float32))
    np.testing.assert_array_equal(person.joints3d, joints.astype(np.float32))
    assert person.has_3d and person.label_source == "spin"
    bare = st.get_person(project, st.add_person(project, image, (0, 0, 1, 1), kp))
    assert bare.label_params is None and bare.joints3d is None and not bare.has_3d
    assert [p.id for p in st.persons_of_image(project, image)] == [pid, bare.id]


def test_bad_person_inputs_are_refused(project):
    ds = st.add_dataset(project, "d", "folder")
    image = st.add_image(project, ds, "a.jpg")
    with pytest.raises(ShapeError, match="keypoints: expected shape"):
        st.add_person(project, image, (0, 0, 1, 1), np.zeros((33, 3)))
    with pytest.raises(ShapeError, match="box"):
        st.add_person(project, image, (0, 0, 1), np.zeros((17, 3)))
    nan_label = np.zeros(D)
    nan_label[5] = np.nan
    with pytest.raises(ShapeError, match="label_params"):
        st.add_person(project, image, (0, 0, 1, 1), np.zeros((17, 3)), nan_label)
    with pytest.raises(StoreError, match="no images row with id 77"):
        st.add_person(project, 77, (0, 0, 1, 1), np.zeros((17, 3)))
    assert st.persons_of_image(project, image) == []


def test_duplicate_names_and_paths_are_refused(project):
    ds = st.add_dataset(project, "d", "folder")
    with pytest.raises(StoreError, match="named 'd' already exists"):
        st.add_dataset(project, "d", "coco")
    st.add_image(project, ds, "a.jpg")
    with pytest.raises(StoreError, match="already in dataset"):
        st.add_image(project, ds, "a.jpg")


def test_importer_can_add_many_rows_in_one_transaction(project):
    with project.session() as s:
        ds = st.add_dataset(s, "big", "folder")
        for i in range(200):
            image = st.add_image(s, ds, f"{i}.jpg")
            st.add_person(s, image, (0, 0, 1, 1), np.zeros((17, 3)))
        with pytest.raises(StoreError, match="already in dataset"):
            st.add_image(s, ds, "7.jpg")
        st.add_image(s, ds, "after-the-error.jpg")  # the transaction is still usable
    images = st.list_images(project, ds)
    assert len(images) == 201 and images[-1].path == "after-the-error.jpg"
    assert all(len(st.persons_of_image(project, i.id)) == 1 for i in images[:200])


def test_candidates_keep_params_scores_and_errors(project, filled):
    person = filled.person_ids[0]
    run = filled.run_ids[0]
    cands = st.candidates_of_person(project, person)
    assert [c.index for c in cands] == [0, 1, 2, 3]
    np.testing.assert_array_equal(np.stack([c.params for c in cands]), filled.params[run])
    assert all(0 <= c.score <= 1 for c in cands)
    assert all(c.error("mpjpe") is None and not c.errors for c in cands)
    second = st.add_sample_run(
        project,
        person,
        np.ones((2, D)),
        seed=7,
        steps=10,
        errors={"mpjpe": [50.0, 60.0], "pve": [70.0, 80.0]},
    )
    assert [r.m for r in st.sample_runs_of_person(project, person)] == [4, 2]
    latest = st.candidates_of_person(project, person, run_id=second)
    assert [(c.error("mpjpe"), c.error("pa_mpjpe"), c.error("pve")) for c in latest] == [
        (50.0, None, 70.0),
        (60.0, None, 80.0),
    ]
    assert len(st.candidates_of_person(project, person)) == 6
    # Scores by id in one query: the scored run's, None for the unscored run, unknown ids left out.
    by_id = st.candidate_scores(project, [c.id for c in st.candidates_of_person(project, person)] + [10**6])
    assert [by_id[c.id] for c in cands] == [c.score for c in cands]
    assert [by_id[c.id] for c in latest] == [None, None] and 10**6 not in by_id


def test_bad_sample_runs_are_refused(project, filled):
    person = filled.person_ids[0]
    with pytest.raises(ShapeError, match=r"params: expected shape \(M, D\)"):
        st.add_sample_run(project, person, np.zeros(D), seed=0, steps=4)
    with pytest.raises(ShapeError, match=r"scores: expected shape \(3,\)"):
        st.add_sample_run(project, person, np.zeros((3, D)), seed=0, steps=4, scores=[1, 2])
    bad = np.zeros((3, D))
    bad[1, 4] = np.inf
    with pytest.raises(ShapeError, match=r"params\[1\]"):
        st.add_sample_run(project, person, bad, seed=0, steps=4)
    # Any metric name is stored (no migration for a new metric), but it must be a name.
    with pytest.raises(StoreError, match="error names must be identifiers"):
        st.add_sample_run(project, person, np.zeros((1, D)), seed=0, steps=4, errors={"worst joint": [1]})
    assert len(st.sample_runs_of_person(project, person)) == 1


def test_checkpoints_form_a_lineage(project):
    base = st.add_checkpoint(
        project, "base", "ckpt/base.safetensors", "0" * 64, config={"lr": 1e-4}
    )
    dpo = st.add_checkpoint(
        project, "dpo", "ckpt/dpo.safetensors", "1" * 64, parent_id=base, metrics={"pa_mpjpe": 48.2}
    )
    assert st.get_checkpoint(project, dpo).parent_id == base
    assert st.get_checkpoint(project, base).config == {"lr": 1e-4}
    assert [c.id for c in st.list_checkpoints(project, "dpo")] == [dpo]
    with pytest.raises(StoreError, match="unknown checkpoint kind"):
        st.add_checkpoint(project, "lora", "x", "2" * 64)


def test_auto_pairs_are_checked_and_not_duplicated(project, filled):
    p0, p1 = filled.person_ids[:2]
    c0 = st.candidates_of_person(project, p0)
    c1 = st.candidates_of_person(project, p1)
    props = [st.PairProposal(p0, c0[0].id, c0[1].id, 0.4), st.PairProposal(p0, c0[0].id, c0[2].id)]
    assert st.add_auto_pairs(project, props) == 2
    assert st.add_auto_pairs(project, props) == 0
    with pytest.raises(StoreError, match=f"candidate {c1[0].id} is not a candidate of person {p0}"):
        st.add_auto_pairs(project, [st.PairProposal(p0, c0[0].id, c1[0].id)])
    with pytest.raises(StoreError, match="both candidate"):
        st.add_auto_pairs(project, [st.PairProposal(p0, c0[3].id, c0[3].id)])
    pairs = st.list_pairs(project, person_id=p0)
    assert [(p.source, p.status, p.margin) for p in pairs] == [
        ("auto", "proposed", 0.4),
        ("auto", "proposed", None),
    ]


def test_images_move_through_review_statuses(project, filled):
    img0, img1, img2 = filled.image_ids
    p0, p1, _ = filled.person_ids
    assert st.count_images_by_status(project) == {
        "unsampled": 1,
        "sampled": 2,
        "paired": 0,
        "reviewed": 0,
    }
    c0 = st.candidates_of_person(project, p0)
    c1 = st.candidates_of_person(project, p1)
    st.add_auto_pairs(
        project,
        [
            st.PairProposal(p0, c0[0].id, c0[1].id),
            st.PairProposal(p1, c1[0].id, c1[1].id),
            st.PairProposal(p1, c1[2].id, c1[3].id),
        ],
    )
    pairs1 = st.list_pairs(project, person_id=p1)
    st.decide_pair(project, st.list_pairs(project, person_id=p0)[0].id, "accepted")
    st.decide_pair(project, pairs1[0].id, "both_bad")

    def ids(status):
        return [i.id for i in st.list_images(project, filled.dataset_id, status)]

    assert ids("unsampled") == [img2]
    assert ids("reviewed") == [img0]
    assert ids("paired") == [img1]
    st.decide_pair(project, pairs1[1].id, "skipped")
    assert ids("reviewed") == [img0, img1]
    assert [i.status for i in st.list_images(project)] == ["reviewed", "reviewed", "unsampled"]
    assert [i.id for i in st.list_images(project, offset=1, limit=1)] == [img1]
    with pytest.raises(StoreError, match="unknown image status"):
        st.list_images(project, status="done")


def test_image_files_resolve_against_the_dataset_source(project, tmp_path):
    ds = st.add_dataset(project, "rel", "folder", "photos")
    a = st.add_image(project, ds, "a.jpg", sha256="f" * 64)
    b = st.add_image(project, ds, "/abs/b.jpg")
    assert st.image_files(project, ds) == [
        (a, tmp_path / "photos" / "a.jpg"),
        (b, Path("/abs/b.jpg")),
    ]
    assert st.image_files(project, ds, missing_hash=True) == [(b, Path("/abs/b.jpg"))]
