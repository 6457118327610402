"""one head again: work units (0010), server-side sessions (0011) and business keys per
agency (0012) meet here

Revision ID: 0013
Revises: 0010, 0011, 0012
"""

revision = "0013"
down_revision = ("0010", "0011", "0012")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
