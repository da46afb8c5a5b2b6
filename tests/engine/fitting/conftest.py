"""Fixtures for the fit tests: one body model for the session."""

import pytest

from engine.body.model import BodyModel


@pytest.fixture(scope="session")
def body():
    return BodyModel()
