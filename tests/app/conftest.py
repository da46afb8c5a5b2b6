"""Fixtures for the app tests: isolated settings, a small project, tiny saved models.

Windows are real (pytest-qt under pytest-xvfb's X server, which the 3D view needs).
"""

from dataclasses import replace

import pytest
from app_helpers import make_project, save_tiny_models

from app.settings import CONFIG_ENV, AppSettings


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch):
    """Settings, recent projects and layout go to a temporary folder."""
    folder = tmp_path / "config"
    monkeypatch.setenv(CONFIG_ENV, str(folder))
    return folder


@pytest.fixture(scope="session")
def body():
    from engine.body.model import BodyModel

    return BodyModel()


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory, body):
    """(base, scorer) checkpoint paths of untrained tiny models."""
    return save_tiny_models(tmp_path_factory.mktemp("models"), body)


@pytest.fixture
def project_path(tmp_path):
    return make_project(tmp_path)


@pytest.fixture
def make_window(qtbot, tiny_models):
    """Build main windows that sample with the tiny models (closed at teardown)."""
    from app.main_window import MainWindow

    windows = []

    def make(sample_count: int = 24):
        settings = AppSettings()
        base, scorer = tiny_models
        settings.set_preferences(replace(settings.preferences(), base_checkpoint=str(base),
                                         scorer_checkpoint=str(scorer), sample_count=sample_count))
        w = MainWindow(settings)
        qtbot.addWidget(w)
        w.resize(1200, 800)
        w.show()
        qtbot.waitExposed(w)
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow)  # window shortcuts need the active window
        windows.append(w)
        return w

    yield make
    for w in windows:
        if w.isVisible():
            w.close()
