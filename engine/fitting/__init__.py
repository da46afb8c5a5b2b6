"""SMPLify-style fitting of the body to detected keypoints and BlazePose world landmarks.

``fit_people`` fits people of photos (pixels, boxes) into the diffusion model's parameter
layout, ``fit_detected`` the people a detector found, ``fit_crops`` people as a model
reads them (crops, landmark tokens); ``fit_bodies`` is the batched optimisation in crop
coordinates; ``refine_candidates`` runs a few fit steps from any candidates (their crops
as decoded).
"""

from engine.fitting.people import PeopleFit, fit_crops, fit_detected, fit_people, refine_candidates
from engine.fitting.smplify import FitConfig, FitResult, fit_bodies

__all__ = [
    "FitConfig",
    "FitResult",
    "PeopleFit",
    "fit_bodies",
    "fit_crops",
    "fit_detected",
    "fit_people",
    "refine_candidates",
]
