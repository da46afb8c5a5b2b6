"""The joint tables: maps join joints of the same name, mirrors swap left and right."""

import pytest

from engine.data import joint_sets as js


def _side_free(name: str) -> str:
    for a, b in (("left_", "l_"), ("right_", "r_")):
        name = name.replace(a, b)
    return name


def _mirror(name: str) -> str:
    name = _side_free(name)
    if name.startswith("l_"):
        return "r_" + name[2:]
    if name.startswith("r_"):
        return "l_" + name[2:]
    return name


@pytest.mark.parametrize(
    "names, flip",
    [
        (js.COCO17_NAMES, js.COCO17_FLIP),
        (js.SPIN24_NAMES, js.SPIN24_FLIP),
        (js.SMPL24_NAMES, js.SMPL24_FLIP),
        (js.OPENPOSE25_NAMES, js.OPENPOSE25_FLIP),
    ],
)
def test_flip_swaps_left_and_right_and_is_its_own_inverse(names, flip):
    assert sorted(flip) == list(range(len(names)))
    for i, j in enumerate(flip):
        assert flip[j] == i
        assert _side_free(names[j]) == _mirror(names[i])


def test_coco_from_spin_and_openpose_pick_the_same_named_joints():
    for i, name in enumerate(js.COCO17_NAMES):
        assert _side_free(js.SPIN24_NAMES[js.COCO17_FROM_SPIN24[i]]) == _side_free(name)
        assert _side_free(js.OPENPOSE25_NAMES[js.COCO17_FROM_OPENPOSE25[i]]) == _side_free(name)
    face = [js.OPENPOSE25_NAMES[k] for k in js.SPIN24_FACE_FROM_OPENPOSE25]
    assert face == [n for n in js.SPIN24_NAMES[19:]]


def test_spin_from_smpl_matches_limbs_by_name_and_leaves_the_rest_unmapped():
    for i, k in enumerate(js.SPIN24_FROM_SMPL24):
        spin = js.SPIN24_NAMES[i]
        if k < 0:
            assert spin in {"headtop", "spine", "jaw", "nose", "l_eye", "r_eye", "l_ear", "r_ear"}
        elif spin == "thorax":
            assert js.SMPL24_NAMES[k] == "neck"
        else:
            assert js.SMPL24_NAMES[k] == spin


def test_smpl_parents_precede_children_and_mirror_consistently():
    parents = js.SMPL24_PARENTS
    assert parents[0] == -1 and all(0 <= p < i for i, p in enumerate(parents) if i)
    flip = js.SMPL24_FLIP
    assert all(parents[flip[i]] == flip[parents[i]] for i in range(1, 24))
