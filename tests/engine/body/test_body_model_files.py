"""Loading SMPL-format files: npz, chumpy pickles without chumpy, and bad files."""

import pickle
import sys
import types

import numpy as np
import pytest
import torch

from engine.body.model import OPEN_BODY_PATH, BodyModel
from engine.body.model_file import read_model_file
from engine.errors import BodyModelError


@pytest.fixture(scope="module")
def arrays():
    return dict(np.load(OPEN_BODY_PATH))


def _chumpy_pickle(arrays: dict, path) -> None:
    """Write a pickle the way official SMPL files are: arrays wrapped in chumpy objects."""
    mod = types.ModuleType("chumpy.ch")

    class Ch:
        def __init__(self, x):
            self.x = x

        def __getstate__(self):
            return {"x": self.x}

    Ch.__module__ = "chumpy.ch"
    Ch.__qualname__ = "Ch"
    mod.Ch = Ch
    parent = types.ModuleType("chumpy")
    parent.ch = mod
    sys.modules["chumpy"], sys.modules["chumpy.ch"] = parent, mod
    try:
        data = {k: (Ch(v) if k in ("shapedirs", "v_template") else v) for k, v in arrays.items() if k not in ("name",)}
        with open(path, "wb") as fh:
            pickle.dump(data, fh, protocol=2)
    finally:
        del sys.modules["chumpy"], sys.modules["chumpy.ch"]


def test_chumpy_pickle_loads_without_chumpy(tmp_path, arrays):
    path = tmp_path / "model.pkl"
    _chumpy_pickle(arrays, path)
    loaded = read_model_file(path)
    assert np.allclose(loaded["v_template"], arrays["v_template"])
    body = BodyModel(path)
    ref = BodyModel()
    aa = torch.zeros(1, 24, 3)
    assert torch.allclose(body(aa, rotation_format="axis_angle").vertices, ref(aa, rotation_format="axis_angle").vertices)


def test_cli_converts_a_chumpy_pickle_to_npz(tmp_path, arrays):
    from engine.cli import main

    src, dst = tmp_path / "model.pkl", tmp_path / "model.npz"
    _chumpy_pickle(arrays, src)
    assert main(["body", "convert", str(src), str(dst)]) == 0
    assert BodyModel(dst).num_vertices == arrays["v_template"].shape[0]


def test_untrusted_pickle_is_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"v_template": Evil()}))
    with pytest.raises(BodyModelError, match="evil.pkl"):
        read_model_file(path)


def test_missing_file_names_the_path(tmp_path):
    with pytest.raises(BodyModelError, match="not found"):
        BodyModel(tmp_path / "nope.npz")


def test_corrupt_file_names_the_path(tmp_path):
    path = tmp_path / "broken.npz"
    path.write_bytes(OPEN_BODY_PATH.read_bytes()[:5000])
    with pytest.raises(BodyModelError, match="broken.npz"):
        BodyModel(path)


def test_missing_arrays_are_named(tmp_path, arrays):
    path = tmp_path / "partial.npz"
    np.savez(path, **{k: v for k, v in arrays.items() if k != "J_regressor"})
    with pytest.raises(BodyModelError, match="J_regressor"):
        BodyModel(path)


def test_wrong_shapes_are_named(tmp_path, arrays):
    bad = dict(arrays, weights=arrays["weights"][:, :20])
    path = tmp_path / "bad.npz"
    np.savez(path, **bad)
    with pytest.raises(BodyModelError, match="weights"):
        BodyModel(path)


def test_nan_in_model_is_refused(tmp_path, arrays):
    v = arrays["v_template"].copy()
    v[10, 1] = np.nan
    path = tmp_path / "nan.npz"
    np.savez(path, **dict(arrays, v_template=v))
    with pytest.raises(BodyModelError, match="NaN"):
        BodyModel(path)


def test_unknown_extension_is_refused(tmp_path):
    path = tmp_path / "model.obj"
    path.write_text("v 0 0 0\n")
    with pytest.raises(BodyModelError, match="unknown body model format"):
        BodyModel(path)


def _smplx_reference(body: BodyModel, aa: torch.Tensor, betas: torch.Tensor, posedirs: torch.Tensor):
    """smplx's own linear blend skinning on the same arrays: the answer to match."""
    from smplx.lbs import lbs

    return lbs(betas, aa.reshape(aa.shape[0], -1), body.v_template, body.shapedirs, posedirs,
               body.J_regressor, body.parents, body.lbs_weights, pose2rot=True)


@pytest.mark.parametrize("with_correctives", [False, True])
def test_forward_matches_smplx_lbs(tmp_path, arrays, with_correctives):
    g = torch.Generator().manual_seed(0)
    path = OPEN_BODY_PATH
    if with_correctives:
        # A user SMPL file with pose-corrective blend shapes (posedirs (V, 3, 207)).
        path = tmp_path / "with_posedirs.npz"
        num_v = arrays["v_template"].shape[0]
        posedirs = torch.randn(num_v, 3, 207, generator=g).numpy() * 0.01
        np.savez(path, **{k: v for k, v in arrays.items() if k != "posedirs"}, posedirs=posedirs)
    body = BodyModel(path)
    assert body.has_pose_correctives == with_correctives
    posedirs = body.posedirs if with_correctives else torch.zeros(207, body.num_vertices * 3)
    aa = torch.randn(5, 24, 3, generator=g) * 0.4
    betas = torch.randn(5, 10, generator=g)
    out = body(aa, betas, rotation_format="axis_angle")
    ref_vertices, ref_joints = _smplx_reference(body, aa, betas, posedirs)
    assert torch.allclose(out.vertices, ref_vertices, atol=1e-5)
    assert torch.allclose(out.joints, ref_joints[:, :24], atol=1e-5)
    # Without the mesh: the same joints and keypoints from the skinned keypoint support.
    lean = body(aa, betas, rotation_format="axis_angle", return_vertices=False)
    assert lean.vertices is None
    assert torch.allclose(lean.joints, out.joints, atol=1e-6)
    assert torch.allclose(lean.keypoints, out.keypoints, atol=1e-5)
