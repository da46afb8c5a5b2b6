"""Fitting the consensus weight: it is used when the sibling distance tells, and not otherwise."""

import numpy as np
import pytest

from engine.errors import ShapeError
from engine.training.consensus_fit import fit_consensus_weight


def _people(informative, seed=0, N=200, M=12):
    rng = np.random.default_rng(seed)
    error = rng.gamma(4.0, 15.0, (N, M))  # mm
    logits = -error / 10 + rng.normal(0, 2.0, (N, M))  # a noisy network
    sibling = (error if informative else rng.gamma(4.0, 15.0, (N, M))) + rng.normal(0, 10.0, (N, M))
    return logits, sibling, error


def test_an_informative_distance_gets_a_weight_that_ranks_better():
    logits, sibling, error = _people(informative=True)
    fit = fit_consensus_weight(logits, sibling, {"PA-MPJPE": error})
    rows = {r["weight"]: r for r in fit.table}
    assert fit.weight > 0
    assert rows[fit.weight]["PA-MPJPE"] > rows[0.0]["PA-MPJPE"] + 0.05


def test_an_uninformative_distance_is_left_out():
    logits, sibling, error = _people(informative=False)
    fit = fit_consensus_weight(logits, sibling, {"PA-MPJPE": error}, grid=(0.0, 0.05, 0.1))
    assert fit.weight == 0.0


def test_errors_weigh_as_the_scorer_was_trained():
    logits, sibling, error = _people(informative=True)
    _, _, other = _people(informative=False, seed=3)
    # Only the first error follows the distance; weighting the other heavily keeps the weight small.
    light = fit_consensus_weight(logits, sibling, {"a": error, "b": other}, {"a": 4.0})
    heavy = fit_consensus_weight(logits, sibling, {"a": error, "b": other}, {"b": 100.0})
    assert heavy.weight < light.weight
    row = next(r for r in light.table if r["weight"] == light.weight)
    assert row["objective"] == pytest.approx((4 * row["a"] + row["b"]) / 5)


def test_mismatched_shapes_are_refused():
    with pytest.raises(ShapeError):
        fit_consensus_weight(np.zeros((3, 4)), np.zeros((3, 5)), {"e": np.zeros((3, 4))})
