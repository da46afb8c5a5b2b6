"""Initial schema: data, checkpoints, sampling, pairs, cleaning, jobs and undo history.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _created() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(), nullable=False)


def _fk(column: str, target: str, ondelete: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        column, sa.Integer(), sa.ForeignKey(target, ondelete=ondelete), nullable=nullable
    )


def upgrade() -> None:
    op.create_table(
        "datasets",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False, unique=True),
        sa.Column("format", sa.String(), nullable=False),
        sa.Column("source_path", sa.String(), nullable=True),
        _created(),
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("dataset_id", "datasets.id", "CASCADE"),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        _created(),
        sa.UniqueConstraint("dataset_id", "path"),
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("image_id", "images.id", "CASCADE"),
        *(sa.Column(c, sa.Double(), nullable=False) for c in ("x0", "y0", "x1", "y1")),
        sa.Column("keypoints", sa.LargeBinary(), nullable=False),
        sa.Column("label_params", sa.LargeBinary(), nullable=True),
        sa.Column("label_source", sa.String(), nullable=True),
        sa.Column("has_3d", sa.Boolean(), nullable=False),
        sa.Column("joints3d", sa.LargeBinary(), nullable=True),
        _created(),
    )
    op.create_table(
        "checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("path", sa.String(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        _fk("parent_id", "checkpoints.id", "SET NULL", nullable=True),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        _created(),
        sa.CheckConstraint("kind IN ('base', 'scorer', 'dpo')", name="kind"),
    )
    op.create_table(
        "sample_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("person_id", "persons.id", "CASCADE"),
        _fk("checkpoint_id", "checkpoints.id", "SET NULL", nullable=True),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("m", sa.Integer(), nullable=False),
        sa.Column("steps", sa.Integer(), nullable=False),
        _created(),
    )
    op.create_table(
        "candidates",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("run_id", "sample_runs.id", "CASCADE"),
        sa.Column("idx", sa.Integer(), nullable=False),
        sa.Column("params", sa.LargeBinary(), nullable=False),
        *(sa.Column(c, sa.Double(), nullable=True) for c in ("score", "mpjpe", "pa_mpjpe", "pve")),
        sa.UniqueConstraint("run_id", "idx"),
    )
    op.create_table(
        "pairs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("person_id", "persons.id", "CASCADE"),
        _fk("winner_id", "candidates.id", "CASCADE"),
        _fk("loser_id", "candidates.id", "CASCADE"),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("margin", sa.Double(), nullable=True),
        sa.Column("who", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        _created(),
        sa.UniqueConstraint("winner_id", "loser_id"),
        sa.CheckConstraint("winner_id != loser_id", name="distinct"),
        sa.CheckConstraint("source IN ('auto', 'manual')", name="source"),
        sa.CheckConstraint(
            "status IN ('proposed', 'accepted', 'rejected', 'skipped', 'both_bad')",
            name="status",
        ),
    )
    op.create_table(
        "cleaning_runs",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("dataset_id", "datasets.id", "CASCADE"),
        _fk("checkpoint_id", "checkpoints.id", "SET NULL", nullable=True),
        sa.Column("keep_fraction", sa.Double(), nullable=True),
        sa.Column("threshold", sa.Double(), nullable=True),
        _created(),
        sa.CheckConstraint("(keep_fraction IS NULL) != (threshold IS NULL)", name="one_rule"),
    )
    op.create_table(
        "cleaning_decisions",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("run_id", "cleaning_runs.id", "CASCADE"),
        _fk("person_id", "persons.id", "CASCADE"),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("auto_keep", sa.Boolean(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=True),
        sa.Column("who", sa.String(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("run_id", "person_id"),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("progress", sa.Double(), nullable=False),
        sa.Column("message", sa.String(), nullable=False),
        sa.Column("log", sa.Text(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=True),
        sa.Column("host", sa.String(), nullable=True),
        sa.Column("heartbeat", sa.DateTime(), nullable=True),
        _created(),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'cancel_requested', 'done', 'failed', 'cancelled')",
            name="status",
        ),
    )
    op.create_table(
        "job_metrics",
        sa.Column("id", sa.Integer(), primary_key=True),
        _fk("job_id", "jobs.id", "CASCADE"),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("fraction", sa.Double(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("job_id", "seq"),
    )
    op.create_table(
        "actions",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("table_name", sa.String(), nullable=False),
        sa.Column("row_id", sa.Integer(), nullable=False),
        sa.Column("op", sa.String(), nullable=False),
        sa.Column("old_value", sa.JSON(), nullable=True),
        sa.Column("new_value", sa.JSON(), nullable=False),
        sa.Column("undone", sa.Boolean(), nullable=False),
        sa.Column("who", sa.String(), nullable=True),
        _created(),
        sa.CheckConstraint("op IN ('update', 'insert')", name="op"),
    )


def downgrade() -> None:
    for table in (
        "actions",
        "job_metrics",
        "jobs",
        "cleaning_decisions",
        "cleaning_runs",
        "pairs",
        "candidates",
        "sample_runs",
        "checkpoints",
        "persons",
        "images",
        "datasets",
    ):
        op.drop_table(table)
