"""Survey answers (IKM) per completed request (web/survey/models.py)

Revision ID: 0008
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "0008"
down_revision = "0001"
branch_labels = None
depends_on = None

ELEMENTS = [f"u{i}" for i in range(1, 10)]


def upgrade() -> None:
    op.create_table(
        "survey_response",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in ELEMENTS],
        sa.Column("suggestion", sa.Text(), nullable=True),
        sa.Column("submitted_by", sa.String(length=64), nullable=False),
        sa.Column("submitted_at", engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.ForeignKeyConstraint(["instance_id"], ["process_instance.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("instance_id"),
    )
    op.create_index(
        "ix_survey_response_agency_submitted",
        "survey_response",
        ["agency_id", "submitted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_survey_response_agency_submitted", table_name="survey_response")
    op.drop_table("survey_response")
