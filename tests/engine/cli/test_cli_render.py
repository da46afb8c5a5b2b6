"""``adhmr render``: meshes, overlay, 3D view and videos of a person's candidates, headless."""

import numpy as np
import pytest
import torch

from engine import store
from engine.cli import main
from engine.image_io import load_image, save_image
from engine.models.param_layout import ParamLayout

BOX = (60.0, 20.0, 200.0, 300.0)


def params(n: int) -> np.ndarray:
    """(n, D) upright bodies facing the camera, the joints jittered, filling BOX."""
    pose = torch.zeros(n, 72)
    pose[:, 0] = np.pi
    pose[1:, 3:] = torch.from_numpy(np.random.default_rng(0).normal(0, 0.3, (n - 1, 69)).astype(np.float32))
    cam = torch.tensor([[0.95, 0.0, 0.0]]).repeat(n, 1)
    return ParamLayout().from_axis_angle(pose, torch.zeros(n, 10), cam).numpy()


@pytest.fixture
def project(tmp_path):
    """One photo, one person whose 3D label is candidate 0; three scored candidates."""
    photos = tmp_path / "photos"
    photos.mkdir()
    save_image(photos / "p.png", np.full((320, 260, 3), 90, np.uint8))
    path = tmp_path / "r.adhmr"
    cands = params(3)
    with store.Project.create(path) as project:
        ds = store.add_dataset(project, "photos", "images", str(photos))
        image = store.add_image(project, ds, "p.png", width=260, height=320)
        person = store.add_person(project, image, BOX, np.zeros((17, 3), np.float32), label_params=cands[0],
                                  label_source="gt")
        store.add_sample_run(project, person, cands, seed=0, steps=1, scores=np.array([0.4, 0.9, 0.2]))
    return path


def test_render_writes_meshes_images_and_a_turntable(project, tmp_path, capsys):
    import imageio.v2 as imageio
    import pyvista as pv

    out = tmp_path / "export"
    assert main(["render", str(project), "--image", "p.png", "--ranks", "1,2", "--out", str(out),
                 "--video", "turntable", "--size", "160", "160"]) == 0
    printed = capsys.readouterr().out
    # Rank 1 is the 0.9 candidate; rank 2 (0.4) is the label itself: no error.
    assert "rank1-candidate2: score 0.900" in printed and "rank2-candidate1: score 0.400" in printed
    assert "rank2-candidate1: score 0.400, mean vertex error to the label 0 mm" in printed
    for name in ("rank1-candidate2", "rank2-candidate1"):
        for fmt in ("ply", "obj", "glb"):
            assert (out / f"{name}.{fmt}").stat().st_size > 1000
    ply = pv.read(out / "rank1-candidate2.ply")
    assert ply.n_points > 1000 and ply.bounds[5] > 1.0  # in front of the photo's camera, metres away
    overlay = load_image(out / "overlay.png")
    x0, y0, x1, y1 = (int(v) for v in BOX)
    assert overlay.shape == (320, 260, 3)
    assert (overlay[y0:y1, x0:x1] != 90).any(axis=-1).mean() > 0.1 and (overlay == 90).all(axis=-1).mean() > 0.3
    view = load_image(out / "view3d.png")
    assert view.shape == (160, 160, 3) and (np.abs(view.astype(int) - (40, 40, 46)).sum(-1) > 30).mean() > 0.03
    frames = imageio.mimread(out / "turntable.mp4", memtest=False)
    assert len(frames) == 96 and not np.array_equal(frames[0], frames[len(frames) // 4])


def test_render_colours_by_error_and_refuses_what_is_not_there(project, tmp_path, capsys):
    out = tmp_path / "err"
    assert main(["render", str(project), "--image", "1", "--ranks", "2", "--error", "--mesh", "ply",
                 "--video", "candidates", "--out", str(out)]) == 0
    import pyvista as pv

    colours = pv.read(out / "rank2-candidate1.ply").point_data["RGB"]
    assert (colours == (40, 90, 220)).all()  # zero error everywhere: the scale's blue
    assert (out / "candidates.mp4").stat().st_size > 0
    assert main(["render", str(project), "--image", "p.png", "--ranks", "4", "--out", str(out)]) == 1
    assert "has 3 candidates, no rank 4" in capsys.readouterr().err
    assert main(["render", str(project), "--image", "nobody.png", "--out", str(out)]) == 1
    assert "no image 'nobody.png'" in capsys.readouterr().err
