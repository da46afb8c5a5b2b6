"""Replace an annotation file's 3D labels with the body fit's: pseudo-labels, as for real photos.

Usage (from the repository root):
    python tools/fit_pseudo_labels.py data/wild_fit/annotations.npz data/wild_fit_pseudo/annotations.npz

Each person is fitted (``engine.fitting.fit_people``) to the pose detector's keypoints and
world landmarks from the file's detector cache (``adhmr detect-dataset``), never to its
labels; the output keeps the images and boxes, its 2D keypoints are the detector's (as a
real photo's), and its pose, shape and camera are the fit's (label kind 'pseudo', source 'fit'). People the detector missed
are left out, as are fits whose camera ended behind the body. The detector cache is written for the output too, so a detector-conditioned
model trains on it directly. This is how the default base model's wild part is made
(tools/train_default_checkpoints.sh): the paper's base mixes lab ground truth with
in-the-wild pseudo-labels.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.body.model import BodyModel  # noqa: E402
from engine.data.augment import camera_for_crop  # noqa: E402
from engine.data.detector_cache import DatasetDetections, cache_path, detections_for, save_detections  # noqa: E402
from engine.data.load import read_annotation_file, save_annotation_file  # noqa: E402
from engine.fitting import fit_people  # noqa: E402
from engine.fitting.people import crops_of  # noqa: E402
from engine.models.param_layout import ParamLayout  # noqa: E402

BATCH = 64


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("annotations", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    source = read_annotation_file(args.annotations)
    records = source.records
    detections = detections_for(args.annotations, records)
    keep = np.flatnonzero(detections.found)
    body, layout = BodyModel(), ParamLayout()
    out, kept_rows, failed = [], [], []
    for start in tqdm(range(0, len(keep), BATCH), desc="fit", unit="batch"):
        rows = keep[start : start + BATCH]
        boxes = np.stack([records[i].box for i in rows])
        fit = fit_people(detections.keypoints[rows], boxes, body, detections.world_landmarks[rows])
        pose, betas, cam = (t.detach().cpu().numpy() for t in layout.to_axis_angle(fit.result.params.float()))
        centre, size = crops_of(boxes)
        for k, i in enumerate(rows):
            r = records[i]
            square_centre, square_side = r.crop_square
            camera = camera_for_crop(cam[k], centre[k], float(size[k]), square_centre, square_side)
            if not camera[0] > 0:
                failed.append(int(i))  # the fit turned the body away behind the camera: no label
                continue
            kept_rows.append(int(i))
            # Like a real photo's person: the detector's keypoints, not the render's exact ones.
            out.append(r.replace(keypoints=detections.keypoints[i], pose=pose[k].reshape(72), betas=betas[k],
                                 camera=camera, joints3d=None,
                                 label_kind="pseudo", source=f"fit:{r.source or r.image_path}",
                                 extra={}))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_annotation_file(args.out, out, source.format)
    kept = read_annotation_file(args.out).records
    save_detections(cache_path(args.out), DatasetDetections(
        detections.keypoints[kept_rows], detections.world_landmarks[kept_rows],
        detections.landmark_visibility[kept_rows], detections.landmark_presence[kept_rows],
        detections.found[kept_rows]), kept)
    print(f"wrote {args.out}: {len(out)} pseudo-labels ({len(records) - len(keep)} people the detector missed, "
          f"{len(failed)} fits with a camera behind the body left out)")


if __name__ == "__main__":
    main()
