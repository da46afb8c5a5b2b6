"""SMPLify-style fitting of the body to detected keypoints and BlazePose world landmarks.

``fit_people`` fits people of photos (pixels, boxes) into the diffusion model's parameter
layout; ``fit_bodies`` is the batched optimisation in crop coordinates; a candidate is
refined by passing it as ``init``.
"""

from engine.fitting.people import PeopleFit, fit_people
from engine.fitting.smplify import FitConfig, FitResult, fit_bodies

__all__ = ["FitConfig", "FitResult", "PeopleFit", "fit_bodies", "fit_people"]
