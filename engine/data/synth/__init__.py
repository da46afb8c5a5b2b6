"""Synthetic two-domain training data: posed, clothed bodies rendered over backgrounds.

``generate_dataset`` writes a SPIN-style folder; ``render_sample`` renders one sample;
``corrupt_labels`` makes realistic pseudo-label errors; ``DOMAINS`` holds the 'studio'
and 'wild' settings.
"""

from engine.data.synth.corruption import CORRUPTION_KINDS, CorruptionResult, corrupt_labels
from engine.data.synth.domains import DOMAINS, DomainConfig, get_domain
from engine.data.synth.generate import generate_dataset
from engine.data.synth.pose_prior import KEY_POSES, PoseSpread, sample_pose
from engine.data.synth.render import RenderedSample, SynthBody, render_sample

__all__ = [
    "CORRUPTION_KINDS", "CorruptionResult", "corrupt_labels", "DOMAINS", "DomainConfig", "get_domain",
    "generate_dataset", "KEY_POSES", "PoseSpread", "sample_pose", "RenderedSample", "SynthBody", "render_sample",
]
