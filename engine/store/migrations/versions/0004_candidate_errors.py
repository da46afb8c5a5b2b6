"""Candidate errors as one JSON object keyed by metric name.

The three columns mpjpe, pa_mpjpe and pve become ``candidates.errors``, a JSON object
such as {"mpjpe": 81.2, "pa_mpjpe": 52.0, "pve": 97.5} (null where the person has no 3D
label), so a metric registered later (``engine.metric_registry``) is stored without
another schema change. Values are copied over; downgrading copies the three back.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD = ("mpjpe", "pa_mpjpe", "pve")


def upgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        batch.add_column(sa.Column("errors", sa.JSON(), nullable=True))
    # json_object keeps a partly known row's nulls, which the reader drops.
    pairs = ", ".join(f"'{c}', {c}" for c in OLD)
    known = " OR ".join(f"{c} IS NOT NULL" for c in OLD)
    op.execute(f"UPDATE candidates SET errors = json_object({pairs}) WHERE {known}")
    with op.batch_alter_table("candidates") as batch:
        for c in OLD:
            batch.drop_column(c)


def downgrade() -> None:
    with op.batch_alter_table("candidates") as batch:
        for c in OLD:
            batch.add_column(sa.Column(c, sa.Double(), nullable=True))
    sets = ", ".join(f"{c} = json_extract(errors, '$.{c}')" for c in OLD)
    op.execute(f"UPDATE candidates SET {sets} WHERE errors IS NOT NULL")
    with op.batch_alter_table("candidates") as batch:
        batch.drop_column("errors")
