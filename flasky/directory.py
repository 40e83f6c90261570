"""The visitors directory: names most recently seen first, substring search, role filter, keyset pages.

A page costs two SQL statements whatever the table holds: the page's rows (joined to their role) and a count of the
matches bounded at COUNT_LIMIT + 1 ("more than 1,000"), so neither ever reads past what it shows.
"""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import func, literal_column, select, text, tuple_

from .extensions import db
from .models import Role, User
from .text import search_key

PAGE_SIZE = 20
COUNT_LIMIT = 1000
# SQLite's trigram index answers substrings of three characters or more; shorter ones are read off the key itself.
TRIGRAM = 3
CURSOR_SALT = "flasky.directory.cursor"
AFTER, BEFORE = "a", "b"


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
    matching = _matching(query, role)
    order = (User.last_seen.desc(), User.id.desc()) if direction == AFTER else (User.last_seen, User.id)
    statement = matching.order_by(*order).limit(PAGE_SIZE + 1)
    if position is not None:
        keys = tuple_(User.last_seen, User.id)
        statement = statement.where(keys < tuple_(*position) if direction == AFTER else keys > tuple_(*position))
    connection = db.session.connection()
    rows = connection.execute(statement).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    if direction == BEFORE:
        rows.reverse()
    bounded = select(func.count()).select_from(matching.limit(COUNT_LIMIT + 1).subquery())
    count = connection.execute(bounded).scalar_one()
    has_next = more if direction == AFTER else bool(rows)
    has_previous = (position is not None and bool(rows)) if direction == AFTER else more
    return Page(
        rows=rows,
        count=count,
        next_cursor=_encode(AFTER, rows[-1]) if has_next and rows else None,
        previous_cursor=_encode(BEFORE, rows[0]) if has_previous else None,
    )


def _matching(query, role):
    """Select the matching users' columns and role name (a LEFT JOIN, so the rows need no query per role)."""
    statement = select(User.id, User.username, User.first_seen, User.last_seen, Role.name.label("role")).outerjoin(
        Role, User.role_id == Role.id)
    if role:
        statement = statement.where(Role.name == role)
    if query:
        statement = statement.where(_contains(search_key(query)))
    return statement


def _contains(key):
    """Match users whose search key contains key, through the database's substring index where it has one."""
    if db.engine.dialect.name == "postgresql":
        # pg_trgm's GIN index serves LIKE '%...%'; %, _ and \ are escaped, so they match themselves.
        escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return User.search_key.like(f"%{escaped}%", escape="\\")
    contains = func.instr(User.search_key, key) > 0
    if len(key) < TRIGRAM:
        return contains
    # The FTS5 trigram table finds the candidates (a quoted phrase: any character is literal in it); instr() keeps
    # the test exact, as on PostgreSQL.
    phrase = '"' + key.replace('"', '""') + '"'
    candidates = select(literal_column("rowid")).select_from(text("users_search")).where(
        text("users_search MATCH :phrase").bindparams(phrase=phrase))
    return User.id.in_(candidates) & contains


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
