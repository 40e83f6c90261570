"""Database engine tuning that SQLAlchemy leaves to the application, and what an unavailable database raises."""

from functools import partial

from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError, TimeoutError as PoolTimeoutError

from .extensions import db

# What "the database is unreachable, read-only or overloaded" looks like to SQLAlchemy: pages answer 503.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError)


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
