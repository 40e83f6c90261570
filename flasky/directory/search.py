"""The visitors directory: names most recently seen first, substring search, role filter, keyset pages.

A page costs two SQL statements at most, whatever the table holds: a count of the matches bounded at COUNT_LIMIT + 1
("more than 1,000"; a search found crowded is not counted again for a minute), then the page's rows (joined to their
role). The count also picks the rows' plan: a few matches are found through the substring index (SQLite's FTS5 trigram
table, PostgreSQL's pg_trgm; for keys of one or two characters, too short for trigrams, each database's index of
characters and pairs) and sorted; many are met sooner by walking the (last_seen, id, search_key) index and testing each
key, which neither database would choose by itself (SQLite sorts every match; PostgreSQL, misjudging how common a
substring is, sorted 17,443 matches in 44 ms at a million names). See docs/performance.md.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache, lru_cache
from time import monotonic

from flask import current_app
from itsdangerous import BadSignature, Signer
from sqlalchemy import bindparam, column, func, select, table, text, tuple_

from ..caching import keep
from ..extensions import db
from ..models import Role, User
from ..postgres import constant, planned_for_values, reading_connection
from ..text import search_key

PAGE_SIZE = 20
COUNT_LIMIT = 1000
# A search with more than COUNT_LIMIT matches stays that crowded (only `flask users delete` takes names away), so the
# fact is kept for a minute per (key, role): the costly counts are those of common substrings, and exact counts stay
# fresh.
CROWDED_KEY, CROWDED_SECONDS, CROWDED_LIMIT = "flasky.directory.crowded", 60, 4096
# SQLite's trigram index answers substrings of three characters or more; shorter ones are read off the key itself.
TRIGRAM = 3
CURSOR_SALT = "flasky.directory.cursor"
AFTER, BEFORE = "a", "b"
EPOCH, MICROSECOND = datetime(1970, 1, 1), timedelta(microseconds=1)  # cursors carry naive UTC times
SEARCH_TABLE = table("users_search", column("rowid"))  # SQLite's FTS5 index of search keys (models.py)
# The FTS5 trigram tokenizer (case-sensitive, on the folded key) matches a quoted phrase of three characters or more
# as an exact substring; inside the quotes every character is literal but the quote, doubled (_parameters()).
PHRASE_MATCH = text("users_search MATCH :phrase")
# SQLite's table of each key's characters and pairs, hex-encoded (models.py), for keys too short for trigrams: the key
# quoted as one token matches the keys holding it.
GRAMS_TABLE = table("users_search_grams", column("rowid"))
GRAMS_TOKEN_MATCH = text("users_search_grams MATCH :gram")


class InvalidCursor(ValueError):
    """A page cursor this app did not issue: edited, truncated or made up."""


@dataclass(frozen=True)
class Page:
    """One page of the directory: its rows, the (bounded) number of matches, and cursors to the pages around it."""

    rows: list
    count: int
    next_cursor: str | None
    previous_cursor: str | None

    @property
    def count_is_bounded(self):
        """Tell whether there are more matches than were counted."""
        return self.count > COUNT_LIMIT


def find(query="", role=None, start=None):
    """Return the page of users whose name contains query (case-folded) and who hold role, from start on: a cursor's
    (direction, position) as read_cursor() reads it, None for the first page."""
    direction, position = start or (AFTER, None)
    dialect = db.engine.dialect.name
    key = search_key(query) if query else ""
    search = _search_kind(dialect, key)
    parameters = _parameters(key, role, position)
    with reading_connection() as connection:
        count = _count(connection, dialect, search, key, role, parameters)
        # Few matches: let the substring index find them all, then sort. Many: walking the (last_seen, id) index and
        # testing each key finds a page's worth within a few rows.
        if search in (FTS, LIKE, GRAMS) and count > COUNT_LIMIT:
            search = SCAN
        statement = _rows_statement(dialect, search, bool(role), direction, position is not None)
        rows = _run(connection, search, statement, parameters).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if direction == BEFORE:
        rows.reverse()
    has_next = more if direction == AFTER else bool(rows)
    has_previous = (position is not None and bool(rows)) if direction == AFTER else more
    return Page(
        rows=rows,
        count=count,
        next_cursor=_encode(AFTER, rows[-1]) if has_next and rows else None,
        previous_cursor=_encode(BEFORE, rows[0]) if has_previous else None,
    )


def _count(connection, dialect, search, key, role, parameters):
    """Count the matches up to COUNT_LIMIT + 1, or remember that a search had more a moment ago (no statement).

    pg_trgm reads a common trigram's whole posting list before any LIMIT applies (~3-6 ms for "son" at a million
    names), and SQLite's FTS5 count of 1,001 matches costs ~0.2 ms: the bound is kept instead.
    """
    crowded = current_app.extensions.setdefault(CROWDED_KEY, {})
    now = monotonic()
    if crowded.get((key, role), 0) > now:
        return COUNT_LIMIT + 1
    statement = _count_statement(dialect, search, bool(role), COUNT_LIMIT + 1)
    count = _run(connection, search, statement, parameters).scalar_one()
    if count > COUNT_LIMIT:
        keep(crowded, (key, role), now + CROWDED_SECONDS, CROWDED_LIMIT)
    return count


def _run(connection, search, statement, parameters):
    """Run a statement, planned for its key when it searches with one (PLANNED_PER_KEY): PostgreSQL's generic plan
    walks the (last_seen, id) index whatever the pattern, 0.9-2 s for a rare one at a million names once a common
    one with a role has run five times (docs/performance.md)."""
    if search not in PLANNED_PER_KEY:
        return connection.execute(statement, parameters)
    with planned_for_values(connection):
        return connection.execute(statement, parameters)  # psycopg's cursor holds every row by now


# How a search is served: not at all (no query), pg_trgm's LIKE, each database's index of characters and pairs of them
# (keys too short for trigrams), SQLite's FTS5 trigram table, or a test of each key.
NONE, LIKE, GRAMS, FTS, SCAN = "none", "like", "grams", "fts", "scan"
# Searches whose plan depends on the key: planned for it every time (_run()).
PLANNED_PER_KEY = frozenset({LIKE, GRAMS})
# The key as one element of a text[], compared with the index expression of migration 0006.
GRAMS_MATCH = text("flasky_search_grams(users.search_key) @> ARRAY[CAST(:key AS text)]")
# SQLite's FTS5 tables, by the search each serves.
SQLITE_TABLES = {FTS: (SEARCH_TABLE, PHRASE_MATCH), GRAMS: (GRAMS_TABLE, GRAMS_TOKEN_MATCH)}


def _search_kind(dialect, key):
    """Choose how to find the keys containing key on this database."""
    if not key:
        return NONE
    if len(key) < TRIGRAM:
        return GRAMS
    return LIKE if dialect == "postgresql" else FTS


def _parameters(key, role, position):
    """Bind a search's values: the key in each form the statements read it, the role and the cursor's position."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    parameters = {"key": key, "pattern": f"%{escaped}%", "phrase": '"' + key.replace('"', '""') + '"', "role": role,
                  "gram": f'"{key.encode().hex()}"'}
    if position is not None:
        parameters["last_seen"], parameters["user_id"] = position
    return parameters


