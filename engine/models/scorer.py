"""The HMR-Scorer: how well does a candidate body fit the image? (ADHMR, Sec. 4.1)

Its own image encoder gives a global feature map (8 x 8 tokens with position
embeddings) and a stride-4 local map. For each candidate, the local map is sampled at the
candidate's 41 projected points (24 SMPL joints, 17 COCO keypoints); each point becomes a
token with its (u, v, depth), its identity and its agreement with the detected 2D
keypoint. A transformer reads [CLS, joint tokens, image tokens]; the CLS output gives s
and the score is sigmoid(5 s), in (0, 1), higher = better. Each image is encoded once and
shared by its M candidates.

Two options, recorded in the checkpoint's architecture (older checkpoints have neither):

* ``detector_inputs``: the scorer also reads the pose detector's 33 world landmarks
  (``engine.data.landmark_tokens``), once per image as 33 more context tokens, and per
  candidate joint token its 3D agreement with the matching landmark
  (``scorer_parts.landmark_agreement``); its 2D keypoint input is then the detector's.
* ``cross_attention``: the candidate sequence [CLS, joint tokens] attends to itself and
  cross-attends to one encoding of the image (global tokens + landmark tokens, mixed by
  one transformer layer once per image), instead of carrying the image tokens through
  the transformer once per candidate.

When a person's candidates are scored together, the logit also gets the sample-consensus
term of ``engine.models.consensus`` (a candidate that agrees with its siblings gains,
one that disagrees loses), with the weight its checkpoint records; ``logits`` is the
network alone, which is what training sees.
"""

from __future__ import annotations

import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from engine.body.model import BodyModel
from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.errors import CheckpointError, ShapeError
from engine.models.checkpoint import load_checkpoint, save_checkpoint
from engine.models.candidates import Candidates
from engine.models.consensus import MIN_CANDIDATES, consensus_adjustment, mean_sibling_distance
from engine.models.encoder import LandmarkEncoder
from engine.models.param_layout import ParamLayout
from engine.models.scorer_architecture import ScorerConfig
from engine.models.scorer_parts import (
    NUM_COCO,
    NUM_SCORER_JOINTS,
    CrossAttentionBlock,
    ImageEncoder,
    JointEmbedding,
    joint_inputs,
    landmark_agreement,
    resize_crops,
    sample_local_features,
)

log = logging.getLogger(__name__)

DEFAULT_SCORER_PATH = Path(__file__).resolve().parents[2] / "resources" / "checkpoints" / "scorer"
SCORE_TEMPERATURE = 5.0
"""score = sigmoid(SCORE_TEMPERATURE * s), as in the paper."""

MAX_SEQUENCES = 256
"""Candidates pushed through the transformer at once; larger M is processed in chunks."""


