"""The directory's short searches on SQLite: an FTS5 table of each key's characters and character pairs.

SQLite's trigram table needs three characters, so a rare search of one or two walked the whole directory (~27 ms a
page at 100,000 names); this table answers a hex-encoded character or pair as one token (docs/performance.md).
PostgreSQL has its own (0006).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As of this revision; the models carry the same DDL for create_all() (flasky/models.py).
GRAMS_OF = ("(SELECT group_concat(hex(substr({key}, n, 1)) || ' ' || hex(substr({key}, n, 2)), ' ') "
            "FROM users_search_positions WHERE n <= length({key}))")
SQLITE_GRAMS_DDL = (
    "CREATE TABLE users_search_positions (n INTEGER PRIMARY KEY)",
    "WITH RECURSIVE counted(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counted WHERE n < 192) "
    "INSERT INTO users_search_positions SELECT n FROM counted",
    "CREATE VIRTUAL TABLE users_search_grams USING fts5(grams, content='', detail=none, tokenize='ascii')",
    "CREATE TRIGGER users_search_grams_insert AFTER INSERT ON users BEGIN INSERT INTO users_search_grams(rowid, grams) "
    f"VALUES (new.id, {GRAMS_OF.format(key='new.search_key')}); END",
    "CREATE TRIGGER users_search_grams_delete AFTER DELETE ON users BEGIN INSERT INTO users_search_grams("
    f"users_search_grams, rowid, grams) VALUES ('delete', old.id, {GRAMS_OF.format(key='old.search_key')}); END",
    "CREATE TRIGGER users_search_grams_update AFTER UPDATE OF search_key ON users BEGIN INSERT INTO "
    f"users_search_grams(users_search_grams, rowid, grams) VALUES ('delete', old.id, "
    f"{GRAMS_OF.format(key='old.search_key')}); INSERT INTO users_search_grams(rowid, grams) VALUES (new.id, "
    f"{GRAMS_OF.format(key='new.search_key')}); END",
)


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_GRAMS_DDL:
            op.execute(statement)
        op.execute(f"INSERT INTO users_search_grams(rowid, grams) SELECT id, {GRAMS_OF.format(key='search_key')} "
                   "FROM users")


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for trigger in ("users_search_grams_insert", "users_search_grams_delete", "users_search_grams_update"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS users_search_grams")
        op.execute("DROP TABLE IF EXISTS users_search_positions")