# Statements are built once per shape and run with fresh parameters: building one costs about as much as SQLite
# running it (~0.5 ms a page otherwise, in SQLAlchemy's coercions).
@cache
def _count_statement(dialect, search, by_role, limit):
    """Count the matches up to limit (COUNT_LIMIT + 1): on SQLite's search table alone when no role is asked (~10x
    cheaper than joining each match to its user)."""
    if dialect == "sqlite" and search in SQLITE_TABLES and not by_role:
        matching = _sqlite_matches(search)
    else:
        matching = _matching(dialect, search, by_role)
    return select(func.count()).select_from(matching.limit(constant(limit)).subquery())


@cache
def _rows_statement(dialect, search, by_role, direction, from_position):
    """Select a page of matches (one more, to tell whether another page follows) in the directory's order."""
    keys = tuple_(User.last_seen, User.id)
    # Typed, so that SQLite compares the stored text form of the time, as SQLAlchemy writes it.
    position = tuple_(bindparam("last_seen", type_=User.last_seen.type), bindparam("user_id", type_=User.id.type))
    order = (User.last_seen.desc(), User.id.desc()) if direction == AFTER else (User.last_seen, User.id)
    after = (keys < position) if direction == AFTER else (keys > position)

    def paged(statement):
        statement = statement.order_by(*order)
        # A BEFORE cursor always has a position.
        return (statement.where(after) if from_position else statement).limit(constant(PAGE_SIZE + 1))

    if dialect == "postgresql" and search == SCAN and not by_role:
        # PostgreSQL tests a filter on the heap's row, not the index's, unless the scan is index-only: the walk picks
        # the page's ids from the (last_seen, id, search_key) index alone, then reads those rows (0.41 -> 0.28 ms for
        # "son" at a million names, which tests ~370 keys to fill a page). SQLite defers the row's read by itself.
        page = paged(select(User.id).where(func.strpos(User.search_key, bindparam("key")) > 0)).subquery()
        return _matching(dialect, NONE, False).join(page, page.c.id == User.id).order_by(*order)
    return paged(_matching(dialect, search, by_role))


