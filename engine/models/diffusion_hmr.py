"""The diffusion HMR base model: condition encoder + denoiser + schedule + normaliser.

It diffuses the normalised parameter vector of one person (``ParamLayout``, D = 157)
conditioned on the person's crop and COCO-17 keypoints, and samples M hypotheses per
person with DDIM (``engine.diffusion.DEFAULT_STEPS`` steps by default), hypothesis 0 starting from zero noise. See
:mod:`engine.models.denoiser` for why the network predicts v rather than ε.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from engine.body.model import RESOURCES, BodyModel
from engine.diffusion import DEFAULT_STEPS, ddim_sample, forward_noise, linear_schedule, start_timestep
from engine.errors import CheckpointError, ShapeError
from engine.models import losses
from engine.models.checkpoint import body_signature, checkpoint_paths, load_checkpoint, save_checkpoint
from engine.models.denoiser import Denoiser
from engine.models.encoder import NUM_KEYPOINTS, STRIDE, Condition, ConditionEncoder
from engine.models.guidance import ReprojectionGuidance
from engine.data.landmark_tokens import NUM_LANDMARKS, TOKEN_DIM
from engine.models.param_layout import Normalizer, ParamLayout

log = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = RESOURCES / "checkpoints" / "base"
KINDS = ("base", "dpo")
ARCH_DEFAULTS: dict[str, Any] = {
    "crop_size": 128,
    "width": 128,
    "layers": 4,
    "heads": 4,
    "mlp_ratio": 2.0,
    "encoder_channels": [32, 64, 128, 128],
    "num_timesteps": 1000,
    "beta_start": 1e-4,
    "beta_end": 0.02,
    "x0_clip": 5.0,
    # Larger auxiliary weights slow the x0 fit (and end with a worse zero-noise MPJPE on
    # a small overfitting run): the geometric terms refine, the x0 term leads.
    "loss_weights": {"x0": 1.0, "keypoints_2d": 0.1, "joints_3d": 0.2, "vertices": 0.1},
    # Also read the detector's world landmarks (``engine.data.landmark_tokens``), and
    # detected rather than labelled keypoints; False for checkpoints made before.
    "detector_inputs": False,
}


class DiffusionHMR(nn.Module):
    """Diffusion model over SMPL-style parameters of one person.

    Args:
        config: architecture overrides of ``ARCH_DEFAULTS`` (crop_size, width, layers,
            heads, mlp_ratio, encoder_channels, schedule, x0_clip, loss_weights).
        normalizer: per-dimension statistics of the training labels; identity if None.
        body: the body model it is trained with (recorded in checkpoints).
        layout: the diffused vector's layout.
    """

    # Buffers, declared so that type checkers see tensors rather than Module attributes.
    sqrt_alpha_bar: torch.Tensor
    sqrt_one_minus_alpha_bar: torch.Tensor

    def __init__(
        self,
        config: dict | None = None,
        normalizer: Normalizer | None = None,
        body: BodyModel | None = None,
        layout: ParamLayout | None = None,
    ):
        super().__init__()
        cfg = {k: v for k, v in {**ARCH_DEFAULTS, **(config or {})}.items() if k in ARCH_DEFAULTS or k == "body_model"}
        cfg["loss_weights"] = {**ARCH_DEFAULTS["loss_weights"], **cfg["loss_weights"]}
        if int(cfg["crop_size"]) % STRIDE:
            raise ShapeError(f"crop_size must be a multiple of {STRIDE}, got {cfg['crop_size']}")
        if body is not None:
            cfg["body_model"] = body_signature(body)
        self.layout = layout or ParamLayout()
        D = self.layout.dim
        self.normalizer = normalizer or Normalizer(np.zeros(D, np.float32), np.ones(D, np.float32))
        self.schedule = linear_schedule(int(cfg["num_timesteps"]), float(cfg["beta_start"]), float(cfg["beta_end"]))
        # sqrt(ᾱ) and sqrt(1 - ᾱ) per timestep, computed in float64 and kept beside the
        # weights (so on their device): float32 is exact enough once the subtraction is done.
        a = self.schedule.alphas_cumprod
        self.register_buffer("sqrt_alpha_bar", a.sqrt().float(), persistent=False)
        self.register_buffer("sqrt_one_minus_alpha_bar", (1.0 - a).sqrt().float(), persistent=False)
        self.encoder = ConditionEncoder(int(cfg["width"]), tuple(int(c) for c in cfg["encoder_channels"]),
                                        landmarks=bool(cfg["detector_inputs"]))
        self.denoiser = Denoiser(
            self.layout, int(cfg["width"]), int(cfg["layers"]), int(cfg["heads"]), float(cfg["mlp_ratio"]))
        self.config = cfg

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    @property
    def crop_size(self) -> int:
        return int(self.config["crop_size"])

    @property
    def detector_inputs(self) -> bool:
        """Whether the model reads the detector's landmarks (and detected keypoints)."""
        return bool(self.config["detector_inputs"])

    # ----------------------------------------------------------------- network

    def _check_condition_inputs(
        self, images: torch.Tensor, keypoints: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        images = torch.as_tensor(images)
        keypoints = torch.as_tensor(keypoints)
        S = self.crop_size
        if images.ndim != 4 or tuple(images.shape[1:]) != (3, S, S):
            raise ShapeError(f"images: expected (B, 3, {S}, {S}) for this model, got {tuple(images.shape)}")
        if tuple(keypoints.shape) != (images.shape[0], NUM_KEYPOINTS, 3):
            raise ShapeError(
                f"keypoints: expected ({images.shape[0]}, {NUM_KEYPOINTS}, 3), got {tuple(keypoints.shape)}")
        if not (torch.isfinite(images).all() and torch.isfinite(keypoints).all()):
            raise ShapeError("images or keypoints hold NaN or infinite values")
        dtype = next(self.parameters()).dtype
        return images.to(self.device, dtype), keypoints.to(self.device, dtype)

    def encode(self, images: torch.Tensor, keypoints: torch.Tensor, landmarks: torch.Tensor | None = None) -> Condition:
        """images: (B, 3, S, S) normalised crops; keypoints: (B, 17, 3) normalised crop
        coordinates and confidence (0 = missing); landmarks: (B, 33, 6) detector tokens
        (``landmark_tokens``), read only by a detector-conditioned model (None: the
        detector found nobody). Returns the Condition of batch B."""
        images, keypoints = self._check_condition_inputs(images, keypoints)
        if landmarks is not None and self.detector_inputs:
            landmarks = torch.as_tensor(landmarks)
            if tuple(landmarks.shape) != (images.shape[0], NUM_LANDMARKS, TOKEN_DIM):
                raise ShapeError(f"landmarks: expected ({images.shape[0]}, {NUM_LANDMARKS}, {TOKEN_DIM}), "
                                 f"got {tuple(landmarks.shape)}")
            if not torch.isfinite(landmarks).all():
                raise ShapeError("landmarks hold NaN or infinite values")
            landmarks = landmarks.to(images.device, images.dtype)
        return self.encoder(images, keypoints, landmarks if self.detector_inputs else None)

    def _coefficients(self, t: torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """sqrt(ᾱ_t), sqrt(1 - ᾱ_t) as (N, 1) in like's dtype."""
        if t.dtype != torch.long or t.shape != like.shape[:1]:
            raise ShapeError(f"timesteps: expected a ({like.shape[0]},) long tensor, got {t.dtype} {tuple(t.shape)}")
        t = t.to(self.sqrt_alpha_bar.device)
        if t.numel() and (int(t.min()) < 0 or int(t.max()) >= self.schedule.num_timesteps):
            raise ShapeError(f"timesteps must lie in [0, {self.schedule.num_timesteps})")
        signal = self.sqrt_alpha_bar[t].to(like.device, like.dtype)[:, None]
        return signal, self.sqrt_one_minus_alpha_bar[t].to(like.device, like.dtype)[:, None]

    def predict_v(self, x_t: torch.Tensor, t: torch.Tensor, cond: Condition) -> torch.Tensor:
        """The network output v: (N, D). cond may have batch B dividing N (rows grouped)."""
        return self.denoiser(x_t, t.to(x_t.device), cond)

    def predict_x0(self, x_t: torch.Tensor, t: torch.Tensor, cond: Condition) -> torch.Tensor:
        """Clean estimate x0^ = sqrt(ᾱ) x_t - sqrt(1 - ᾱ) v: (N, D) normalised."""
        signal, sigma = self._coefficients(t, x_t)
        return signal * x_t - sigma * self.predict_v(x_t, t, cond).to(x_t.dtype)

    def predict_eps(self, x_t: torch.Tensor, t: torch.Tensor, cond: Condition) -> torch.Tensor:
        """Noise estimate ε^ = sqrt(1 - ᾱ) x_t + sqrt(ᾱ) v.

        x_t: (N, D) normalised. t: (N,) long. cond: Condition of batch N (or B dividing N,
        each person's rows consecutive). Returns (N, D).
        """
        signal, sigma = self._coefficients(t, x_t)
        return sigma * x_t + signal * self.predict_v(x_t, t, cond).to(x_t.dtype)

    def denoise_error(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor, cond: Condition) -> torch.Tensor:
        """Per-sample mean squared ε error ‖ε - ε^(x_t, t)‖² / D: (N,).

        x0: (N, D) normalised clean vectors; t: (N,) long; noise: (N, D) the ε that
        noises x0 to x_t; cond: the Condition of each row. What Diffusion-DPO compares.
        """
        x_t = self.q_sample(x0, t, noise)
        return (self.predict_eps(x_t, t, cond) - noise).square().mean(1)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """x0: (N, D) normalised, noised to step t: (N,) long with noise (N, D): x_t (N, D)."""
        return forward_noise(x0, noise, *self._coefficients(t, x0))

    # ---------------------------------------------------------------- training

    def training_loss(self, batch: dict, body: BodyModel) -> tuple[torch.Tensor, dict[str, float]]:
        """Diffusion loss plus auxiliary losses on the decoded clean estimate.

        batch: a collated PersonCropDataset batch (image (B, 3, S, S), keypoints (B, 17, 3),
        pose (B, 72), betas (B, 10), camera (B, 3), has_pose / has_betas / has_camera (B,);
        for a detector-conditioned model also cond_keypoints (B, 17, 3), the detector's,
        and landmarks (B, 33, 6)). The keypoints are the 2D label, the cond_keypoints what
        the model reads.
        Unknown label parts are set to the normalised mean (0) and left out of the x0 loss;
        the 2D keypoint loss applies to every sample, the 3D joint loss where the pose is
        known and the vertex loss where pose and shape are (a term with no labelled sample
        is 0, so every batch logs the same terms).
        Returns (scalar loss, {'loss' | 'x0' | 'keypoints_2d' | 'joints_3d' | 'vertices': float}).
        """
        device = self.device
        has_pose = torch.as_tensor(batch["has_pose"], device=device).bool().reshape(-1)
        has_betas = torch.as_tensor(batch["has_betas"], device=device).bool().reshape(-1)
        has_camera = torch.as_tensor(batch["has_camera"], device=device).bool().reshape(-1)
        pose = batch["pose"].to(device, torch.float32)
        betas = batch["betas"].to(device, torch.float32)
        camera = batch["camera"].to(device, torch.float32)
        keypoints = batch["keypoints"].to(device, torch.float32)
        B = pose.shape[0]

        mask = losses.parameter_mask(self.layout, has_pose, has_betas, has_camera)
        x0 = self.normalizer.normalize(self.layout.from_axis_angle(pose, betas, camera)) * mask
        t = stratified_timesteps(B, self.schedule.num_timesteps, device)
        noise = torch.randn_like(x0)
        x_t = self.q_sample(x0, t, noise)
        if self.detector_inputs:
            cond = self.encode(batch["image"], batch["cond_keypoints"], batch["landmarks"])
        else:
            cond = self.encode(batch["image"], keypoints)
        x0_hat = self.predict_x0(x_t, t, cond).float()

        w = self.config["loss_weights"]
        with torch.autocast(device.type, enabled=False):
            terms = {"x0": losses.masked_mse(x0_hat, x0, mask).sum() / mask.any(1).float().sum().clamp(min=1.0)}
            rot, shape, cam = self.layout.split(self.normalizer.denormalize(x0_hat))
            pred = body(rot, shape, cam)
            terms["keypoints_2d"] = losses.keypoint_2d_loss(pred.keypoints_2d, keypoints).mean()
            zero = x0_hat.new_zeros(())
            terms["joints_3d"], terms["vertices"] = zero, zero
            if bool(has_pose.any()):
                # Where the shape is unknown, the label body takes the predicted shape, so
                # the joint term compares poses only.
                gt_betas = torch.where(has_betas[:, None], betas, shape.detach())
                with torch.no_grad():
                    gt = body(pose, gt_betas, rotation_format="axis_angle")
                terms["joints_3d"] = losses.masked_mean(
                    losses.root_aligned_l1(pred.joints, gt.joints, pred.joints[:, 0], gt.joints[:, 0]), has_pose)
                terms["vertices"] = losses.masked_mean(
                    losses.root_aligned_l1(pred.vertices, gt.vertices, pred.joints[:, 0], gt.joints[:, 0]),
                    has_pose & has_betas)
            weighted = [float(w[k]) * v for k, v in terms.items()]
            loss = weighted[0]
            for term in weighted[1:]:
                loss = loss + term
        logs = {"loss": float(loss.detach())}
        logs.update((k, float(v.detach())) for k, v in terms.items())
        return loss, logs

    def forward(self, batch: dict, body: BodyModel) -> tuple[torch.Tensor, dict[str, float]]:
        """The training loss (so DistributedDataParallel wraps it); see training_loss."""
        return self.training_loss(batch, body)

    # ---------------------------------------------------------------- sampling

    @torch.no_grad()
    def sample(
        self,
        images: torch.Tensor,
        keypoints: torch.Tensor,
        num_hypotheses: int,
        steps: int = DEFAULT_STEPS,
        eta: float = 0.0,
        seed: int = 0,
        chunk_size: int = 2048,
        guidance: ReprojectionGuidance | None = None,
        landmarks: torch.Tensor | None = None,
        start: torch.Tensor | None = None,
        start_level: float = 1.0,
    ) -> torch.Tensor:
        """Draw M hypotheses per person by DDIM.

        images: (B, 3, S, S) normalised crops. keypoints: (B, 17, 3) normalised crop coords
        and confidence. num_hypotheses: M >= 1; hypothesis 0 starts from zero noise and is
        the same for every seed. chunk_size: at most this many rows per network call (the
        result does not depend on it). guidance: pulls every step's clean estimate towards
        the detected keypoints (``engine.models.guidance``); None samples unguided.
        landmarks: (B, 33, 6) detector tokens (see ``encode``).
        start: (B, D) raw parameters of an estimate from elsewhere (the body fit) in each
        person's crop; its M hypotheses then start from it noised to ``start_level`` of
        the schedule (in (0, 1]; ``ddim_sample``'s x_start), hypothesis 0 without noise,
        instead of from pure noise. None: from pure noise.
        Returns (B, M, D) raw (denormalised) parameters.
        """
        M = int(num_hypotheses)
        if M < 1:
            raise ShapeError(f"num_hypotheses must be at least 1, got {num_hypotheses}")
        if chunk_size < 1:
            raise ShapeError(f"chunk_size must be at least 1, got {chunk_size}")
        cond = self.encode(images, keypoints, landmarks)
        B, D = cond.batch, self.layout.dim
        chunks = _row_chunks(B, M, chunk_size)

        def eps_fn(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
            out = []
            for rows, persons in chunks:
                out.append(self.predict_eps(x[rows], t[rows], cond.index_select(persons)))
            return torch.cat(out)

        zero = torch.arange(B * M) % M == 0
        x_start, start_t = self._start(start, start_level, B, M)
        x0 = ddim_sample(
            eps_fn, self.schedule, (B * M, D), steps=steps, eta=eta,
            generator=torch.Generator().manual_seed(int(seed)), zero_noise_mask=zero,
            x0_clip=self.config.get("x0_clip"), device=self.device,
            x0_guide=None if guidance is None else lambda x: guidance.step(x, self.normalizer.denormalize, chunks),
            x_start=x_start, start_t=start_t,
        )
        assert isinstance(x0, torch.Tensor)  # no trajectory was asked for
        return self.normalizer.denormalize(x0).reshape(B, M, D)

    def _start(self, start: torch.Tensor | None, level: float, B: int, M: int
               ) -> tuple[torch.Tensor | None, int | None]:
        """``sample``'s start: (B * M, D) normalised rows and the timestep, or (None, None)."""
        if start is None:
            return None, None
        if tuple(start.shape) != (B, self.layout.dim):
            raise ShapeError(f"start: expected ({B}, {self.layout.dim}) parameters, got {tuple(start.shape)}")
        rows = self.normalizer.normalize(start.to(self.device, torch.float32)).repeat_interleave(M, dim=0)
        return rows, start_timestep(self.schedule.num_timesteps, level)

    # ------------------------------------------------------------- checkpoints

    def save(self, path: str | Path, extra_config: dict | None = None) -> Path:
        """Write ``path``.safetensors + ``path``.json (kind 'base' unless extra_config says)."""
        if "body_model" not in self.config:
            raise CheckpointError(f"{path}: the model does not know its body model; build it with body=...")
        config = {k: self.config[k] for k in (*ARCH_DEFAULTS, "body_model")}
        config.update(kind="base", layout=self.layout.to_dict(), normalizer=self.normalizer.to_dict())
        config.update(extra_config or {})
        return save_checkpoint(path, self.state_dict(), config)

    @classmethod
    def load(
        cls, path: str | Path | None = None, body: BodyModel | None = None, device: str | torch.device = "cpu"
    ) -> "DiffusionHMR":
        """Load a base or DPO checkpoint; None loads ``resources/checkpoints/base``.

        body: the body model in use (default: the configured one); a checkpoint trained
        with another body model is refused.
        Raises CheckpointError: missing, corrupt, another kind, or another body model.
        """
        if path is None:
            path = DEFAULT_CHECKPOINT
            if not checkpoint_paths(path)[0].is_file():
                raise CheckpointError(
                    f"{checkpoint_paths(path)[0]}: no default base checkpoint yet; train one with "
                    f"`adhmr train-base --data DATA.npz --out {DEFAULT_CHECKPOINT}`")
        if body is None:
            from engine.body.model import BodyModel

            body = BodyModel()
        state, config = load_checkpoint(path, expected_kind=KINDS, body=body)
        weights = checkpoint_paths(path)[0]
        layout = ParamLayout.from_dict(config.get("layout") or {})
        normalizer = Normalizer.from_dict(config.get("normalizer") or {}, layout.dim)
        try:
            model = cls({k: v for k, v in config.items() if k in ARCH_DEFAULTS}, normalizer, body, layout)
        except (KeyError, TypeError, ValueError) as exc:
            raise CheckpointError(f"{weights}: architecture in the config is malformed ({exc})") from None
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            reason = str(exc).splitlines()[0]
            raise CheckpointError(f"{weights}: weights do not fit the recorded architecture ({reason})") from None
        model.config.update({k: v for k, v in config.items() if k not in ARCH_DEFAULTS})
        log.info("loaded %s model %s", config["kind"], weights)
        return model.to(device).eval()


def stratified_timesteps(batch: int, T: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """(batch,) long: one uniform timestep in each of ``batch`` equal slices of [0, T).

    Each is still uniform over [0, T) when taken at a random position, but a batch covers
    the whole range, so the loss of a step varies much less than with independent draws.
    """
    u = (torch.arange(batch, device=device) + torch.rand(batch, device=device)) / batch
    return (u * T).long().clamp(max=T - 1)[torch.randperm(batch, device=device)]


def _row_chunks(B: int, M: int, chunk_size: int) -> list[tuple[slice, torch.Tensor]]:
    """Split the B * M rows (person-major) into network calls of at most chunk_size rows.

    Each chunk holds whole persons when M <= chunk_size, else part of one person's
    hypotheses, so a chunk's rows always group evenly over its persons' conditions.
    Returns (row slice, person indices (P,) long) per chunk.
    """
    if M <= chunk_size:
        per = max(1, chunk_size // M)
        return [(slice(b * M, min(b + per, B) * M), torch.arange(b, min(b + per, B))) for b in range(0, B, per)]
    out = []
    for b in range(B):
        for start in range(0, M, chunk_size):
            stop = min(start + chunk_size, M)
            out.append((slice(b * M + start, b * M + stop), torch.tensor([b])))
    return out

