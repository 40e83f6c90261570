"""The directory's short searches on PostgreSQL: a GIN index of each key's characters and character pairs.

pg_trgm finds no trigram in a one- or two-character pattern and reads its whole index (200-260 ms a page at a
million names); this index answers `flasky_search_grams(search_key) @> ARRAY[key]` for those (3-6 ms a page). SQLite's
twin is 0007 (docs/performance.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# As of this revision; the models carry the same DDL for create_all(), and say why PL/pgSQL (flasky/models.py).
GRAMS_FUNCTION_DDL = """\
CREATE OR REPLACE FUNCTION flasky_search_grams(key text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    grams text[] := string_to_array(key, NULL);  -- each character
BEGIN
    FOR i IN 1 .. length(key) - 1 LOOP
        grams := grams || substr(key, i, 2);
    END LOOP;
    RETURN grams;
END
$$"""
GRAMS_INDEX = "ix_users_search_key_grams"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GRAMS_FUNCTION_DDL)
        op.execute(f"CREATE INDEX {GRAMS_INDEX} ON users USING gin (flasky_search_grams(search_key))")
        # Statistics of the new expression: without them PostgreSQL guesses 5,000 matches for any pair at a million
        # names and walks the directory's index, running the function on every row (5-6 s a page for `xq`).
        op.execute("ANALYZE users")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index(GRAMS_INDEX, table_name="users")
        op.execute("DROP FUNCTION flasky_search_grams(text)")
