"""Fixtures for the job tests."""

import pytest

from engine import store as st


@pytest.fixture
def project(tmp_path):
    with st.Project.create(tmp_path / "project.adhmr") as p:
        yield p
