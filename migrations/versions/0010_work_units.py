"""work units (OPD): the unit table, the unit of each user and of each request

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

import engine.models

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", engine.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agency_id"], ["agency.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agency_id", "code"),
    )
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(sa.Column("work_unit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_user_account_work_unit", "work_unit", ["work_unit_id"], ["id"]
        )
        batch.create_index("ix_user_account_work_unit_id", ["work_unit_id"])
    with op.batch_alter_table("process_instance") as batch:
        batch.add_column(sa.Column("work_unit_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_process_instance_work_unit", "work_unit", ["work_unit_id"], ["id"]
        )
        batch.create_index("ix_instance_unit", ["agency_id", "work_unit_id"])


def downgrade() -> None:
    with op.batch_alter_table("process_instance") as batch:
        batch.drop_index("ix_instance_unit")
        batch.drop_constraint("fk_process_instance_work_unit", type_="foreignkey")
        batch.drop_column("work_unit_id")
    with op.batch_alter_table("user_account") as batch:
        batch.drop_index("ix_user_account_work_unit_id")
        batch.drop_constraint("fk_user_account_work_unit", type_="foreignkey")
        batch.drop_column("work_unit_id")
    op.drop_table("work_unit")
