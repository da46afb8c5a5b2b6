"""The project store: one SQLite file (SQLAlchemy ORM, Alembic migrations) and a data folder.

Repository functions take a ``Project`` (own transaction, committed on return) or a
``Session`` from ``project.session()`` (join the caller's transaction). Manual decisions
take a Project only: each is committed when it is made and can be undone.
"""

from engine.store.actions import history, redo, undo
from engine.store.blobs import array_to_blob, blob_to_array
from engine.store.export import (
    export_cleaning_csv,
    export_pairs_jsonl,
    export_pairs_npz,
    iter_pairs,
)
from engine.store.lock import FileLock, is_locked
from engine.store.project import Project, data_dir_for
from engine.store.records import (
    ActionRecord,
    CandidateRecord,
    CheckpointRecord,
    CleaningDecisionRecord,
    CleaningRunRecord,
    DatasetRecord,
    ImageRecord,
    ImageStatus,
    JobRecord,
    PairRecord,
    PersonRecord,
    SampleRunRecord,
)
from engine.store.repo_cleaning import (
    add_cleaning_run,
    cleaning_decisions,
    get_cleaning_run,
    kept_person_ids,
    list_cleaning_runs,
    set_cleaning_override,
)
from engine.store.repo_images import (
    IMAGE_STATUSES,
    add_dataset,
    add_image,
    add_person,
    count_images_by_status,
    get_dataset,
    get_person,
    image_files,
    list_datasets,
    list_images,
    persons_of_image,
    record_image_hashes,
)
from engine.store.repo_pairs import (
    PairProposal,
    add_auto_pairs,
    add_manual_pair,
    decide_pair,
    list_pairs,
)
from engine.store.repo_samples import (
    add_checkpoint,
    add_sample_run,
    candidate_scores,
    candidates_of_person,
    get_checkpoint,
    list_checkpoints,
    sample_runs_of_person,
    set_candidate_scores,
)
from engine.store.repo_stats import ImageScoreStats, image_score_stats

__all__ = [
    "ImageScoreStats",
    "image_score_stats",
    "list_cleaning_runs",
    "IMAGE_STATUSES",
    "ActionRecord",
    "CandidateRecord",
    "CheckpointRecord",
    "CleaningDecisionRecord",
    "CleaningRunRecord",
    "DatasetRecord",
    "FileLock",
    "ImageRecord",
    "ImageStatus",
    "JobRecord",
    "PairProposal",
    "PairRecord",
    "PersonRecord",
    "Project",
    "SampleRunRecord",
    "add_auto_pairs",
    "add_checkpoint",
    "add_cleaning_run",
    "add_dataset",
    "add_image",
    "add_manual_pair",
    "add_person",
    "add_sample_run",
    "array_to_blob",
    "blob_to_array",
    "candidate_scores",
    "candidates_of_person",
    "cleaning_decisions",
    "count_images_by_status",
    "data_dir_for",
    "decide_pair",
    "export_cleaning_csv",
    "export_pairs_jsonl",
    "export_pairs_npz",
    "get_checkpoint",
    "get_cleaning_run",
    "get_dataset",
    "get_person",
    "history",
    "image_files",
    "is_locked",
    "iter_pairs",
    "kept_person_ids",
    "list_checkpoints",
    "list_datasets",
    "list_images",
    "list_pairs",
    "persons_of_image",
    "record_image_hashes",
    "redo",
    "sample_runs_of_person",
    "set_candidate_scores",
    "set_cleaning_override",
    "undo",
]
