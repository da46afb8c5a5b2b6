"""tqdm front end for the engine's progress protocol.

Engine functions report a fraction and a message; the messages of counted work say how
far it is, "12/40 persons sampled", "step 300/2000", "rendered 5/100". The bar counts
those (its rate then reads people/s, steps/s, images/s); work reported only as a
fraction shows a percentage and no rate, since a rate of a fraction means nothing.
"""

from __future__ import annotations

import re
from typing import IO

from tqdm import tqdm

from engine.progress import ProgressEvent

COUNT = re.compile(r"(?P<step>\bsteps?\s+)?(?P<done>\d+)\s*/\s*(?P<total>\d+)(?:\s+(?P<unit>[A-Za-z]+))?")
"""'done/total' in a message, after 'step' or before a unit word."""
UNITS = {"person": "people", "persons": "people", "people": "people", "image": "images", "images": "images",
         "label": "labels", "labels": "labels", "source": "sources", "sources": "sources",
         "sample": "samples", "samples": "samples", "pair": "pairs", "pairs": "pairs"}
"""Unit words in messages -> the bar's unit (counted things with no word are 'items')."""
PERCENT_FORMAT = "{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}{postfix}]"


def count_in(message: str) -> tuple[int, int, str] | None:
    """(done, total, unit) from a progress message, or None when it counts nothing."""
    m = COUNT.search(message)
    if m is None or int(m["total"]) <= 0:
        return None
    unit = "steps" if m["step"] else UNITS.get((m["unit"] or "").lower(), "items")
    return int(m["done"]), int(m["total"]), unit


class TqdmProgress:
    """A ProgressFn that draws a tqdm bar; use as a context manager.

    The bar counts what the messages count (see the module docstring), else shows the
    percentage done; metrics show as the postfix. file: where to draw (stderr).
    """

    def __init__(self, description: str, file: IO[str] | None = None):
        self._bar = tqdm(total=100, desc=description, dynamic_ncols=True, leave=True, file=file,
                         bar_format=PERCENT_FORMAT)
        self._counting: tuple[int, str] | None = None

    def __call__(self, event: ProgressEvent) -> None:
        count = count_in(event.message) if event.message else None
        if count is not None:
            done, total, unit = count
            if self._counting != (total, unit):
                # Another stage counts other things: a fresh bar (and rate) for them.
                self._bar.reset(total=total)
                self._bar.unit, self._bar.bar_format = unit, None
                self._counting = (total, unit)
            if done > self._bar.n:
                self._bar.update(done - self._bar.n)
        elif self._counting is None:
            target = int(round(max(0.0, min(1.0, event.fraction)) * 100))
            if target > self._bar.n:
                self._bar.update(target - self._bar.n)
        if event.metrics:
            shown = [(k, v) for k, v in event.metrics.items() if k != "step"][:4]  # the count shows the step
            self._bar.set_postfix({k: f"{v:.4g}" for k, v in shown}, refresh=False)
        if event.message:
            self._bar.set_description_str(event.message[:40], refresh=False)

    def __enter__(self) -> "TqdmProgress":
        return self

    def __exit__(self, *exc) -> None:
        self._bar.close()
