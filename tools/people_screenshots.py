"""The best candidate of every person, drawn over real and composite photos (docs/screens/people_*.png).

Usage (from the repository root):
    python tools/people_screenshots.py [--out docs/screens] [--checkpoint PATH] [--scorer PATH] [-M 20]

Photos: scikit-image's astronaut (public domain), frame 30 of camera 1 of Pose2Sim's
Demo_SinglePerson (BSD-3-Clause; fetched as benchmarks/bench_real.py does), and the
synthetic STREET and TWO_PEOPLE composites. Every person the detector finds is sampled
with the default (or given) models through ``sample_image`` as ``adhmr sample`` does it
(the body fit of each person the last candidate and the samples' start), and the
scorer's top candidate of each is drawn, coloured by its score, with the person's
detected keypoints and crop.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
from skimage import data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.body.model import BodyModel  # noqa: E402
from engine.data.landmark_tokens import tokens_of  # noqa: E402
from engine.data.synth import SynthBody  # noqa: E402
from engine.data.synth.composite import STREET, TWO_PEOPLE, scene  # noqa: E402
from engine.detect import PoseDetector  # noqa: E402
from engine.fitting import fit_detected  # noqa: E402
from engine.image_io import save_image  # noqa: E402
from engine.models.diffusion_hmr import DiffusionHMR  # noqa: E402
from engine.models.pipeline import render_overlay, sample_image  # noqa: E402
from engine.models.sample_settings import SampleSettings  # noqa: E402
from engine.models.scorer import HMRScorer  # noqa: E402


def pose2sim_frame() -> np.ndarray:
    from engine.multiview.pose2sim_demo import default_data_dir, fetch_demo
    from engine.multiview.video import read_frames

    demo = fetch_demo(default_data_dir())
    for index, frame in read_frames(demo / "videos" / "cam01.mp4"):
        if index == 30:
            return frame
    raise SystemExit("cam01.mp4 has fewer than 31 frames")


def best_of_everyone(image: np.ndarray, detector, model, scorer, body, M: int) -> np.ndarray:
    canvas = image
    persons = detector.detect_all(image).persons
    fits = fit_detected(persons, body).result.params.numpy()
    for person, fit in zip(persons, fits):
        result = sample_image(image, model, SampleSettings(num_candidates=M, precision="fp32"), box=person.box,
                              keypoints=np.asarray(person.keypoints), scorer=scorer, body=body,
                              landmarks=tokens_of(person), extra=(("fit", fit),))
        canvas = render_overlay(dataclasses.replace(result, image=canvas), body.faces, top_k=1)
    return canvas


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screens"))
    parser.add_argument("--checkpoint", default=None)
    parser.add_argument("--scorer", default=None)
    parser.add_argument("-M", type=int, default=20)
    args = parser.parse_args()
    body = BodyModel()
    model = DiffusionHMR.load(args.checkpoint, body=body)
    scorer = HMRScorer.load(args.scorer, body=body)
    detector = PoseDetector()
    sb = SynthBody.load()
    photos = {
        "astronaut": data.astronaut(),
        "pose2sim": pose2sim_frame(),
        "street": scene(sb, STREET).image,
        "two_people": scene(sb, TWO_PEOPLE).image,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    for name, image in photos.items():
        path = args.out / f"people_{name}.png"
        save_image(path, best_of_everyone(image, detector, model, scorer, body, args.M))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
