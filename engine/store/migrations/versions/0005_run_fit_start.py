"""How each sample run started: ``sample_runs.fit_start``.

The level at which the run's samples started from the person's body fit
(``SampleSettings.fit_start``; 0 = from pure noise). Runs made before this revision read
null: they were sampled from noise.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sample_runs") as batch:
        batch.add_column(sa.Column("fit_start", sa.Double(), nullable=True))


def downgrade() -> None:
    # Natively (SQLite 3.35 or newer): batch mode would copy sample_runs into a new table
    # and drop the old one, and with foreign keys on that deletes every candidate with it.
    op.execute("ALTER TABLE sample_runs DROP COLUMN fit_start")
