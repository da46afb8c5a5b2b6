import numpy as np
import pytest

from engine.errors import ShapeError
from engine.store import array_to_blob, blob_to_array


def test_round_trip_keeps_float32_values_and_shape():
    a = np.random.default_rng(0).normal(size=(17, 3)).astype(np.float32)
    b = array_to_blob(a)
    assert len(b) == 17 * 3 * 4
    out = blob_to_array(b, (17, 3))
    assert out.dtype == np.float32 and out.shape == (17, 3)
    np.testing.assert_array_equal(out, a)
    out[0, 0] = 5.0  # decoded arrays are writable copies


def test_vector_length_is_recovered_without_a_shape():
    v = blob_to_array(array_to_blob(np.arange(157, dtype=np.float64)))
    assert v.shape == (157,)
    assert v[-1] == 156.0


def test_minus_one_in_shape_infers_the_rows():
    assert blob_to_array(array_to_blob(np.zeros((24, 3))), (-1, 3)).shape == (24, 3)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, 1e300])
def test_non_finite_values_are_rejected(bad):
    a = np.zeros(10)
    a[3] = bad
    with pytest.raises(ShapeError, match=r"params.*NaN or infinite"):
        array_to_blob(a, "params")


def test_non_numeric_input_is_rejected():
    with pytest.raises(ShapeError, match="real numbers"):
        array_to_blob(np.array(["a", "b"]))
    with pytest.raises(ShapeError, match="real numbers"):
        array_to_blob(np.array([1 + 2j]))


def test_blob_that_does_not_fit_the_shape_is_an_error():
    with pytest.raises(ShapeError, match="does not fit shape"):
        blob_to_array(array_to_blob(np.zeros(50)), (17, 3))
    with pytest.raises(ShapeError, match="whole number"):
        blob_to_array(b"\x00" * 7)