class HMRScorer(nn.Module):
    """Scores candidate bodies against an image crop.

    Args:
        config: the architecture.
        layout: the parameter layout of the base model whose candidates it scores (kept in
            the checkpoint so a mismatched pair can be refused).
    """

    def __init__(self, config: ScorerConfig = ScorerConfig(), layout: ParamLayout = ParamLayout()):
        super().__init__()
        self.config = config
        self.layout = layout
        self.body_signature: dict[str, Any] | None = None
        self.checkpoint_config: dict[str, Any] = {}
        w = config.width
        self.encoder = ImageEncoder(w, config.grid)
        self.image_pos = nn.Parameter(torch.randn(config.grid * config.grid, w) * 0.02)
        self.image_type = nn.Parameter(torch.zeros(w))
        self.cls = nn.Parameter(torch.randn(w) * 0.02)
        self.joints = JointEmbedding(w, agreement=config.detector_inputs)
        layer = nn.TransformerEncoderLayer(
            w, config.heads, dim_feedforward=w * config.mlp_ratio, dropout=0.0,
            activation="gelu", batch_first=True, norm_first=True,
        )
        if config.cross_attention:
            # One layer over the context tokens, once per image, lets the global and
            # landmark tokens see each other before the candidates read them.
            self.context = layer
            self.blocks = nn.ModuleList(CrossAttentionBlock(w, config.heads, config.mlp_ratio)
                                        for _ in range(config.layers))
        else:
            self.transformer = nn.TransformerEncoder(layer, config.layers, enable_nested_tensor=False)
        self.head = nn.Sequential(nn.LayerNorm(w), nn.Linear(w, 1))
        if config.detector_inputs:
            self.landmarks = LandmarkEncoder(w)
            self.landmark_type = nn.Parameter(torch.zeros(w))
        # Ranking losses ignore a constant shift of s, so trained logits can drift far
        # from 0 and saturate the sigmoid; this offset (from the checkpoint's calibration)
        # centres the displayed scores without changing any ranking.
        self.score_offset = 0.0
        # Logit units per mm of mean PA distance to the sibling candidates (0 = off), fitted
        # after training by tools/fit_consensus_weight.py and kept in the checkpoint.
        self.consensus_weight = 0.0

    @property
    def device(self) -> torch.device:
        return self.cls.device

    @property
    def detector_inputs(self) -> bool:
        """Whether it reads the detector's landmarks (``candidate_logits(landmarks=...)``)."""
        return self.config.detector_inputs

    @property
    def crop_size(self) -> int:
        """Side in pixels of the square crops it reads (``Scorer`` protocol)."""
        return self.config.crop_size

    def _check_inputs(self, images, keypoints, cand_joints_crop, cand_depth) -> tuple[int, int]:
        S = self.config.crop_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, S, S):
            raise ShapeError(f"scorer: images have shape {tuple(images.shape)}, expected (N, 3, {S}, {S})")
        N = images.shape[0]
        if tuple(keypoints.shape) != (N, NUM_COCO, 3):
            raise ShapeError(f"scorer: keypoints have shape {tuple(keypoints.shape)}, expected ({N}, 17, 3)")
        if (
            cand_joints_crop.ndim != 4
            or cand_joints_crop.shape[0] != N
            or tuple(cand_joints_crop.shape[2:]) != (NUM_SCORER_JOINTS, 2)
        ):
            raise ShapeError(
                f"scorer: candidate joints have shape {tuple(cand_joints_crop.shape)}, expected ({N}, M, 41, 2)"
            )
        M = cand_joints_crop.shape[1]
        if tuple(cand_depth.shape) != (N, M, NUM_SCORER_JOINTS):
            raise ShapeError(f"scorer: candidate depths have shape {tuple(cand_depth.shape)}, expected ({N}, {M}, 41)")
        named = (("images", images), ("keypoints", keypoints), ("candidate joints", cand_joints_crop),
                 ("candidate depths", cand_depth))
        for name, t in named:
            if not torch.isfinite(t).all():
                raise ShapeError(f"scorer: {name} hold NaN or infinite values")
        return N, M

    def logits(
        self,
        images: torch.Tensor,
        keypoints: torch.Tensor,
        cand_joints_crop: torch.Tensor,
        cand_depth: torch.Tensor,
        max_sequences: int = MAX_SEQUENCES,
        landmarks: torch.Tensor | None = None,
        points3d: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The pre-sigmoid scores 5 s, (N, M); ranking losses use these.

        Args: as :meth:`forward`. max_sequences: candidates per transformer chunk.
        landmarks: (N, 33, 6) the detector's tokens, None = found nobody; points3d:
            (N, M, 41, 3) each candidate's SMPL joints then COCO keypoints, metres,
            camera-oriented, needed with landmarks. Both are read only by a scorer with
            ``detector_inputs``.
        """
        N, M = self._check_inputs(images, keypoints, cand_joints_crop, cand_depth)
        dev = self.device
        if M == 0 or N == 0:
            return torch.zeros(N, M, device=dev)
        agreement = self._agreement(N, M, landmarks, points3d)
        local, tokens = self.encoder(images.to(dev, torch.float32))
        tokens = tokens + self.image_pos + self.image_type
        if self.config.detector_inputs:
            lm = torch.zeros(N, NUM_LANDMARKS, TOKEN_DIM, device=dev) if landmarks is None else landmarks
            tokens = torch.cat([tokens, self.landmarks(lm.to(dev, torch.float32)) + self.landmark_type], dim=1)
        if self.config.cross_attention:
            tokens = self.context(tokens)
        crop = cand_joints_crop.to(dev, torch.float32)
        depth = cand_depth.to(dev, torch.float32)
        kp = keypoints.to(dev, torch.float32)
        per_chunk = max(1, max_sequences // N)
        out = []
        for m0 in range(0, M, per_chunk):
            c = crop[:, m0 : m0 + per_chunk]
            d = depth[:, m0 : m0 + per_chunk]
            m = c.shape[1]
            feats = sample_local_features(local, c.reshape(N, m * NUM_SCORER_JOINTS, 2))
            feats = feats.reshape(N * m, NUM_SCORER_JOINTS, -1)
            agree = None if agreement is None else agreement[:, m0 : m0 + m].reshape(N * m, NUM_SCORER_JOINTS, -1)
            # Rows are image-major: image n's m candidates are rows n*m ... n*m + m - 1.
            joint_tok = self.joints(
                feats, c.reshape(N * m, NUM_SCORER_JOINTS, 2), d.reshape(N * m, -1), kp.repeat_interleave(m, dim=0),
                agree,
            )
            cls = self.cls.expand(N * m, 1, -1)
            if self.config.cross_attention:
                x = torch.cat([cls, joint_tok], dim=1)
                for block in self.blocks:
                    x = block(x, tokens)
                s = self.head(x[:, 0])[:, 0]
            else:
                seq = torch.cat([cls, joint_tok, tokens.repeat_interleave(m, dim=0)], dim=1)
                s = self.head(self.transformer(seq)[:, 0])[:, 0]
            out.append(SCORE_TEMPERATURE * s.reshape(N, m))
        return torch.cat(out, dim=1)

    def _agreement(
        self, N: int, M: int, landmarks: torch.Tensor | None, points3d: torch.Tensor | None
    ) -> torch.Tensor | None:
        """(N, M, 41, 4) per-token 3D agreement with the landmarks, or None for a scorer
        without detector inputs."""
        if not self.config.detector_inputs:
            return None
        dev = self.device
        if landmarks is None:
            # The detector found nobody: every agreement row is 'not found', all zeros.
            return torch.zeros(N, M, NUM_SCORER_JOINTS, 4, device=dev)
        if tuple(landmarks.shape) != (N, NUM_LANDMARKS, TOKEN_DIM) or not torch.isfinite(landmarks).all():
            raise ShapeError(f"scorer: landmarks have shape {tuple(landmarks.shape)}, expected finite "
                             f"({N}, {NUM_LANDMARKS}, {TOKEN_DIM})")
        if points3d is None or tuple(points3d.shape) != (N, M, NUM_SCORER_JOINTS, 3):
            got = None if points3d is None else tuple(points3d.shape)
            raise ShapeError(f"scorer: with landmarks the candidates' 3D points must be ({N}, {M}, 41, 3), got {got}")
        return landmark_agreement(points3d.to(dev, torch.float32), landmarks.to(dev, torch.float32))

    def forward(
        self,
        images: torch.Tensor,
        keypoints: torch.Tensor,
        cand_joints_crop: torch.Tensor,
        cand_depth: torch.Tensor,
    ) -> torch.Tensor:
        """Score M candidates for each of N crops.

        Args:
            images: (N, 3, S, S) crops normalised as ``PersonCropDataset`` yields them.
            keypoints: (N, 17, 3) detected COCO-17 keypoints, normalised crop coordinates
                and confidence (0 = missing).
            cand_joints_crop: (N, M, 41, 2) each candidate's projected SMPL joints then
                COCO keypoints, normalised crop coordinates (see ``joint_inputs``).
            cand_depth: (N, M, 41) their z relative to the pelvis, metres.

        Returns:
            (N, M) scores in (0, 1), higher = better fit.
        """
        return torch.sigmoid(self.logits(images, keypoints, cand_joints_crop, cand_depth) - self.score_offset)

    @torch.no_grad()
    def candidate_logits(
        self, images: torch.Tensor, keypoints: torch.Tensor, candidates: Candidates,
        landmarks: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """The network's logits (N, M) for decoded candidates (``engine.models.candidates.Candidates``).

        images: (N, 3, S', S') normalised crops, resampled to the scorer's crop size when S'
        differs (the same region of the image, so crop coordinates stay valid);
        keypoints: (N, 17, 3) (the detector's); candidates with joints (N, M, 24, 3),
        keypoints3d (N, M, 17, 3), joints_2d (N, M, 24, 2), keypoints_2d (N, M, 17, 2);
        landmarks: (N, 33, 6) the detector's tokens, read only with ``detector_inputs``
        (None: the detector found nobody).
        """
        if images.ndim == 4 and images.shape[1] == 3 and images.shape[2] == images.shape[3]:
            images = resize_crops(images, self.config.crop_size)
        crop, depth = joint_inputs(candidates.joints, candidates.keypoints3d, candidates.joints_2d, candidates.keypoints_2d)
        extra: dict[str, Any] = {}
        if self.detector_inputs and landmarks is not None:
            extra = {"landmarks": torch.as_tensor(landmarks),
                     "points3d": torch.cat([candidates.joints, candidates.keypoints3d], dim=-2)}
        was_training = self.training
        self.eval()
        try:
            return self.logits(images, keypoints, crop, depth, **extra)
        finally:
            self.train(was_training)

    def scores_from_logits(self, logits: torch.Tensor, sibling_mm: torch.Tensor | None = None) -> torch.Tensor:
        """Scores (N, M) in (0, 1) from network logits (N, M).

        sibling_mm: (N, M) each candidate's mean PA distance to the other candidates of
        its person, mm (``engine.models.consensus.mean_sibling_distance``); with it (and a
        consensus weight) the candidates that agree gain; None scores each on its own.
        """
        logits = logits.float()
        if sibling_mm is not None:
            logits = logits + consensus_adjustment(sibling_mm, self.consensus_weight).to(logits.device)
        return torch.sigmoid(logits - self.score_offset)

    @torch.no_grad()
    def score_candidates(
        self, images: torch.Tensor, keypoints: torch.Tensor, candidates: Candidates, consensus: bool = True,
        landmarks: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Score decoded candidates: (N, M) scores in (0, 1), higher = better.

        Arguments as :meth:`candidate_logits`. consensus: compare each person's candidates
        with each other (so score a person's candidates in one call); False scores each
        on its own, as a lone pseudo-label is.
        """
        logits = self.candidate_logits(images, keypoints, candidates, landmarks=landmarks)
        sibling = None
        if consensus and self.consensus_weight and candidates.joints.shape[1] >= MIN_CANDIDATES:
            # Procrustes needs float32 SVDs, whatever precision the networks ran in.
            with torch.autocast(device_type=candidates.joints.device.type, enabled=False):
                sibling = mean_sibling_distance(candidates.joints.float())
        return self.scores_from_logits(logits, sibling)

    def save(self, path: str | Path, extra: dict[str, Any] | None = None) -> Path:
        """Write a 'scorer' checkpoint (safetensors + JSON); returns the weights path.

        extra: more JSON-serialisable config (training settings, validation figures).
        """
        config = {
            "kind": "scorer",
            "architecture": asdict(self.config),
            "layout": self.layout.to_dict(),
            "body_model": self.body_signature,
        }
        if self.score_offset:
            config["calibration"] = {"logit_offset": self.score_offset}
        if self.consensus_weight:
            config["consensus"] = {"weight_per_mm": self.consensus_weight}
        config.update(extra or {})
        return save_checkpoint(path, self.state_dict(), config)

    @classmethod
    def load(cls, path: str | Path | None = None, body: BodyModel | None = None,
             device: str | torch.device = "cpu") -> "HMRScorer":
        """Load a scorer checkpoint.

        path: the checkpoint (stem or file); None = the default ``resources/checkpoints/scorer``.
        body: the BodyModel in use; a scorer trained with another body model is refused.

        Raises:
            CheckpointError: missing, corrupt, not a scorer, or for another body model.
        """
        target = Path(path) if path is not None else DEFAULT_SCORER_PATH
        if path is None and not target.with_suffix(".safetensors").is_file():
            raise CheckpointError(
                f"{target}.safetensors: no default scorer checkpoint; train one with "
                "'adhmr train-scorer --data DATA.npz --out resources/checkpoints/scorer'"
            )
        state, config = load_checkpoint(target, expected_kind="scorer", body=body)
        arch = config.get("architecture")
        if not isinstance(arch, dict):
            raise CheckpointError(f"{target}: scorer checkpoint has no architecture")
        model = cls(ScorerConfig.from_dict(arch), ParamLayout.from_dict(config.get("layout", {})))
        try:
            model.load_state_dict(state)
        except RuntimeError as exc:
            reason = str(exc).splitlines()[0]
            raise CheckpointError(f"{target}: weights do not fit the recorded architecture ({reason})") from None
        model.body_signature = config.get("body_model")
        model.checkpoint_config = config
        calibration = config.get("calibration") or {}
        model.score_offset = float(calibration.get("logit_offset", 0.0))
        consensus = config.get("consensus") or {}
        try:
            model.consensus_weight = float(consensus.get("weight_per_mm", 0.0))
        except (AttributeError, TypeError, ValueError):
            raise CheckpointError(f"{target}: scorer consensus weight is malformed") from None
        if not (model.consensus_weight >= 0.0 and model.consensus_weight < float("inf")):
            raise CheckpointError(f"{target}: scorer consensus weight must be a finite number >= 0")
        return model.to(device).eval()
