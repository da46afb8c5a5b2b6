"""Fixtures shared by the whole suite."""

import pytest
import torch

from engine.body.model import BodyModel


@pytest.fixture(scope="session")
def body():
    """The bundled open body, loaded once."""
    return BodyModel()


@pytest.fixture(autouse=True)
def one_thread():
    """Tests use small tensors: one torch thread is faster than two fighting for the cores."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
