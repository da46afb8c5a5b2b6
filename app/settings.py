"""The app's persistent settings: an INI file in the platform's config folder.

Everything the user chooses (device, body model, checkpoints, counts), the recent
projects and the window layout live in one ``QSettings`` INI file under
``platformdirs.user_config_dir('adhmr-studio')``; ``$ADHMR_STUDIO_CONFIG_DIR`` moves it
(tests point it at a temporary folder).
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path

import platformdirs
from PyQt6.QtCore import QByteArray, QSettings

from engine.diffusion import DEFAULT_STEPS
from engine.models.sample_settings import FIT_START, SampleSettings
from engine.plugins import BUILTIN_SAMPLER, BUILTIN_SCORER

APP_NAME = "adhmr-studio"
CONFIG_ENV = "ADHMR_STUDIO_CONFIG_DIR"
MAX_RECENT = 10


def config_dir() -> Path:
    """Where the settings file lives."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else Path(platformdirs.user_config_dir(APP_NAME))


def cache_dir() -> Path:
    """Where caches (thumbnails) may live."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override) / "cache" if override else Path(platformdirs.user_cache_dir(APP_NAME))


def open_qsettings() -> QSettings:
    folder = config_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat)


@dataclass(frozen=True)
class Preferences:
    """What the settings dialog edits.

    device: 'cpu' or 'cuda'. body_model: '' for the bundled open body, else an SMPL-format
    file. base_checkpoint / scorer_checkpoint: '' for the default (the project's newest,
    else the bundled one), 'project:<id>' for a checkpoint registered in the project, or a
    file path. display_count: candidates shown in the views; sample_count: hypotheses per
    sampling run; sampler_steps: DDIM network evaluations per hypothesis; precision:
    'auto' (bfloat16 where the device runs it natively), 'fp32' or 'bf16' for sampling and
    scoring (``engine.models.precision``); sample_consensus: let the scorer compare a
    run's candidates with each other (``engine.models.consensus``), else the network alone.
    guidance_scale: guided sampling's step size (``SampleSettings.guidance_scale``; 0 = off).
    orient_candidates: turn candidates to face as the detector's world landmarks do
        (``SampleSettings.orient``).
    fit_start: start the samples from the person's body fit noised to this level
        (``SampleSettings.fit_start``; 0 = from noise).
    sampler / scorer_model: the models by plug-in name (``engine.plugins``): the built-in
    ones, or another package's; a plug-in gets the checkpoint setting when it is a file.
    """

    device: str = "cpu"
    body_model: str = ""
    base_checkpoint: str = ""
    scorer_checkpoint: str = ""
    display_count: int = 20
    sample_count: int = 50
    sampler_steps: int = DEFAULT_STEPS
    precision: str = "auto"
    sample_consensus: bool = True
    overlay_mode: str = "fill"
    sampler: str = BUILTIN_SAMPLER
    scorer_model: str = BUILTIN_SCORER
    show_keypoints: bool = True
    guidance_scale: float = 0.0
    orient_candidates: bool = True
    fit_start: float = FIT_START

    def sample_settings(self, seed: int, num_candidates: int | None = None) -> SampleSettings:
        """The engine's sampling settings these preferences ask for (precision and
        consensus included); num_candidates: M when not ``sample_count``."""
        return SampleSettings(num_candidates=self.sample_count if num_candidates is None else num_candidates,
                              steps=self.sampler_steps, seed=seed, precision=self.precision,
                              consensus=self.sample_consensus, device=self.device,
                              guidance_scale=self.guidance_scale, orient=self.orient_candidates,
                              fit_start=self.fit_start)


class AppSettings:
    """Typed access to the settings file."""

    def __init__(self, qsettings: QSettings | None = None) -> None:
        self.q = qsettings if qsettings is not None else open_qsettings()

    def preferences(self) -> Preferences:
        values = {}
        for f in fields(Preferences):
            raw = self.q.value(f"preferences/{f.name}", None)
            if raw is None:
                continue
            try:
                if f.type == "int":
                    values[f.name] = int(raw)
                elif f.type == "bool":
                    values[f.name] = raw in (True, "true", "True", "1", 1)
                elif f.type == "float":
                    values[f.name] = float(raw)
                else:
                    values[f.name] = str(raw)
            except (TypeError, ValueError):
                continue
        return replace(Preferences(), **values)

    def set_preferences(self, prefs: Preferences) -> None:
        for f in fields(Preferences):
            self.q.setValue(f"preferences/{f.name}", getattr(prefs, f.name))
        self.q.sync()

    def recent_projects(self) -> list[str]:
        raw = self.q.value("recent/projects", [])
        items = [raw] if isinstance(raw, str) else list(raw or [])
        return [p for p in items if p]

    def add_recent_project(self, path: str | Path) -> None:
        path = str(Path(path).resolve())
        items = [path] + [p for p in self.recent_projects() if p != path]
        self.q.setValue("recent/projects", items[:MAX_RECENT])
        self.q.setValue("session/last_project", path)
        self.q.sync()

    def remove_recent_project(self, path: str) -> None:
        self.q.setValue("recent/projects", [p for p in self.recent_projects() if p != path])
        self.q.sync()

    def last_project(self) -> str | None:
        value = self.q.value("session/last_project", None)
        return str(value) if value else None

    def clear_last_project(self) -> None:
        self.q.remove("session/last_project")
        self.q.sync()

    def last_image(self, project_path: str | Path) -> int | None:
        value = self.q.value(f"last_image/{_key(project_path)}", None)
        try:
            return int(value) if value is not None else None
        except (TypeError, ValueError):
            return None

    def set_last_image(self, project_path: str | Path, image_id: int) -> None:
        self.q.setValue(f"last_image/{_key(project_path)}", int(image_id))

    def bytes_value(self, key: str) -> QByteArray | None:
        value = self.q.value(key, None)
        return value if isinstance(value, QByteArray) else None

    def int_list(self, key: str) -> list[int] | None:
        value = self.q.value(key, None)
        if value is None:
            return None
        items = [value] if isinstance(value, (str, int)) else list(value)
        try:
            return [int(v) for v in items]
        except (TypeError, ValueError):
            return None

    def set_value(self, key: str, value: object) -> None:
        self.q.setValue(key, value)

    def sync(self) -> None:
        self.q.sync()


def _key(project_path: str | Path) -> str:
    # QSettings keys treat '/' as groups; a hex digest keeps one flat key per project.
    return hashlib.sha1(str(Path(project_path).resolve()).encode()).hexdigest()[:16]
