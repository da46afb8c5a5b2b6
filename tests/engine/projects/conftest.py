"""Fixtures for the project tests: a fresh project and one body model for the session."""

import pytest

from engine import store as st
from engine.body.model import BodyModel


@pytest.fixture(scope="session")
def body():
    return BodyModel()


@pytest.fixture
def project(tmp_path):
    with st.Project.create(tmp_path / "study.adhmr") as p:
        yield p
