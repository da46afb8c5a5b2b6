"""The project file's tables as a typed SQLAlchemy ORM (one module per area)."""

from engine.store.schema.base import (
    CHECKPOINT_KINDS,
    JOB_STATUSES,
    PAIR_SOURCES,
    PAIR_STATUSES,
    Base,
    utcnow,
)
from engine.store.schema.data import Checkpoint, Dataset, Image, Person
from engine.store.schema.jobs import Action, Job, JobMetric
from engine.store.schema.review import Candidate, CleaningDecision, CleaningRun, Pair, SampleRun

__all__ = [
    "CHECKPOINT_KINDS",
    "JOB_STATUSES",
    "PAIR_SOURCES",
    "PAIR_STATUSES",
    "Action",
    "Base",
    "Candidate",
    "Checkpoint",
    "CleaningDecision",
    "CleaningRun",
    "Dataset",
    "Image",
    "Job",
    "JobMetric",
    "Pair",
    "Person",
    "SampleRun",
    "utcnow",
]
