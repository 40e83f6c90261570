"""The visitors directory: names most recently seen first, substring search, role filter, keyset pages.

A page costs two SQL statements whatever the table holds: a count of the matches bounded at COUNT_LIMIT + 1 ("more
than 1,000"), then the page's rows (joined to their role). The count also picks the rows' plan on SQLite: a few
matches are found through the FTS5 trigram table and sorted; many are met sooner by walking the (last_seen, id,
search_key) index and testing each key. A search of one or two characters always walks (trigrams need three), so a
rare one reads the whole index: ~27 ms at 100,000 names (docs/performance.md).
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import column, func, select, table, text, tuple_

from .extensions import db
from .models import Role, User
from .text import search_key

PAGE_SIZE = 20
COUNT_LIMIT = 1000
# SQLite's trigram index answers substrings of three characters or more; shorter ones are read off the key itself.
TRIGRAM = 3
CURSOR_SALT = "flasky.directory.cursor"
AFTER, BEFORE = "a", "b"
SEARCH_TABLE = table("users_search", column("rowid"))  # SQLite's FTS5 index of search keys (models.py)


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


def find(query="", role=None, cursor=None):
    """Return the page of users whose name contains query (case-folded) and who hold role, from cursor on."""
    direction, position = read_cursor(cursor) if cursor else (AFTER, None)
    connection = db.session.connection()
    count = connection.execute(_bounded_count(query, role)).scalar_one()
    # Few matches: let the substring index find them all, then sort. Many: walking the (last_seen, id) index and
    # testing each key finds a page's worth within a few rows (SQLite would otherwise sort every match).
    matching = _matching(query, role, prefilter=count <= COUNT_LIMIT)
    order = (User.last_seen.desc(), User.id.desc()) if direction == AFTER else (User.last_seen, User.id)
    statement = matching.order_by(*order).limit(PAGE_SIZE + 1)
    if position is not None:
        keys = tuple_(User.last_seen, User.id)
        statement = statement.where(keys < tuple_(*position) if direction == AFTER else keys > tuple_(*position))
    rows = connection.execute(statement).all()
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


def _bounded_count(query, role):
    """Count the matches up to COUNT_LIMIT + 1: on SQLite's search index alone when no role is asked (~10x cheaper
    than joining each match to its user)."""
    matching = _matching(query, role)
    if not role and query and _uses_search_table(search_key(query)):
        matching = select(SEARCH_TABLE.c.rowid).where(_phrase_match(search_key(query)))
    return select(func.count()).select_from(matching.limit(COUNT_LIMIT + 1).subquery())


def _uses_search_table(key):
    """Tell whether SQLite's FTS5 trigram table can serve a search for this key."""
    return db.engine.dialect.name == "sqlite" and len(key) >= TRIGRAM


def _phrase_match(key):
    """Match the FTS5 trigram table's keys containing key: a quoted phrase of three characters or more is an exact
    substring for the (case-sensitive, on the folded key) tokenizer; inside the quotes every character is literal
    but the quote, doubled."""
    return text("users_search MATCH :phrase").bindparams(phrase='"' + key.replace('"', '""') + '"')


def _matching(query, role, *, prefilter=True):
    """Select the matching users' columns and role name (a LEFT JOIN, so the rows need no query per role)."""
    statement = select(User.id, User.username, User.first_seen, User.last_seen, Role.name.label("role")).outerjoin(
        Role, User.role_id == Role.id)
    if role:
        statement = statement.where(Role.name == role)
    if not query:
        return statement
    key = search_key(query)
    if db.engine.dialect.name == "postgresql":
        # pg_trgm's GIN index serves LIKE '%...%'; %, _ and \ are escaped, so they match themselves.
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return statement.where(User.search_key.like(f"%{escaped}%", escape="\\"))
    if not (prefilter and _uses_search_table(key)):
        return statement.where(func.instr(User.search_key, key) > 0)
    return statement.join(SEARCH_TABLE, SEARCH_TABLE.c.rowid == User.id).where(_phrase_match(key))


def _serializer():
    """Sign cursors with the app's secret key, so that only cursors this app issued are followed."""
    return URLSafeSerializer(current_app.secret_key, salt=CURSOR_SALT)


def _encode(direction, row):
    """Make the cursor of the page after (or before) a row."""
    return _serializer().dumps([direction, row.last_seen.isoformat(), row.id])


def read_cursor(cursor):
    """Read a cursor back into (direction, (last_seen, id)); raise InvalidCursor for one the app did not issue."""
    try:
        direction, last_seen, user_id = _serializer().loads(cursor)
        if direction not in (AFTER, BEFORE) or not isinstance(user_id, int):
            raise ValueError(direction)
        return direction, (datetime.fromisoformat(last_seen), user_id)
    except (BadSignature, ValueError, TypeError) as error:
        raise InvalidCursor(cursor) from error
