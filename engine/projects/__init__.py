"""Project-level work on top of the store: import and export datasets, detect persons,
sample and score candidates, register checkpoints, build the demo project.

Each long function takes ``progress`` and ``should_cancel`` and is resumable through the
project's own tables (see ``engine.jobs.kinds`` for the job adapters).
"""

from engine.projects.checkpoints import (
    bundled_checkpoint,
    read_checkpoint_config,
    register_checkpoint,
    resolve_checkpoint,
)
from engine.projects.detecting import detect_dataset, images_without_persons
from engine.projects.exporting import (
    DatasetExport,
    export_cleaning,
    export_dataset,
    export_pairs,
)
from engine.projects.importing import ImportReport, image_info, import_dataset, import_formats, sha256_file
from engine.projects.labels import fit_camera, label_params, sample_of
from engine.projects.sampling import dataset_persons, sample_dataset
from engine.projects.scoring import score_dataset
from engine.projects.sources import Source, dataset_sources

__all__ = [
    "DatasetExport",
    "ImportReport",
    "Source",
    "bundled_checkpoint",
    "dataset_persons",
    "dataset_sources",
    "detect_dataset",
    "export_cleaning",
    "export_dataset",
    "export_pairs",
    "fit_camera",
    "image_info",
    "images_without_persons",
    "import_dataset",
    "import_formats",
    "label_params",
    "read_checkpoint_config",
    "register_checkpoint",
    "resolve_checkpoint",
    "sample_dataset",
    "sample_of",
    "score_dataset",
    "sha256_file",
]
