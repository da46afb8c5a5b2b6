"""A person's 3D label, written after the person exists (a fit's pseudo-label)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from engine.errors import ShapeError
from engine.store.blobs import array_to_blob
from engine.store.schema import Person
from engine.store.tx import Db, get_row, transaction

LABEL_KINDS = ("gt", "pseudo")


def set_person_label(db: Db, person_id: int, label_params: ArrayLike, label_kind: str) -> None:
    """Store label_params (D,) float32 as the person's label of kind 'gt' or 'pseudo'.

    Raises ShapeError for a non-finite or non-vector label or an unknown kind, StoreError
    when there is no such person.
    """
    if label_kind not in LABEL_KINDS:
        raise ShapeError(f"label kind {label_kind!r}: expected one of {', '.join(LABEL_KINDS)}")
    arr = np.asarray(label_params, np.float32)
    if arr.ndim != 1 or not np.isfinite(arr).all():
        raise ShapeError(f"label_params: expected a finite vector, got shape {arr.shape}")
    with transaction(db, write=True) as session:
        row = get_row(session, Person, person_id)
        row.label_params = array_to_blob(arr, "label_params")
        row.label_source = label_kind
