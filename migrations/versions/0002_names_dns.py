"""subdomain registry and DNS change audit (handlers.names, handlers.dns)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 06:30:00
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "subdomain",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=63), nullable=False),
        sa.Column("fqdn", sa.String(length=253), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("business_key", sa.String(length=100), nullable=True),
        sa.Column("reserved_by", sa.String(length=200), nullable=True),
        sa.Column("reserved_at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("activated_at", engine.models.UTCDateTime(), nullable=True),
        sa.Column("deleted_at", engine.models.UTCDateTime(), nullable=True),
        sa.Column("deleted_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_subdomain_instance", "subdomain", ["instance_id"], unique=False)
    op.create_index(
        "uq_subdomain_live_label",
        "subdomain",
        ["agency_id", "label"],
        unique=True,
        postgresql_where=sa.text("deleted_at IS NULL"),
        sqlite_where=sa.text("deleted_at IS NULL"),
    )
    op.create_table(
        "dns_change",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("instance_id", sa.String(length=36), nullable=True),
        sa.Column("business_key", sa.String(length=100), nullable=True),
        sa.Column("external_task_id", sa.String(length=36), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("provider", sa.String(length=100), nullable=False),
        sa.Column("zone", sa.String(length=253), nullable=False),
        sa.Column("fqdn", sa.String(length=253), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", engine.models.UTCDateTime(), nullable=False),
        sa.Column("finished_at", engine.models.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_dns_change_agency_fqdn", "dns_change", ["agency_id", "fqdn"], unique=False)
    op.create_index("ix_dns_change_task", "dns_change", ["external_task_id"], unique=False)
    op.create_index("ix_dns_change_instance", "dns_change", ["instance_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_dns_change_instance", table_name="dns_change")
    op.drop_index("ix_dns_change_task", table_name="dns_change")
    op.drop_index("ix_dns_change_agency_fqdn", table_name="dns_change")
    op.drop_table("dns_change")
    op.drop_index("uq_subdomain_live_label", table_name="subdomain")
    op.drop_index("ix_subdomain_instance", table_name="subdomain")
    op.drop_table("subdomain")
