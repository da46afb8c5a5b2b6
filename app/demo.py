"""The one place the app asks the engine for the demo project."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from app.settings import APP_NAME, CONFIG_ENV, config_dir
from engine.errors import AdhmrError
from engine.progress import CancelFn, ProgressFn, never_cancel, no_progress


class DemoUnavailable(AdhmrError):
    """This build has no demo project maker."""


def demo_folder() -> Path:
    """Where the demo project is made (beside the settings when they are redirected)."""
    if os.environ.get(CONFIG_ENV):
        return config_dir() / "demo"
    return Path(platformdirs.user_data_dir(APP_NAME)) / "demo"


def demo_project(progress: ProgressFn = no_progress, should_cancel: CancelFn = never_cancel) -> Path:
    """The demo project file, built on first use by ``engine.demo.create_demo_project``
    (synthetic people, photos, and candidates when checkpoints are installed).

    Raises DemoUnavailable when the engine has no demo maker, or the maker's own errors.
    """
    try:
        from engine.demo import create_demo_project
    except ImportError:
        raise DemoUnavailable("the demo project is not part of this build (engine.demo is missing)") from None
    return Path(create_demo_project(demo_folder(), progress=progress, should_cancel=should_cancel))
