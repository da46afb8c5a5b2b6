"""Between dataset records (``PersonSample``) and the project's person rows.

A person row keeps a 3D label as one vector in the diffused layout (``ParamLayout``,
D = 157), so that candidates and labels decode the same way. Its camera is for the
model's crop of the person's box (``CropTransform.for_box(box, S)``: the square of side
longer box side x 1.2 on the box centre, see ``engine.data.crops``), the crop every
sampled candidate's camera is for. Records whose source has no camera get one fitted to
their 2D keypoints, since weak-perspective placement is linear in (s, s tx, s ty).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from engine.body.camera_fit import fit_camera
from engine.data.augment import camera_for_crop
from engine.data.crops import square_crop
from engine.data.records import PersonSample
from engine.models.param_layout import ParamLayout
from engine.store import PersonRecord

if TYPE_CHECKING:
    from engine.body.model import BodyModel

LAYOUT = ParamLayout()
_FIT_BATCH = 256


def label_crop(box: np.ndarray) -> tuple[np.ndarray, float]:
    """The crop a stored label's camera is for: (center (2,) px, side px) of ``box`` (4,)."""
    return square_crop(np.asarray(box, np.float64))


def _keypoints_in_crop(sample: PersonSample) -> np.ndarray:
    center, side = label_crop(sample.box)
    kp = np.array(sample.keypoints, np.float64)
    kp[:, :2] = (kp[:, :2] - center) / (side / 2)
    return kp


def label_params(samples: Sequence[PersonSample], body: BodyModel | None = None) -> list[np.ndarray | None]:
    """The stored label vector (157,) float32 of each record, or None without a pose.

    Missing betas are the average shape (zeros). A record without a camera gets one
    fitted to its keypoints, posing its body with ``body`` (a BodyModel, built when
    needed and None); None when no camera can be fitted.
    """
    out: list[np.ndarray | None] = [None] * len(samples)
    cams: dict[int, np.ndarray] = {}
    to_fit: list[int] = []
    for i, r in enumerate(samples):
        if r.pose is None:
            continue
        if r.camera is not None:
            center, side = label_crop(r.box)
            cams[i] = camera_for_crop(r.camera, *r.crop_square, center, side)
        else:
            to_fit.append(i)
    if to_fit:
        if body is None:
            from engine.body.model import BodyModel

            body = BodyModel()
        for start in range(0, len(to_fit), _FIT_BATCH):
            idx = to_fit[start : start + _FIT_BATCH]
            # to_fit holds only persons with a pose.
            pose = torch.tensor(np.stack([p for i in idx if (p := samples[i].pose) is not None]), dtype=torch.float32)
            betas = torch.from_numpy(np.stack([_betas(samples[i]) for i in idx]))
            with torch.no_grad():
                kp3d = body(pose, betas, rotation_format="axis_angle").keypoints.cpu().numpy()
            for k, i in enumerate(idx):
                cam = fit_camera(kp3d[k], _keypoints_in_crop(samples[i]))
                if cam is not None:
                    cams[i] = cam
    for i, cam in cams.items():
        r = samples[i]
        vec = LAYOUT.from_axis_angle(
            torch.tensor(r.pose, dtype=torch.float32),
            torch.from_numpy(_betas(r)),
            torch.tensor(cam, dtype=torch.float32),
        )
        out[i] = vec.numpy().astype(np.float32)
    return out


def _betas(r: PersonSample) -> np.ndarray:
    return np.array(r.betas if r.betas is not None else np.zeros(10), np.float32)


def sample_of(person: PersonRecord, image_path: str) -> PersonSample:
    """A record rebuilt from a person row (what the store keeps: no source extras).

    The label vector gives pose, betas and the camera (re-expressed for the record's own
    crop convention); stored 3D joints (24, 3) get confidence 1.
    """
    pose = betas = camera = joints = None
    if person.label_params is not None and person.label_params.size == LAYOUT.dim:
        aa, b, cam = LAYOUT.to_axis_angle(torch.from_numpy(person.label_params))
        pose, betas = aa.numpy(), b.numpy()
        center, side = label_crop(np.asarray(person.box))
        probe = PersonSample(image_path, np.asarray(person.box), person.keypoints)
        camera = camera_for_crop(cam.numpy(), center, side, *probe.crop_square)
    if person.joints3d is not None and person.joints3d.shape == (24, 3):
        joints = np.concatenate([person.joints3d, np.ones((24, 1), np.float32)], axis=1)
    kind = person.label_source if person.label_source in ("gt", "pseudo") else None
    return PersonSample(
        image_path=image_path,
        box=np.asarray(person.box, np.float32),
        keypoints=person.keypoints,
        pose=pose,
        betas=betas,
        joints3d=joints,
        camera=camera,
        label_kind=kind if pose is not None else None,
        source=f"project:person#{person.id}",
    )
