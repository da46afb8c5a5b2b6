"""The command line's progress bars: rates in the things counted (people/s, steps/s,
images/s), a plain percentage for work reported only as a fraction."""

import io
import re

from engine.cli.progress import TqdmProgress, count_in
from engine.progress import ProgressEvent


def bar_text(events) -> str:
    out = io.StringIO()
    with TqdmProgress("job", file=out) as bar:
        for e in events:
            bar(e)
    return out.getvalue()


def test_messages_give_the_unit_of_the_rate():
    assert count_in("12/40 persons sampled") == (12, 40, "people")
    assert count_in("step 300/2000") == (300, 2000, "steps")
    assert count_in("3/9 images") == (3, 9, "images")
    assert count_in("rendered 5/100") == (5, 100, "items")
    assert count_in("writing annotations") is None

    people = bar_text(ProgressEvent((n + 1) / 4, f"{n + 1}/4 persons sampled") for n in range(4))
    assert "4/4" in people and re.search(r"people/s", people) and "‰" not in people
    steps = bar_text(ProgressEvent(s / 50, f"step {s}/50", {"loss": 0.5}) for s in range(1, 51))
    assert "50/50" in steps and "steps/s" in steps and "loss=0.5" in steps


def test_fractions_alone_show_a_percentage_without_a_rate():
    text = bar_text(ProgressEvent(f, "training") for f in (0.25, 0.5, 1.0))
    assert "100%" in text and "/s" not in text and "‰" not in text
