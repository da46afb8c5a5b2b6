"""All of BlazePose's per-person outputs on the person row.

Every new column is nullable: datasets with their own keypoints (COCO JSON, SPIN npz)
and projects made before this revision have no detector outputs.
Array columns are little-endian float32 bytes (``engine.store.blobs``):
``landmarks`` (33, 4) x, y px, z px, confidence; ``world_landmarks`` (33, 3) metres;
``landmark_visibility`` and ``landmark_presence`` (33,) in [0, 1]. ``mask`` is an 8-bit
greyscale PNG of the person probability over the whole image
(``engine.data.masks``). ``detection_score`` is the person detector's confidence.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

COLUMNS = (
    ("landmarks", sa.LargeBinary),
    ("world_landmarks", sa.LargeBinary),
    ("landmark_visibility", sa.LargeBinary),
    ("landmark_presence", sa.LargeBinary),
    ("mask", sa.LargeBinary),
    ("detection_score", sa.Double),
)


def upgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        for name, kind in COLUMNS:
            batch.add_column(sa.Column(name, kind(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        for name, _ in reversed(COLUMNS):
            batch.drop_column(name)
