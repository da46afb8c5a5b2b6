"""Labels do not depend on the last bits of the body's arithmetic (MKL's code path,
memory alignment, thread count): the same sample renders the same everywhere."""

import numpy as np
import pytest
import torch

from engine.data.synth.domains import STUDIO, WILD
from engine.data.synth.render import SynthBody, exact, render_sample

SIZE = 96


@pytest.fixture(scope="module")
def sb():
    return SynthBody.load()


def _rows(sb, n=6):
    return [render_sample(sb, cfg, 5, i, SIZE).row for cfg in (STUDIO, WILD) for i in range(n)]


def _assert_same(a, b):
    for ra, rb in zip(a, b, strict=True):
        for k in ra:
            assert np.array_equal(ra[k], rb[k]), k


def test_a_last_bit_change_in_the_body_arithmetic_changes_no_label(sb):
    before = _rows(sb)
    nudged = SynthBody(sb.body)
    with torch.no_grad():
        for buf in (nudged.body64.J_template, nudged.body64.v_template, nudged.body64.J_shapedirs):
            buf.copy_(torch.nextafter(buf, torch.full_like(buf, np.inf)))
    _assert_same(before, _rows(nudged))


def test_thread_count_changes_no_label(sb):
    threads = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = _rows(SynthBody(sb.body), 3)
        torch.set_num_threads(2)
        two = _rows(SynthBody(sb.body), 3)
    finally:
        torch.set_num_threads(threads)
    _assert_same(one, two)


def test_exact_rounds_to_the_float32_grid():
    x = np.array([0.1, 1 / 3, -2.5e-3])
    assert exact(x).dtype == np.float64
    assert np.array_equal(exact(x), x.astype(np.float32))
    assert np.array_equal(exact(np.nextafter(x, np.inf)), exact(x))
