"""The image domains: ``studio`` and ``lab`` (stand in for lab data) and ``wild`` (in the wild).

Studio: plain or gradient backdrops, the whole person near the centre, mild camera and
pose variety, soft frontal light, clean keypoints. Wild: cluttered procedural
backgrounds, occluders, truncation at the image border, wide focal and distance ranges,
any facing direction and tilted bodies, more extreme poses, hard coloured light, blur,
noise and colour shifts, and keypoints with detector-like noise where occluded points
are dropped.

Lab: the studio's look and poses seen as a multi-camera lab rig sees its subject: from any
side (the subject turns; cameras stand all around) and from cameras mounted above head
height looking down by up to 40 degrees. The studio's front views within 60 degrees and
near-level cameras never show a person from behind or from above, which real footage
does (the Pose2Sim cameras look down by about 30 degrees).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from engine.data.synth.pose_prior import PoseSpread
from engine.errors import DataError


@dataclass(frozen=True)
class DomainConfig:
    """Sampling ranges of one domain. Ranges are (low, high), uniform unless noted.

    betas_sigma, betas_clip: shape ~ N(0, sigma^2) clipped to +-clip.
    pose: the pose prior's spread.
    yaw_deg: the body turns about its vertical axis within +-yaw_deg of facing the camera.
    tilt_sigma_deg: whole-body pitch and roll, Gaussian.
    elevation_deg: camera looking down (positive) or up at the person.
    roll_sigma_deg: camera roll, Gaussian.
    focal_256: focal length in pixels for a 256 px image (scaled with the image size).
    fill: the body's larger 3D extent, projected, as a share of the image side.
    centre_jitter: person centre offset from the image centre, share of the side.
    truncation_prob, truncation: chance that the person is pushed across the border, and
        by how much of their projected size.
    ambient, light: ambient term and diffuse light strength.
    light_cone_deg: angle between the light and the camera's viewing direction.
    light_tint: per-channel light colour deviation.
    cluttered: procedural clutter background (else plain or gradient backdrop).
    occluder_prob, max_occluders: chance of occluders and how many at most.
    blur_prob, motion_blur_prob, noise_sigma (0-255 units), colour_jitter (per-channel
        gain deviation), lowres_prob: image degradations.
    keypoint_noise_px, hidden_noise_px: keypoint noise (for a 150 px person) of visible
        and self-occluded points; 0 keeps keypoints exact with confidence = visibility
        (see ``keypoints.observe``).
    vivid, patterns: clothing colour saturation chance and striped shirts.
    """

    name: str
    betas_sigma: float
    betas_clip: float
    pose: PoseSpread
    yaw_deg: float
    tilt_sigma_deg: float
    elevation_deg: tuple[float, float]
    roll_sigma_deg: float
    focal_256: tuple[float, float]
    fill: tuple[float, float]
    centre_jitter: float
    truncation_prob: float
    truncation: tuple[float, float]
    ambient: tuple[float, float]
    light: tuple[float, float]
    light_cone_deg: float
    light_tint: float
    cluttered: bool
    occluder_prob: float
    max_occluders: int
    blur_prob: float
    motion_blur_prob: float
    noise_sigma: tuple[float, float]
    colour_jitter: float
    lowres_prob: float
    keypoint_noise_px: float
    hidden_noise_px: float
    vivid: float
    patterns: bool


STUDIO = DomainConfig(
    name="studio",
    betas_sigma=1.0, betas_clip=2.0,
    pose=PoseSpread(noise_deg=6.0, tilt_deg=3.0, keep_fraction=0.15),
    yaw_deg=60.0, tilt_sigma_deg=2.0, elevation_deg=(-5.0, 15.0), roll_sigma_deg=0.0,
    focal_256=(500.0, 700.0), fill=(0.6, 0.82), centre_jitter=0.03,
    truncation_prob=0.0, truncation=(0.0, 0.0),
    ambient=(0.35, 0.5), light=(0.5, 0.7), light_cone_deg=35.0, light_tint=0.0,
    cluttered=False, occluder_prob=0.0, max_occluders=0,
    blur_prob=0.0, motion_blur_prob=0.0, noise_sigma=(0.0, 1.5), colour_jitter=0.0, lowres_prob=0.0,
    keypoint_noise_px=0.0, hidden_noise_px=0.0,
    vivid=0.3, patterns=False,
)

WILD = DomainConfig(
    name="wild",
    betas_sigma=1.3, betas_clip=3.0,
    pose=PoseSpread(noise_deg=15.0, tilt_deg=8.0, keep_fraction=0.05),
    yaw_deg=180.0, tilt_sigma_deg=10.0, elevation_deg=(-20.0, 40.0), roll_sigma_deg=8.0,
    focal_256=(300.0, 1100.0), fill=(0.35, 1.25), centre_jitter=0.15,
    truncation_prob=0.35, truncation=(0.1, 0.4),
    ambient=(0.08, 0.45), light=(0.4, 1.3), light_cone_deg=110.0, light_tint=0.25,
    cluttered=True, occluder_prob=0.6, max_occluders=3,
    blur_prob=0.3, motion_blur_prob=0.25, noise_sigma=(2.0, 10.0), colour_jitter=0.2, lowres_prob=0.2,
    keypoint_noise_px=2.5, hidden_noise_px=8.0,
    vivid=0.6, patterns=True,
)

LAB = dataclasses.replace(
    STUDIO, name="lab", yaw_deg=180.0, tilt_sigma_deg=3.0, elevation_deg=(-10.0, 40.0), roll_sigma_deg=2.0)

DOMAINS: dict[str, DomainConfig] = {"studio": STUDIO, "lab": LAB, "wild": WILD}


def get_domain(name: str) -> DomainConfig:
    """The domain called ``name`` ('studio' or 'wild')."""
    try:
        return DOMAINS[name]
    except KeyError:
        raise DataError(f"unknown synthetic domain {name!r} (use {' or '.join(DOMAINS)})") from None
