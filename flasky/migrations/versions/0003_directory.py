"""The visitors directory: the book's roles, a search key per user, and the indexes that serve the directory.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ROLE_NAMES = ("User", "Moderator", "Administrator")
DEFAULT_ROLE = "User"
# As of this revision; the models carry the same DDL for create_all() (flasky/models.py).
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE users_search USING fts5(search_key, content='users', content_rowid='id', "
    "tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_search(rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF search_key ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO users_search(rowid, search_key) VALUES (new.id, new.search_key); END",
)


def search_key(value):
    """text.search_key() as of this revision: NFC, full case folding, NFC again."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())


def upgrade():
    connection = op.get_bind()
    roles = sa.table("roles", sa.column("id", sa.Integer), sa.column("name", sa.String))
    users = sa.table("users", sa.column("id", sa.Integer), sa.column("username", sa.String),
                     sa.column("search_key", sa.String), sa.column("role_id", sa.Integer))

    existing = set(connection.scalars(sa.select(roles.c.name)))
    missing = [{"name": name} for name in ROLE_NAMES if name not in existing]
    if missing:
        op.bulk_insert(roles, missing)
    default_role = sa.select(roles.c.id).where(roles.c.name == DEFAULT_ROLE).scalar_subquery()
    connection.execute(sa.update(users).where(users.c.role_id.is_(None)).values(role_id=default_role))

    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("search_key", sa.String(length=192), nullable=True))
    rows = connection.execute(sa.select(users.c.id, users.c.username)).all()
    if rows:
        connection.execute(sa.update(users).where(users.c.id == sa.bindparam("user_id"))
                           .values(search_key=sa.bindparam("key")),
                           [{"user_id": row.id, "key": search_key(row.username)} for row in rows])
    with op.batch_alter_table("users") as batch_op:
        batch_op.alter_column("search_key", existing_type=sa.String(length=192), nullable=False)
        batch_op.create_index("ix_users_last_seen_id", ["last_seen", "id", "search_key"], unique=False)

    if connection.dialect.name == "sqlite":
        for statement in SQLITE_SEARCH_DDL:
            op.execute(statement)
        op.execute("INSERT INTO users_search(users_search) VALUES ('rebuild')")
    elif connection.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.create_index("ix_users_search_key_trgm", "users", ["search_key"], postgresql_using="gin",
                        postgresql_ops={"search_key": "gin_trgm_ops"})


def downgrade():
    connection = op.get_bind()
    if connection.dialect.name == "sqlite":
        for trigger in ("users_search_insert", "users_search_delete", "users_search_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS users_search")
    elif connection.dialect.name == "postgresql":
        op.drop_index("ix_users_search_key_trgm", table_name="users")
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_index("ix_users_last_seen_id")
        batch_op.drop_column("search_key")
    # The roles stay: users may hold them, and 0001's table had no fixed rows to go back to.
