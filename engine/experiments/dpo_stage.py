"""The DPO (or reprojection-control) fine-tune of one seed's pairs, as both tracks run it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.progress import CancelFn, ProgressEvent, ProgressFn

if TYPE_CHECKING:
    from engine.training.dpo_train import Evaluator


def train_on_pairs(out: Path, base: str, pairs: Path, mode: str, budget: Any, seed: int, device: str,
                   progress: ProgressFn, should_cancel: CancelFn, evaluator: Evaluator | None = None,
                   **eval_settings: Any) -> tuple[Path, dict[str, float]]:
    """Fine-tune ``base`` on ``pairs`` into ``out`` (resuming a stopped run there).

    mode: 'dpo' or 'reprojection'. budget: a track's budget (its dpo_steps, dpo_batch,
    dpo_lr and beta). evaluator, eval_settings: the validation ``train_dpo`` runs during
    training (``DPOConfig``'s eval_* and scorer fields), none when not given.
    Reports training progress as the first 80 % of ``progress``.
    Returns (the weights, the metrics of the last training log).
    """
    from engine.training.base_train import train_state_path
    from engine.training.dpo import DPOConfig
    from engine.training.dpo_train import train_dpo

    last: dict[str, float] = {}

    def watch(e: ProgressEvent) -> None:
        last.update(e.metrics)
        progress(ProgressEvent(0.8 * e.fraction, e.message, e.metrics))

    b = budget
    config = DPOConfig(
        out=str(out), base=base, pairs=(str(pairs),), mode=mode, steps=b.dpo_steps, batch_size=b.dpo_batch,
        lr=b.dpo_lr, beta=b.beta, seed=seed, save_every=max(1, b.dpo_steps // 4),
        log_every=max(1, b.dpo_steps // 20), device=device, resume=train_state_path(out).is_file(), **eval_settings)
    return Path(train_dpo(config, watch, should_cancel, evaluator=evaluator)), last