def _matching(dialect, search, by_role):
    """Select the matching users' columns and role name (a LEFT JOIN, so the rows need no query per role)."""
    statement = select(User.id, User.username, User.first_seen, User.last_seen, Role.name.label("role")).outerjoin(
        Role, User.role_id == Role.id)
    if by_role:
        # By id, looked up once in the statement: the (role_id, last_seen, id) index then reads the role's names in
        # the directory's order (a rare role's page read ~20,000 entries when filtered on the joined name).
        role_id = select(Role.id).where(Role.name == bindparam("role")).scalar_subquery()
        statement = statement.where(User.role_id == role_id)
    if search == LIKE:
        # pg_trgm's GIN index serves LIKE '%...%'; %, _ and \ are escaped, so they match themselves.
        return statement.where(User.search_key.like(bindparam("pattern"), escape="\\"))
    if dialect == "sqlite" and search in SQLITE_TABLES:
        # Asked once, IN a list: joined, a table was asked once per row of a role's index when a role was given
        # (32 ms for `xq` + Moderator at 100,000 names, against 1 ms).
        return statement.where(User.id.in_(_sqlite_matches(search)))
    if search == GRAMS:  # PostgreSQL's index of characters and pairs
        return statement.where(GRAMS_MATCH)
    if search == SCAN:  # a test no index serves, so the database walks the directory's order
        position = func.strpos if dialect == "postgresql" else func.instr
        return statement.where(position(User.search_key, bindparam("key")) > 0)
    return statement


def _sqlite_matches(search):
    """Select the ids whose keys SQLite's FTS5 table for this search matches."""
    fts_table, match = SQLITE_TABLES[search]
    return select(fts_table.c.rowid).where(match)


def _signer(secret_key=None):
    """Sign cursors with the app's secret key, so that only cursors this app issued are followed."""
    return _signer_for(secret_key or current_app.secret_key)


@lru_cache(maxsize=8)
def _signer_for(secret_key):
    """Build the cursors' Signer with its key derived once: itsdangerous derives it anew for every signature
    (a page signs or checks up to three), the signatures are the same."""
    derived = Signer(secret_key, salt=CURSOR_SALT).derive_key()
    return Signer(derived, salt=CURSOR_SALT, key_derivation="none")


def _encode(direction, row):
    """Make the cursor of the page after (or before) a row."""
    return sign_cursor(direction, row.last_seen, row.id)


def sign_cursor(direction, last_seen, user_id, secret_key=None):
    """Sign a position as a cursor: "a.<last seen, µs since 1970>.<id>.<signature>".

    Plain signed text rather than itsdangerous' serializer, which tries zlib on every token (~25 µs against ~4).
    """
    microseconds = (last_seen - EPOCH) // MICROSECOND
    return _signer(secret_key).sign(f"{direction}.{microseconds}.{user_id}").decode("ascii")


def read_cursor(cursor):
    """Read a cursor back into (direction, (last_seen, id)); raise InvalidCursor for one the app did not issue."""
    try:
        direction, microseconds, user_id = _signer().unsign(cursor).decode("ascii").split(".")
        if direction not in (AFTER, BEFORE):
            raise ValueError(direction)
        return direction, (EPOCH + int(microseconds) * MICROSECOND, int(user_id))
    except (BadSignature, ValueError, TypeError, OverflowError, UnicodeError) as error:
        raise InvalidCursor(cursor) from error
