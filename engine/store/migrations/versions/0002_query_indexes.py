"""Indexes for the queries the review screens run on every click.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

INDEXES = (
    ("ix_images_dataset_id", "images", "dataset_id"),
    ("ix_persons_image_id", "persons", "image_id"),
    ("ix_sample_runs_person_id", "sample_runs", "person_id"),
    ("ix_pairs_person_id", "pairs", "person_id"),
    ("ix_pairs_status", "pairs", "status"),
    ("ix_jobs_status", "jobs", "status"),
)


def upgrade() -> None:
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
