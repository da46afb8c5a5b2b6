"""tqdm front end for the engine's progress protocol."""

from __future__ import annotations

from tqdm import tqdm

from engine.progress import ProgressEvent


class TqdmProgress:
    """A ProgressFn that draws a tqdm bar; use as a context manager.

    The bar counts per mille, so any fraction maps onto it; metrics show as the postfix.
    """

    def __init__(self, description: str):
        self._bar = tqdm(total=1000, desc=description, unit="‰", dynamic_ncols=True, leave=True)

    def __call__(self, event: ProgressEvent) -> None:
        target = int(round(max(0.0, min(1.0, event.fraction)) * 1000))
        if target > self._bar.n:
            self._bar.update(target - self._bar.n)
        if event.metrics:
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in list(event.metrics.items())[:4]}, refresh=False)
        if event.message:
            self._bar.set_description_str(event.message[:40], refresh=False)

    def __enter__(self) -> "TqdmProgress":
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()
