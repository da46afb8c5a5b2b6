"""Dockable panels, and the registry through which later panels join the main window.

The main window builds its own panels (image browser, candidates) and then every panel
listed in ``PANEL_MODULES`` whose module exists: such a module defines

    PANEL = PanelSpec(name="curation", title="Pairs", factory=make_panel, area="bottom")

where ``factory(state: AppState, window: MainWindow) -> QWidget``. Each becomes a dock
(tabbed beside the candidate table for area "bottom"), its visibility toggled from the
View menu, its place saved with the window layout. Missing modules are skipped, so the
window works before they are written.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

PANEL_MODULES = (
    "app.panels.curation_panel",
    "app.panels.cleaning_panel",
    "app.panels.jobs_panel",
)
AREAS = ("left", "right", "bottom")


@dataclass(frozen=True)
class PanelSpec:
    """A dock panel. name: stable id (saved layouts use it). title: dock title.
    factory(state, window) -> QWidget. area: 'left', 'right' or 'bottom'.
    shortcut: optional key sequence toggling the dock (e.g. 'Ctrl+Shift+P')."""

    name: str
    title: str
    factory: Callable
    area: str = "bottom"
    shortcut: str | None = None


def extra_panels(modules: tuple[str, ...] = PANEL_MODULES) -> list[PanelSpec]:
    """The PanelSpec of each listed module that exists, in order."""
    specs = []
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        spec = getattr(module, "PANEL", None)
        if not isinstance(spec, PanelSpec) or spec.area not in AREAS:
            log.warning("%s: no valid PANEL = PanelSpec(...); skipped", name)
            continue
        specs.append(spec)
    return specs
