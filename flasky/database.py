"""Database set-up that SQLAlchemy leaves to the application: SQLite's tuning, what an unavailable database raises,
and the INSERT that skips taken names on either database."""

from functools import partial

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError, TimeoutError as PoolTimeoutError

from . import postgres
from .extensions import db

# What "the database is unreachable, read-only or overloaded" looks like to SQLAlchemy: pages answer 503.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
# PostgreSQL's SQLSTATEs for a table or a column that is not there, and SQLite's words for the same: a schema missing
# or behind the code's (flasky/schema.py). PostgreSQL's arrive as a ProgrammingError, a bug's class otherwise.
UNDEFINED_OBJECT_STATES = frozenset({"42P01", "42703"})
SQLITE_UNDEFINED_OBJECT = ("no such table", "no such column", "has no column named")
# INSERT ... ON CONFLICT DO NOTHING, spelled by each database's dialect: the unique index settles races.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
UPSERT_DIALECTS = frozenset(_INSERTS)


def is_schema_error(error):
    """Tell whether a failed statement met a table or a column that is not there."""
    original = getattr(error, "orig", None)
    if getattr(original, "sqlstate", None) in UNDEFINED_OBJECT_STATES:
        return True
    return isinstance(error, OperationalError) and str(original).startswith(SQLITE_UNDEFINED_OBJECT)


def is_unavailable(error):
    """Tell whether an error means the database cannot serve now (unreachable, read-only, overloaded, or its schema
    not the code's), rather than a bug."""
    return isinstance(error, DATABASE_UNAVAILABLE) or (isinstance(error, ProgrammingError) and is_schema_error(error))


def insert_unless_taken(dialect_name, target, *unique_columns):
    """Start an INSERT into target that skips rows whose unique columns are taken (SQLite or PostgreSQL)."""
    return _INSERTS[dialect_name](target).on_conflict_do_nothing(index_elements=list(unique_columns))


def _tune_sqlite(busy_timeout_ms, dbapi_connection, _connection_record):
    """Let readers and a writer work at once (WAL), wait for a busy writer, and enforce foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app):
    """Hook the tuning into every SQLite engine of the app, and the staleness check into every PostgreSQL one."""
    tune = partial(_tune_sqlite, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", tune)
            elif engine.dialect.name == "postgresql":
                postgres.ping_when_stale(engine)
