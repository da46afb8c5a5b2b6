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
