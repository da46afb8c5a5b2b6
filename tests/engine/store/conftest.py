"""Fixtures for the store tests: a fresh project and one filled with reviewable data."""

import pytest
from store_helpers import fill

from engine import store as st


@pytest.fixture
def project(tmp_path):
    with st.Project.create(tmp_path / "project.adhmr") as p:
        yield p


@pytest.fixture
def filled(project):
    return fill(project)
