"""business keys unique per agency instead of across all agencies (issue 11)

A key chosen in one agency could block (and reveal) another agency's generated keys; the
unique constraint on ``business_key`` alone becomes one on ``(agency_id, business_key)``.

The old constraint was created without a name: PostgreSQL named it itself
(``process_instance_business_key_key``), SQLite keeps it nameless. Its name is read from the
database; on SQLite the batch copy gives the nameless one a name by the naming convention so it
can be dropped.

Downgrading restores the global constraint and fails if two agencies use the same key by then.

Revision ID: 0012
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0009"
branch_labels = None
depends_on = None

TABLE = "process_instance"
NEW = "uq_instance_agency_business_key"
OLD_CONVENTION = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
OLD_FALLBACK = "uq_process_instance_business_key"  # what the convention names the nameless one


def _unique_on(columns: list[str]) -> list[str]:
    found = sa.inspect(op.get_bind()).get_unique_constraints(TABLE)
    return [uc.get("name") or OLD_FALLBACK for uc in found if uc["column_names"] == columns]


def upgrade() -> None:
    old = _unique_on(["business_key"])
    with op.batch_alter_table(TABLE, naming_convention=OLD_CONVENTION) as batch:
        for name in old:
            batch.drop_constraint(name, type_="unique")
        batch.create_unique_constraint(NEW, ["agency_id", "business_key"])


def downgrade() -> None:
    with op.batch_alter_table(TABLE, naming_convention=OLD_CONVENTION) as batch:
        batch.drop_constraint(NEW, type_="unique")
        batch.create_unique_constraint(OLD_FALLBACK, ["business_key"])
