"""Every person in a photo: composites of rendered people with exact ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from skimage import data

from engine.data.synth import SynthBody
from engine.data.synth.composite import STREET, TWO_PEOPLE, Placement, compose, scene
from engine.detect import PoseDetector, detect_all_file
from engine.detect.anchors import iou
from engine.errors import NoPersonError, ShapeError
from engine.image_io import save_image


@pytest.fixture(scope="module")
def detector() -> PoseDetector:
    return PoseDetector()


@pytest.fixture(scope="module")
def sb() -> SynthBody:
    return SynthBody.load()


@pytest.fixture(scope="module")
def street(sb):
    return scene(sb, STREET)


@pytest.fixture(scope="module")
def street_found(detector, street):
    return detector.detect_all(street.image)


def _match(gt_box: np.ndarray, found) -> tuple[int, float]:
    ious = iou(gt_box.astype(np.float64), np.array([p.box for p in found.persons], np.float64))
    return int(ious.argmax()), float(ious.max())


def test_street_composite_ground_truth(street) -> None:
    assert street.image.shape == (720, 1280, 3)
    left, _, _, bottom = street.people
    assert left.full_box[0] < 0 and left.visible_box[0] == 0  # cut by the left border
    assert bottom.full_box[3] > 720 and bottom.visible_box[3] == 720
    assert 0.5 < left.visible_fraction < 1 and 0.5 < bottom.visible_fraction < 1
    # The middle pair overlaps: the one behind loses pixels to the one in front.
    behind, front = street.people[1], street.people[2]
    assert behind.visible_fraction < 1 and front.visible_fraction == 1
    assert not (behind.visible_mask & front.visible_mask).any()


def test_every_visible_person_is_found(street, street_found) -> None:
    people = [p for p in street.people if p.visible_fraction >= 1 / 3]
    assert len(street_found.persons) == len(people) == 4
    matched = set()
    for p in people:
        k, best = _match(p.visible_box, street_found)
        assert best > 0.6, (p.visible_box, best)
        matched.add(k)
    assert len(matched) == 4
    areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in (p.box for p in street_found.persons)]
    assert areas == sorted(areas, reverse=True)  # largest first
    assert street_found.too_small == 0


def test_keypoints_of_people_cut_by_the_frame(street, street_found) -> None:
    for p in street_found.persons:
        kp = p.keypoints
        assert kp.shape == (17, 3)
        conf = kp[:, 2] > 0
        assert (kp[conf, 0] >= 0).all() and (kp[conf, 0] < 1280).all()
        assert (kp[conf, 1] >= 0).all() and (kp[conf, 1] < 720).all()
    bottom = street.people[3]
    k, _ = _match(bottom.visible_box, street_found)
    found = street_found.persons[k]
    gt = bottom.keypoints
    # Ankles below the frame are missing keypoints; the seen face is where it was drawn.
    assert (found.keypoints[15:17, 2] == 0).all() and (gt[15:17, 2] == 0).all()
    seen = (gt[:, 2] > 0) & (found.keypoints[:, 2] > 0.5)
    assert seen.sum() >= 5
    err = np.linalg.norm(found.keypoints[seen, :2] - gt[seen, :2], axis=1)
    assert np.median(err) < 25  # px, on a person 520 px tall


def test_world_landmarks_and_masks(street, street_found) -> None:
    for i, gt in enumerate(street.people):
        k, _ = _match(gt.visible_box, street_found)
        p = street_found.persons[k]
        w = p.world_landmarks
        assert w.shape == (33, 3) and w.dtype == np.float32
        assert np.abs(w[[23, 24]].mean(axis=0)).max() < 0.05  # hip midpoint at the origin
        extent = w[:, 1].max() - w[:, 1].min()  # eyes to heels, y down, metres
        assert 0.6 < extent < 2.2
        assert p.landmark_visibility.shape == p.landmark_presence.shape == (33,)
        assert p.mask.shape == (720, 1280)
        # The mask covers the person; where two people overlap, BlazePose's mask of the
        # one in front is unsure between the two bodies.
        overlapped = i in (1, 2)
        assert p.mask[gt.visible_mask].mean() > (0.3 if overlapped else 0.85)
        away = np.ones((720, 1280), bool)
        x0, y0, x1, y1 = (int(v) for v in p.box)
        away[max(0, y0 - 50) : y1 + 50, max(0, x0 - 50) : x1 + 50] = False
        assert p.mask[away].mean() < 0.05
    standing = street_found.persons[_match(street.people[2].visible_box, street_found)[0]]
    w = standing.world_landmarks
    assert 1.2 < (w[:, 1].max() - w[:, 1].min()) / 0.9 < 2.2  # eyes to heels is ~0.9 of height


def test_two_people_one_cut_at_the_waist(detector, sb) -> None:
    two = scene(sb, TWO_PEOPLE)
    assert two.people[1].visible_fraction < 0.5
    found = detector.detect_all(two.image)
    assert len(found.persons) == 2
    for p in two.people:
        assert _match(p.visible_box, found)[1] > 0.6


def test_min_size_counts_and_skips(detector, street) -> None:
    found = detector.detect_all(street.image, min_size=500)
    assert found.too_small >= 2  # the middle pair (boxes about 480 and 430 px tall)
    assert all(max(p.box[2] - p.box[0], p.box[3] - p.box[1]) >= 500 for p in found.persons)
    with pytest.raises(NoPersonError, match=r"smaller than 2000 px skipped"):
        detector.detect_all(street.image, min_size=2000)


def test_min_score_and_bad_thresholds(detector, street, street_found) -> None:
    weakest = min(p.score for p in street_found.persons)
    strict = detector.detect_all(street.image, min_score=weakest + 1e-3)
    assert len(strict.persons) == len(street_found.persons) - 1
    assert min(p.score for p in strict.persons) > weakest
    for bad in ({"min_size": -1}, {"min_size": float("nan")}, {"min_score": 1.5}):
        with pytest.raises(ShapeError):
            detector.detect_all(street.image, **bad)


def test_no_person_is_one_line(detector, tmp_path) -> None:
    with pytest.raises(NoPersonError) as err:
        detector.detect_all(data.coffee())
    assert "\n" not in str(err.value)
    path = tmp_path / "grey.png"
    save_image(path, np.full((300, 500, 3), 120, np.uint8))
    with pytest.raises(NoPersonError, match="grey.png: no person"):
        detect_all_file(path, detector=detector)


def test_astronaut_is_one_person(detector) -> None:
    found = detector.detect_all(data.astronaut())
    assert len(found.persons) == 1
    single = detector.detect(data.astronaut())
    np.testing.assert_allclose(found.persons[0].keypoints, single.keypoints, atol=1e-3)


def test_composite_refuses_bad_layouts(sb) -> None:
    from engine.errors import DataError

    with pytest.raises(DataError, match="no people"):
        compose(sb, [], 100, 100)
    with pytest.raises(DataError, match="under 2 px"):
        compose(sb, [Placement(0, (50, 50), 1)], 100, 100)


@pytest.mark.parametrize("size", [(1280, 720), (720, 1280), (4000, 3000), (2000, 2000)])
def test_detector_views_cover_the_photo_with_overlap(size) -> None:
    from engine.detect.views import detector_views

    w, h = size
    views = detector_views(w, h)
    assert views[0] is None and len(views) > 1
    tiles = views[1:]
    for x0, y0, x1, y1 in tiles:
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h and x1 - x0 == y1 - y0
    first = [t for t in tiles if t[2] - t[0] == tiles[0][2] - tiles[0][0]]
    covered = np.zeros((h, w), bool)
    for x0, y0, x1, y1 in first:
        covered[y0:y1, x0:x1] = True
    assert covered.all()
    side = first[0][2] - first[0][0]
    xs = sorted({t[0] for t in first})
    assert all(b - a <= 0.8 * side for a, b in zip(xs, xs[1:]))  # at least a fifth overlaps


def test_small_square_photo_is_one_pass() -> None:
    from engine.detect.views import detector_views

    assert detector_views(512, 512) == [None]


def test_merging_keeps_the_strongest_of_each_face() -> None:
    from engine.detect.geometry import RotatedSquare
    from engine.detect.people import merge_candidates
    from engine.detect.person_finder import PersonCandidate

    def cand(x: float, score: float) -> PersonCandidate:
        return PersonCandidate((x, 10.0, x + 20, 30.0), np.zeros((4, 2), np.float32), score,
                               RotatedSquare((x, 50.0), 100.0, 0.0))

    # Two passes saw the person at x 0 (faces overlapping), one saw a second person.
    kept = merge_candidates([cand(2, 0.7), cand(100, 0.6), cand(0, 0.9)])
    assert [(c.face_box[0], c.score) for c in kept] == [(0, 0.9), (100, 0.6)]


def test_detect_job_thresholds_from_the_command_line(street, tmp_path, capsys) -> None:
    from engine import store as st
    from engine.cli import main

    photo = tmp_path / "street.png"
    save_image(photo, street.image)
    project = tmp_path / "p.adhmr"
    assert main(["init", str(project)]) == 0
    assert main(["import", str(project), str(photo), "--name", "s", "--no-detect"]) == 0
    assert main(["detect", "--project", str(project), "--dataset", "s", "--min-size", "500"]) == 0
    with st.Project.open(project) as p:
        persons = st.persons_of_image(p, st.list_images(p)[0].id)
    assert 1 <= len(persons) < 4
    assert all(max(q.box[2] - q.box[0], q.box[3] - q.box[1]) >= 500 for q in persons)


def test_world_landmarks_match_rendered_joints(detector, sb) -> None:
    """BlazePose's metric 3D points against the renderer's exact joints (hip-midpoint
    aligned, camera axes): the right units, axes and handedness, within the model's error."""
    from engine.data.joint_sets import SPIN24_NAMES
    from engine.data.synth import get_domain, render_sample
    from engine.detect import BLAZEPOSE_NAMES

    joints = ("shoulder", "elbow", "wrist", "hip", "knee", "ankle")
    spin = [SPIN24_NAMES.index(f"{s[0]}_{j}") for j in joints for s in ("left", "right")]
    blaze = [BLAZEPOSE_NAMES.index(f"{s}_{j}") for j in joints for s in ("left", "right")]
    errors = []
    for index in range(6):
        r = render_sample(sb, get_domain("studio"), 0, index, size=384)
        gt = r.row["S"][spin, :3].astype(np.float64)
        found = detector.detect(r.image).world_landmarks[blaze].astype(np.float64)
        gt -= gt[6:8].mean(axis=0)  # hips are joints 6 and 7 of the twelve
        found -= found[6:8].mean(axis=0)
        errors.append(np.linalg.norm(gt - found, axis=1).mean())
    assert np.median(errors) < 0.15  # metres; about 0.11 on these renders
