"""Database engine tuning that SQLAlchemy leaves to the application, what an unavailable database raises, the
INSERT that skips taken names on either database, and connections for reads that need no transaction."""

from contextlib import contextmanager
from functools import partial

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeoutError

from .extensions import db

# What "the database is unreachable, read-only or overloaded" looks like to SQLAlchemy: pages answer 503.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)
# INSERT ... ON CONFLICT DO NOTHING, spelled by each database's dialect: the unique index settles races.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}
UPSERT_DIALECTS = frozenset(_INSERTS)


def insert_unless_taken(dialect_name, target, *unique_columns):
    """Start an INSERT into target that skips rows whose unique columns are taken (SQLite or PostgreSQL)."""
    return _INSERTS[dialect_name](target).on_conflict_do_nothing(index_elements=list(unique_columns))


@contextmanager
def reading_connection():
    """Lend a connection for SELECTs that write nothing and need no snapshot of their own (a directory page, the live
    panel): on PostgreSQL one outside any transaction (psycopg's autocommit is a local flag), which saves the BEGIN
    and ROLLBACK round trips, two of the four such a page cost; elsewhere the session's (pysqlite begins none for a
    SELECT). Its statements may see different moments.
    """
    if db.engine.dialect.name != "postgresql":
        yield db.session.connection()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


def _tune_sqlite(busy_timeout_ms, dbapi_connection, _connection_record):
    """Let readers and a writer work at once (WAL), wait for a busy writer, and enforce foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app):
    """Hook the tuning into every SQLite engine of the app."""
    tune = partial(_tune_sqlite, app.config["SQLITE_BUSY_TIMEOUT_MS"])
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", tune)
