"""Database engine tuning that SQLAlchemy leaves to the application."""

from sqlalchemy import event

from .extensions import db


def _tune_sqlite(dbapi_connection, _connection_record):
    """Let readers and a writer work at once (WAL), and enforce foreign keys as PostgreSQL does."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def init_app(app):
    """Hook the tuning into every SQLite engine of the app."""
    with app.app_context():
        for engine in db.engines.values():
            if engine.dialect.name == "sqlite":
                event.listen(engine, "connect", _tune_sqlite)
