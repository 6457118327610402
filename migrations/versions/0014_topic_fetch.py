"""the last fetchAndLock per agency and topic (issue 12): the admin's queue page shows when a
worker last asked for an external topic's jobs

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topic_fetch",
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("last_fetch_at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("worker_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("agency_id", "topic"),
    )


def downgrade() -> None:
    op.drop_table("topic_fetch")
