"""The directory's role filter: each role's names in the directory's order, so a rare role's page reads 21 entries.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_users_role_id_last_seen_id", "users", ["role_id", "last_seen", "id"])


def downgrade():
    op.drop_index("ix_users_role_id_last_seen_id", table_name="users")
