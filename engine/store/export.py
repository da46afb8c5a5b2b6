"""Exports for training and review elsewhere: pairs as JSONL or npz, cleaning as CSV.

Files are written to a temporary sibling and renamed, so a reader never sees half a file.
Image paths are written resolved (absolute when the dataset's source path is).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import aliased

from engine.errors import ShapeError
from engine.output_files import atomic_output, check_output
from engine.store.blobs import blob_to_array
from engine.store.project import Project
from engine.store.repo_cleaning import cleaning_decisions
from engine.store.schema import Candidate, CleaningDecision, Dataset, Image, Pair, Person

TRAINING_STATUSES = ("proposed", "accepted")


def _atomic(project: Project, out: str | Path, mode: str = "w"):
    """``out`` checked against the project (never the project file or a file in its data
    folder) and opened through a temporary sibling that is renamed into place."""
    check_output(out, project_file=project.path, data_dir=project.data_dir)
    return atomic_output(out, mode)


def iter_pairs(
    project: Project, statuses: Sequence[str] = TRAINING_STATUSES
) -> Iterator[dict[str, Any]]:
    """Pairs with what training needs, in pair id order.

    Each: pair_id, person_id, image (path), box [x0, y0, x1, y1], winner / loser ((D,)
    float32 arrays), winner_score, loser_score, margin, source, status.
    """
    winner, loser = aliased(Candidate), aliased(Candidate)
    query = (
        select(Pair, Person, Image.path, Dataset.source_path, winner, loser)
        .join(Person, Pair.person_id == Person.id)
        .join(Image, Person.image_id == Image.id)
        .join(Dataset, Image.dataset_id == Dataset.id)
        .join(winner, Pair.winner_id == winner.id)
        .join(loser, Pair.loser_id == loser.id)
        .where(Pair.status.in_(list(statuses)))
        .order_by(Pair.id)
    )
    with project.session() as session:
        for pair, person, path, source, w, lo in session.execute(
            query.execution_options(yield_per=500)
        ):
            yield {
                "pair_id": pair.id,
                "person_id": person.id,
                "image": str(project.resolve(path, source)),
                "box": [person.x0, person.y0, person.x1, person.y1],
                "winner": blob_to_array(w.params),
                "loser": blob_to_array(lo.params),
                "winner_score": w.score,
                "loser_score": lo.score,
                "margin": pair.margin,
                "source": pair.source,
                "status": pair.status,
            }


def export_pairs_jsonl(
    project: Project, out: str | Path, statuses: Sequence[str] = TRAINING_STATUSES
) -> int:
    """One JSON object per line (see ``iter_pairs``; arrays as lists). Returns the count."""
    n = 0
    with _atomic(project, out) as f:
        for rec in iter_pairs(project, statuses):
            rec["winner"] = rec["winner"].tolist()
            rec["loser"] = rec["loser"].tolist()
            f.write(json.dumps(rec) + "\n")
            n += 1
    return n


def export_pairs_npz(
    project: Project, out: str | Path, statuses: Sequence[str] = TRAINING_STATUSES
) -> int:
    """Arrays: winner, loser (N, D) float32; box (N, 4) float32; winner_score, loser_score,
    margin (N,) float64 (NaN where unknown); pair_id, person_id (N,) int64; image, source,
    status (N,) str. Returns N."""
    recs = list(iter_pairs(project, statuses))
    dims = {r["winner"].size for r in recs} | {r["loser"].size for r in recs}
    if len(dims) > 1:
        raise ShapeError(f"{out}: pairs mix parameter vectors of lengths {sorted(dims)}")
    d = dims.pop() if dims else 0

    def column(key: str, dtype: Any) -> np.ndarray:
        return np.array([np.nan if r[key] is None else r[key] for r in recs], dtype=dtype)

    arrays: dict[str, Any] = {
        "winner": np.stack([r["winner"] for r in recs]) if recs else np.zeros((0, d), np.float32),
        "loser": np.stack([r["loser"] for r in recs]) if recs else np.zeros((0, d), np.float32),
        "box": np.array([r["box"] for r in recs], dtype=np.float32).reshape(-1, 4),
        "winner_score": column("winner_score", np.float64),
        "loser_score": column("loser_score", np.float64),
        "margin": column("margin", np.float64),
        "pair_id": column("pair_id", np.int64),
        "person_id": column("person_id", np.int64),
        "image": np.array([r["image"] for r in recs], dtype=str),
        "source": np.array([r["source"] for r in recs], dtype=str),
        "status": np.array([r["status"] for r in recs], dtype=str),
    }
    with _atomic(project, out, "wb") as f:
        np.savez(f, **arrays)
    return len(recs)


def export_cleaning_csv(project: Project, run_id: int, out: str | Path) -> int:
    """One row per decision of a cleaning run, by descending score. Returns the count."""
    decisions = cleaning_decisions(project, run_id)
    with project.session() as session:
        paths = {
            pid: str(project.resolve(path, source))
            for pid, path, source in session.execute(
                select(Person.id, Image.path, Dataset.source_path)
                .join(Image, Person.image_id == Image.id)
                .join(Dataset, Image.dataset_id == Dataset.id)
                .join(CleaningDecision, CleaningDecision.person_id == Person.id)
                .where(CleaningDecision.run_id == run_id)
            )
        }
    with _atomic(project, out) as f:
        writer = csv.writer(f)
        writer.writerow(
            [
                "decision_id",
                "person_id",
                "image",
                "score",
                "auto_keep",
                "override",
                "keep",
                "who",
                "decided_at",
            ]
        )
        for d in decisions:
            writer.writerow(
                [
                    d.id,
                    d.person_id,
                    paths[d.person_id],
                    f"{d.score:.6g}",
                    int(d.auto_keep),
                    "" if d.override is None else int(d.override),
                    int(d.keep),
                    d.who or "",
                    "" if d.decided_at is None else d.decided_at.isoformat(),
                ]
            )
    return len(decisions)
