"""``adhmr sample``: candidate meshes for every person in a photo."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.common import add_compute_options, add_consensus_option, hypotheses, seed_value
from engine.cli.guidance_option import add_fit_start_option, add_guidance_option
from engine.cli.plugin_options import BUILTIN_SAMPLER, load_scorer_option, sampler_name
from engine.cli.person_options import add_person_thresholds, detector_from
from engine.diffusion import DEFAULT_STEPS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sample",
        help="sample M candidate meshes for every person in a photo",
        description=(
            "Detect every person's keypoints, crop, sample M hypotheses with the diffusion model\n"
            "(hypothesis 0 from zero noise), add the body fitted to the keypoints as one more\n"
            "candidate (the last; --no-fit leaves it out), decode meshes, score them with the HMR-Scorer when\n"
            "one is available, and write candidates.npz, candidates.json and overlay.png: into\n"
            "--out for a photo of one person (or with --person K or --box), else into\n"
            "--out/person_K for each person K, largest first (as 'adhmr detect' numbers them).\n\n"
            "examples:\n"
            "  adhmr sample photo.jpg -M 100 --out out/photo\n"
            "  adhmr sample street.jpg --person 1 --min-size 80 --out out/second\n"
            "  adhmr sample group.jpg --box 120 40 380 600 --out out/left --seed 3\n"
            "  adhmr sample photo.jpg --checkpoint runs/dpo --scorer runs/scorer --out out/dpo\n"
            "  adhmr sample photo.jpg --sampler mymodel --scorer mymodel --out out/mine  # plug-ins"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("photo", type=Path)
    p.add_argument("-M", "--num-candidates", "--hypotheses", dest="num_candidates", type=hypotheses, default=100,
                   help="candidates to sample (default 100)")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--checkpoint", default=None, help="base or DPO checkpoint (default: resources/checkpoints/base)")
    p.add_argument("--sampler", type=sampler_name, default=BUILTIN_SAMPLER, metavar="NAME",
                   help=f"the sampling model: {BUILTIN_SAMPLER} (built in, the default) or an installed "
                        "plug-in's name ('adhmr.samplers' entry points); --checkpoint goes to it")
    p.add_argument("--scorer", default=None, metavar="NAME_OR_CHECKPOINT",
                   help="a scorer plug-in's name ('adhmr.scorers' entry points), else a checkpoint of the "
                        "built-in scorer (default: resources/checkpoints/scorer if present)")
    p.add_argument("--no-score", action="store_true", help="do not score the candidates")
    p.add_argument("--fit", action=argparse.BooleanOptionalAction, default=True,
                   help="add the body fitted to the keypoints and world landmarks as one more candidate, "
                        "after the sampled ones, scored with them (default: on; see README, Fitting)")
    add_consensus_option(p)
    add_guidance_option(p)
    add_fit_start_option(p)
    p.add_argument("--steps", type=int, default=DEFAULT_STEPS, help="DDIM steps (network evaluations)")
    p.add_argument("--seed", type=seed_value, default=0)
    p.add_argument("--box", type=float, nargs=4, metavar=("X0", "Y0", "X1", "Y1"), default=None,
                   help="the person's box in pixels (samples that one person)")
    p.add_argument("--person", type=int, default=None, metavar="K",
                   help="sample only person K (0 = the largest, as 'adhmr detect' lists them)")
    add_person_thresholds(p)
    add_compute_options(p, device_default="cpu")
    p.add_argument("--precision", choices=("auto", "fp32", "bf16"), default="auto",
                   help="network arithmetic: auto = bfloat16 where the device runs it natively (default)")
    p.set_defaults(func=_run)


def _load_scorer(args: argparse.Namespace, body):
    if args.no_score:
        return None
    from engine.errors import CheckpointError

    try:
        scorer = load_scorer_option(args.scorer, body, args.device)
    except CheckpointError as exc:
        if args.scorer is not None:
            raise
        print(f"not scoring: {exc}")
        return None
    return scorer


def _run(args: argparse.Namespace) -> int:
    from engine.body.model import BodyModel
    from engine.devices import check_device
    from engine.image_io import load_image
    from engine.data.landmark_tokens import tokens_of
    from engine.models.pipeline import sample_image, write_sample_outputs
    from engine.models.sample_settings import SampleSettings

    args.device = str(check_device(args.device))  # "auto" becomes the device it means here
    body = BodyModel(device=args.device)
    from engine.plugins import load_sampler

    model = load_sampler(args.sampler, args.checkpoint, body, args.device)
    scorer = _load_scorer(args, body)
    settings = SampleSettings(num_candidates=args.num_candidates, steps=args.steps, seed=args.seed,
                              precision=args.precision, consensus=not args.no_consensus, device=args.device,
                              guidance_scale=args.guidance, guidance_world=args.guidance_world,
                              orient=not args.no_orient, fit_start=args.fit_start)
    image = load_image(args.photo)
    detector = detector_from(args)
    if args.box is not None:
        from engine.detect import detect_file

        people = [(None, detect_file(args.photo, tuple(args.box), detector))]
    else:
        people = _people(args, detector, image)
    fits = _fits(people, body) if args.fit else [None] * len(people)
    for (k, det), fit in zip(people, fits, strict=True):
        x0, y0, x1, y1 = (float(v) for v in det.box)
        result = sample_image(image, model, settings, box=(x0, y0, x1, y1), keypoints=det.keypoints,
                              scorer=scorer, body=body, extra=() if fit is None else (("fit", fit),),
                              landmarks=tokens_of(det))
        out = args.out if len(people) == 1 else args.out / f"person_{k}"
        paths = write_sample_outputs(result, out, faces=body.faces)
        who = "" if k is None else f"person {k}: "
        c = result.candidates
        if c.scores is not None:
            best = int(c.ranking()[0, 0])
            print(f"{who}{c.num_hypotheses} candidates, best #{best} (score {float(c.scores[0, best]):.3f})")
        else:
            print(f"{who}{c.num_hypotheses} candidates (unscored)")
        if fit is not None:
            m = c.num_hypotheses - 1
            score = "" if c.scores is None else f" (score {float(c.scores[0, m]):.3f})"
            print(f"{who}the body fit is candidate #{m}{score}")
        for path in paths.values():
            print(f"wrote {path}")
    return 0


def _fits(people: list, body) -> list:
    """The body fitted to each detected person (all in one batch): (D,) parameters each."""
    from engine.fitting import fit_detected

    return list(fit_detected([det for _, det in people], body).result.params.numpy())


def _people(args: argparse.Namespace, detector, image) -> list:
    """(K, detection) of every person (largest first), or only of --person K; errors
    name the photo."""
    from engine.errors import DetectorError, NoPersonError

    try:
        found = detector.detect_all(image)
    except NoPersonError as err:
        raise NoPersonError(f"{args.photo}: {err}") from None
    if found.too_small:
        print(f"{args.photo}: {found.too_small} people smaller than {args.min_size:g} px skipped")
    persons = list(enumerate(found.persons))
    if args.person is None:
        return persons
    if not 0 <= args.person < len(persons):
        raise DetectorError(
            f"{args.photo}: --person {args.person} is out of range: {len(persons)} "
            f"{'person' if len(persons) == 1 else 'people'} found (0..{len(persons) - 1})"
        )
    return [persons[args.person]]
