"""one head again: the feature branches of the schema (names and DNS, mail and letters,
API tokens, waiting messages, diagram drafts, survey answers) meet here, so the next migration
has a single parent and ``alembic upgrade head`` works as well as ``heads``

Revision ID: 0009
Revises: 0002, 0003, 0005, 0006, 0007, 0008
"""

revision = "0009"
down_revision = ("0002", "0003", "0005", "0006", "0007", "0008")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
