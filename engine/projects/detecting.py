"""Fill in the persons of photos that have none yet, with the pose detector.

Photos the detector finds nobody in are listed in ``skip_file`` (when given), so a
resumed run does not try them again.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.data.image_folder import detect_people
from engine.data.records import reason
from engine.errors import DataError, DetectorError, ImageError, NoPersonError, ShapeError
from engine.progress import CancelFn, ProgressEvent, ProgressFn, check_cancel, never_cancel, no_progress
from engine.store import Project, add_person, get_dataset, image_files, persons_of_image
from engine.store.repo_images import detector_outputs

if TYPE_CHECKING:
    from engine.detect import PoseDetector

log = logging.getLogger(__name__)


def images_without_persons(project: Project, dataset: str | int) -> list[tuple[int, Path]]:
    """(image id, file) of the dataset's images that have no person."""
    ds = get_dataset(project, dataset)
    files = image_files(project, ds.id)
    with project.session() as s:
        return [(i, p) for i, p in files if not persons_of_image(s, i)]


def detect_dataset(
    project: Project,
    dataset: str | int,
    detector: PoseDetector | None = None,
    skip_file: str | Path | None = None,
    progress: ProgressFn = no_progress,
    should_cancel: CancelFn = never_cancel,
) -> dict[str, Any]:
    """Detect every person of each image of ``dataset`` that has none, and store them.

    detector: a PoseDetector (built when None; its min_size / min_score apply).
    Returns outputs: dataset, images (without persons at the start), detected,
    skipped (listed in skip_file), failed: [[path, reason], ...].
    Raises DetectorError when the detector cannot be built; JobCancelled between images.
    """
    todo = images_without_persons(project, dataset)
    skip_path = None if skip_file is None else Path(skip_file)
    skip = set()
    if skip_path is not None and skip_path.is_file():
        skip = {int(x) for x in skip_path.read_text().split() if x.isdigit()}
    if detector is None and any(i not in skip for i, _ in todo):
        from engine.detect import PoseDetector

        detector = PoseDetector()
    detected = skipped = 0
    failed: list[list[str]] = []
    for n, (image_id, path) in enumerate(todo):
        check_cancel(should_cancel)
        if image_id in skip:
            skipped += 1
        else:
            try:
                assert detector is not None  # built above when an image is to be detected
                records = detect_people(path, detector)
                with project.session(write=True) as s:  # all of a photo's people, or none
                    for record in records:
                        add_person(s, image_id, record.box, record.keypoints,
                                   detector=detector_outputs(record))
                detected += 1
            except (ImageError, NoPersonError, ShapeError, DataError) as e:
                failed.append([str(path), reason(path, e)])
                if skip_path is not None:
                    with open(skip_path, "a") as f:
                        f.write(f"{image_id}\n")
            except DetectorError as e:
                failed.append([str(path), reason(path, e)])
        progress(ProgressEvent((n + 1) / len(todo), f"{n + 1}/{len(todo)} images"))
    return {
        "dataset": get_dataset(project, dataset).name,
        "images": len(todo),
        "detected": detected,
        "skipped": skipped,
        "failed": failed,
    }
