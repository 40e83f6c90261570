"""PostgreSQL round trips saved: a stale connection pinged only when it may be dead, reads outside a transaction,
plans for a statement's values, constant LIMITs. None of this is needed to follow the book; the numbers are in
docs/performance.md. On SQLite every helper here does what plain SQLAlchemy would."""

import select
from contextlib import contextmanager
from functools import partial
from time import monotonic

from sqlalchemy import event, literal_column
from sqlalchemy.exc import DBAPIError, InvalidatePoolError

from .extensions import db

# A pooled connection back in use within this many seconds, its socket silent, is lent without a ping.
STALE_AFTER_SECONDS = 10
RETURNED = "flasky.returned"  # when a pooled connection was made or last came back, in its record's info


def constant(number):
    """Write a LIMIT into the SQL instead of binding it: PostgreSQL plans a prepared statement with LIMIT $1 anew on
    every run (a generic plan must guess the limit, so it never wins), ~0.1 ms of a directory page's statement."""
    return literal_column(str(int(number)))


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


def read_row(engine, sql):
    """Run one SELECT on a pooled DBAPI connection and return its first row: reading_connection() without
    SQLAlchemy's execution path, which cost three times the statement on a read every home page makes.

    Raises what SQLAlchemy would (an OperationalError when the database is down).
    """
    dbapi_error = engine.dialect.loaded_dbapi.Error
    autocommit = engine.dialect.name == "postgresql"
    try:
        connection = engine.raw_connection()
        try:
            if autocommit:
                connection.driver_connection.autocommit = True
            try:
                cursor = connection.cursor()
                cursor.execute(sql)
                row = cursor.fetchone()
                cursor.close()
            finally:
                if autocommit:
                    connection.driver_connection.autocommit = False
        finally:
            connection.close()
    except dbapi_error as error:
        raise DBAPIError.instance(sql, None, error, dbapi_error) from None
    return row


@contextmanager
def planned_for_values(connection):
    """Have PostgreSQL plan the statements run meanwhile for their values, for those whose best plan depends on them
    (a LIKE pattern): psycopg prepares a statement run five times, and PostgreSQL then keeps one generic plan, blind
    to the values. Nothing is prepared or reused on the connection meanwhile; other databases are left alone."""
    if connection.dialect.name != "postgresql":
        yield
        return
    driver = connection.connection.driver_connection
    threshold, driver.prepare_threshold = driver.prepare_threshold, None
    try:
        yield
    finally:
        driver.prepare_threshold = threshold


def _note_return(_dbapi_connection, connection_record, *_):
    """Note when a pooled connection was made or came back to the pool."""
    connection_record.info[RETURNED] = monotonic()


def _has_news(dbapi_connection):
    """Tell, without waiting, whether the server wrote to (or closed) a connection's socket; poll(), unlike select(),
    takes any descriptor number."""
    poller = select.poll()
    poller.register(dbapi_connection.fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _ping_if_stale(dialect, dbapi_connection, connection_record, _proxy):
    """Ping a connection before lending it only when it may have died unseen, and replace the pool's connections when
    it has (what pool_pre_ping does, but its round trip on every checkout cost ~10% of a page).

    A server that stops, restarts or terminates a backend closes its socket, which turns readable: a connection
    back within STALE_AFTER_SECONDS whose socket is silent is alive. One idle longer (a firewall may have dropped
    it), or whose server has spoken, is pinged.
    """
    idle = monotonic() - connection_record.info.get(RETURNED, 0.0)
    if idle < STALE_AFTER_SECONDS and not _has_news(dbapi_connection):
        return
    try:
        dialect.do_ping(dbapi_connection)
    except dialect.loaded_dbapi.Error as error:
        raise InvalidatePoolError(f"pooled connection found dead: {type(error).__name__}") from error


def ping_when_stale(engine):
    """Hook the staleness check into a PostgreSQL engine's pool."""
    event.listen(engine, "connect", _note_return)
    event.listen(engine, "checkin", _note_return)
    event.listen(engine, "checkout", partial(_ping_if_stale, engine.dialect))
