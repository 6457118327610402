"""server-side login sessions (web/auth/models.py): a row per login, revoked on logout,
password change, reset and deactivation

Revision ID: 0011
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "user_session",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("user_agent", sa.String(length=200), nullable=True),
        sa.Column("client_addr", sa.String(length=64), nullable=True),
        sa.Column("revoked_at", engine.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["user_account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_sha256"),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
