"""The database's schema against the code's migrations (flasky/migrations): at head, behind, missing, or ahead of
this code (a newer deploy's), told once per process in the log with what to do about it."""

import logging
import threading
from dataclasses import dataclass
from functools import cached_property

from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from .database import is_schema_error

logger = logging.getLogger("flasky.schema")

OK, BEHIND, MISSING, AHEAD = "ok", "behind", "missing", "ahead"
UPGRADE = "run `flask --app flasky db upgrade`"
VERSION_TABLE = "alembic_version"


@dataclass(frozen=True)
class Schema:
    """What a database's alembic_version says, against the code's head."""

    status: str  # OK, BEHIND, MISSING or AHEAD
    revision: str | None
    head: str

    @property
    def serves(self):
        """Whether the app can serve on it: at head, or ahead (a rolling deploy's newer, compatible schema)."""
        return self.status in (OK, AHEAD)


def schema_of(rows, head, known):
    """Classify the revisions stored in alembic_version."""
    if not rows:
        return Schema(MISSING, None, head)
    revision = ",".join(sorted(rows))
    if rows == [head]:
        return Schema(OK, revision, head)
    if all(row in known for row in rows):
        return Schema(BEHIND, revision, head)
    return Schema(AHEAD, revision, head)


class SchemaWatch:
    """One app's view of its schema: the code's head (read from the scripts once), and what the log last told."""

    KEY = "flasky.schema"  # in app.extensions

    def __init__(self, migrations_directory):
        self.migrations_directory = migrations_directory
        self.lock = threading.Lock()
        self.told = None  # the Schema, not at head, that the log told of; None: nothing told, or fixed since

    @cached_property
    def scripts(self):
        """Return the migration scripts' directory, read the first time it is needed."""
        settings = AlembicConfig()
        settings.set_main_option("script_location", self.migrations_directory)
        return ScriptDirectory.from_config(settings)

    @cached_property
    def head(self):
        """Return the code's head revision."""
        return self.scripts.get_current_head()

    @cached_property
    def known(self):
        """Return every revision of the code's migrations."""
        return frozenset(script.revision for script in self.scripts.walk_revisions())

    def read(self, connection):
        """Read the database's schema in one query; a database that does not answer raises as any query would."""
        try:
            rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
        except (OperationalError, ProgrammingError):
            connection.rollback()  # PostgreSQL refuses anything more in a failed transaction
            if inspect(connection).has_table(VERSION_TABLE):  # so it was not the table: the database is in trouble
                raise
            rows = []
        return schema_of(list(rows), self.head, self.known)

    def tell(self, schema):
        """Log once that the schema is not at head and what to run, and once that it is again; return schema."""
        with self.lock:
            told, self.told = self.told, (None if schema.status == OK else schema)
        if schema == told or (told is None and schema.status == OK):
            return schema
        if schema.status == MISSING:
            logger.warning("Database schema missing (no migration has run; the code's head is %s): %s", schema.head,
                           UPGRADE)
        elif schema.status == BEHIND:
            logger.warning("Database schema behind (at %s, the code's head is %s): %s", schema.revision, schema.head,
                           UPGRADE)
        elif schema.status == AHEAD:
            logger.warning("Database schema ahead (at %s, which this code's migrations do not know; its head is %s): "
                           "serving, as during a rolling deploy", schema.revision, schema.head)
        else:
            logger.warning("Database schema at the code's head %s again", schema.head)
        return schema

    def explain(self, error, engine):
        """Tell (once) when a statement failed because the schema is missing or behind; return that Schema, or None
        when the failure is down to something else."""
        if not is_schema_error(error):
            return None
        with self.lock:
            if self.told is not None and not self.told.serves:  # told already, and still failing: no more queries
                return self.told
        try:
            with engine.connect() as connection:
                schema = self.tell(self.read(connection))
        except (OperationalError, ProgrammingError):
            return None
        return None if schema.serves else schema

    def recheck(self, engine):
        """After a statement succeeded: if the log told of a schema not at head, read it again (saying when fixed)."""
        with self.lock:
            told = self.told
        if told is not None:
            try:
                with engine.connect() as connection:
                    self.tell(self.read(connection))
            except (OperationalError, ProgrammingError):
                pass


def schema_watch(app):
    """Return the app's SchemaWatch."""
    return app.extensions[SchemaWatch.KEY]


def init_app(app):
    """Give the app its SchemaWatch, over the migrations Flask-Migrate runs."""
    app.extensions[SchemaWatch.KEY] = SchemaWatch(str(app.extensions["migrate"].directory))
