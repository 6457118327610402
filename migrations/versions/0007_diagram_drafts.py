"""Diagram drafts of the web modeler (web/designer/models.py)

Revision ID: 0007
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "0007"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "diagram_draft",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("process_key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("based_on_definition_id", sa.String(length=160), nullable=True),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.Column("updated_at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("published_definition_id", sa.String(length=160), nullable=True),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("published_by", sa.String(length=64), nullable=True),
        sa.Column("published_at", engine.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        op.f("ix_diagram_draft_agency_id"), "diagram_draft", ["agency_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_diagram_draft_agency_id"), table_name="diagram_draft")
    op.drop_table("diagram_draft")
