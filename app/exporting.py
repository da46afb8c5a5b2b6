"""File ▸ Export Selected Candidates: what ``adhmr render`` writes (meshes, overlay, 3D
view, a turntable video) for the candidates selected in the window.

It runs ``adhmr render`` as a child process from a background task: the off-screen 3D
rendering then has a process (and OpenGL context) of its own, apart from the window's
3D views, and the window stays responsive.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PyQt6.QtWidgets import QFileDialog

from engine.errors import AdhmrError

VIDEO = "turntable"


def render_command(project_path: Path, image_id: int, person_number: int, candidate_ids: list[int],
                   folder: str | Path) -> list[str]:
    """The ``adhmr render`` command line the export runs."""
    return [sys.executable, "-m", "engine.cli", "render", str(project_path), "--image", str(image_id),
            "--person", str(person_number), "--candidates", ",".join(map(str, candidate_ids)),
            "--video", VIDEO, "--out", str(folder)]


def _export(command: list[str], progress, should_cancel) -> list[str]:
    """Runs in the task's thread; the paths written (the command's 'wrote' lines)."""
    from engine.errors import JobCancelled
    from engine.progress import ProgressEvent

    progress(ProgressEvent(0.0, "rendering"))
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while True:
        try:
            out, err = child.communicate(timeout=0.5)
            break
        except subprocess.TimeoutExpired:
            if should_cancel():
                child.kill()
                child.communicate()
                raise JobCancelled("export cancelled") from None
    if child.returncode != 0:
        lines = [line for line in err.strip().splitlines() if line.strip()]
        raise AdhmrError(lines[-1] if lines else f"export failed (exit {child.returncode})")
    return [line[len("wrote "):] for line in out.splitlines() if line.startswith("wrote ")]


def export_selected(window, folder: str | Path) -> bool:
    """Export the window's selected candidates (of the current person) into ``folder``."""
    s = window.state
    if s.project is None or s.person is None or s.candidates is None or not s.selected:
        window.show_error("Select one or more candidates first (rows of the Candidates table).")
        return False
    ids = [int(s.candidates.ids[i]) for i in s.selected if int(s.candidates.ids[i]) >= 0]
    if not ids:
        window.show_error("These candidates are not stored yet.")
        return False
    number = next(k + 1 for k, p in enumerate(s.persons) if p.id == s.person.id)
    command = render_command(s.project.path, s.image.id, number, ids, folder)

    def done(written) -> None:
        window.show_message(f"Exported {len(ids)} candidate{'s' if len(ids) != 1 else ''}: "
                            f"{len(written)} files in {folder}")

    task = window.tasks.start("Exporting", _export, command, on_done=done, on_error=window.show_error)
    return task is not None


def export_dialog(window) -> None:
    folder = QFileDialog.getExistingDirectory(window, "Export the selected candidates into a folder")
    if folder:
        export_selected(window, folder)
