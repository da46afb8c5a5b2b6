"""Start ADHMR Studio: ``adhmr-gui [--demo] [PROJECT_OR_PHOTO]`` (or ``python adhmr_gui.py``).

With a project file it opens the project; with a photo it opens a scratch project,
detects the person's keypoints and shows the body in 3D; with nothing it reopens the
last project, or shows the start page.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="adhmr-gui",
        description="ADHMR Studio: look at candidate body meshes, curate pairs, align with DPO.",
    )
    p.add_argument("path", nargs="?", type=Path, help="a project file (.adhmr) or a photo to look at")
    p.add_argument("--fresh", action="store_true", help="do not reopen the last project")
    p.add_argument("--demo", action="store_true", help="open the bundled demo project (built on first use)")
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return p.parse_args(argv)


def open_target(window, path: Path) -> bool:
    """Open ``path`` in the window: a project file, else a photo."""
    from engine.errors import AdhmrError
    from engine.store.project import check_project_file

    try:
        check_project_file(path)
    except AdhmrError:
        if path.is_file():
            return window.open_photo(path)
        window.show_error(f"{path}: no such project file or photo")
        return False
    return window.open_project(path)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(name)s: %(message)s")
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ADHMR Studio")
    app.setOrganizationName("adhmr")
    from app.main_window import MainWindow

    window = MainWindow()
    window.show()
    if args.demo:
        window.open_demo()
    elif args.path is not None:
        open_target(window, args.path)
    elif not args.fresh:
        window.restore_session()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
