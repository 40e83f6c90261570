"""Database set-up that SQLAlchemy leaves to the application: SQLite's tuning, what an unavailable database raises,
and the INSERT that skips taken names on either database."""

import os
import pwd
from functools import partial
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError, ProgrammingError, TimeoutError as PoolTimeoutError

from . import postgres
from .config import StartupError
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


def sqlite_file(url):
    """Return the path of the file a SQLite URL writes, or None (in memory, read-only, not SQLite)."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.query.get("uri") in ("true", "1"):  # sqlite:///file:/path?mode=ro&uri=true
        if url.query.get("mode") in ("ro", "memory") or not url.database.startswith("file:"):
            return None
        return Path(url.database.removeprefix("file:"))
    return Path(url.database)


def check_sqlite_folder(url, variable):
    """Refuse to start on a SQLite file whose folder is missing or not writable (SQLite writes its -wal and -shm files
    there), in one line that names the folder and the variable setting it."""
    path = sqlite_file(url)
    if path is None:
        return
    folder = path.parent
    if folder.is_dir() and os.access(folder, os.W_OK | os.X_OK):
        return
    user = pwd.getpwuid(os.geteuid()).pw_name
    if folder.is_dir():
        problem, fix = f"is not writable by {user}", f"give it to the user the app runs as (sudo chown {user} {folder}), "
    elif folder.exists():
        problem, fix = "is not a folder", ""
    else:
        problem, fix = "does not exist", f"create it for the user the app runs as (sudo install -d -o {user} {folder}), "
    raise StartupError(f"The SQLite database's folder {folder} {problem} ({variable}={url}): {fix}or set {variable} "
                       f"to a file in a folder {user} can write to.")


def _tune_sqlite(busy_timeout_ms, dbapi_connection, _connection_record):
    """Let readers and a writer work at once (WAL), wait for a busy writer, and enforce foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app):
    """Check every SQLite engine's folder and hook the tuning into it, and the staleness check into every PostgreSQL
    engine."""
    tune = partial(_tune_sqlite, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                check_sqlite_folder(engine.url, app.config["DATABASE_URL_VARIABLE"])
                event.listen(engine, "connect", tune)
            elif engine.dialect.name == "postgresql":
                postgres.ping_when_stale(engine)
