"""The one place that decides whether a name is new or known, safely under concurrent submissions."""

from functools import cache

from flask import current_app
from sqlalchemy import bindparam, select, update

from .database import insert_unless_taken
from .extensions import db
from .i18n import force_language, gettext as _
from .live.events import record_greeting
from .models import Role, User, utcnow
from .outbox import queue_email
from .text import search_key


def find_user(name):
    """Return the row (id, username, first_seen, last_seen, role) stored under this exact (normalised) name, or None."""
    return db.session.connection().execute(_find_statement(), {"name": name}).first()


def remember(name):
    """Store a new name (and the admin's note about it) or mark a known one seen, with the greeting's event for the
    live panel, in one transaction.

    Return (the user's row: id, username, first_seen, last_seen; whether the name is new).
    """
    now = utcnow()
    # The session's connection, not the session: its ORM execution path costs more than the SQL itself here;
    # the session still owns the transaction.
    connection = db.session.connection()
    user = connection.execute(_mark_seen_statement(), {"name": name, "now": now}).first()
    is_new = False
    if user is None:
        user = connection.execute(_insert_statement(connection.dialect.name),
                                  {"name": name, "key": search_key(name), "now": now}).first()
        is_new = user is not None
        if is_new:
            notify_admin(name)
        else:  # another request stored it between our UPDATE and INSERT
            user = connection.execute(_mark_seen_statement(), {"name": name, "now": now}).first()
    record_greeting(connection, user.id, is_new, now)
    db.session.commit()
    return user, is_new


# Each statement is built once (@cache) and run on the session's connection with fresh parameters: a known
# name's UPDATE then costs 26 µs, against 98 µs built per call and 206 µs through db.session.execute() (SQLite in
# memory; spelling it on User.__table__.c instead would save another 4 µs; docs/performance.md).
@cache
def _find_statement():
    """Look a user up by name, with the name of their role (one statement)."""
    return (select(*_returned_columns(), Role.name.label("role")).outerjoin(Role, User.role_id == Role.id)
            .where(User.username == bindparam("name")))


@cache
def _mark_seen_statement():
    """Record another visit under a known name in one statement, returning its row (none for a new name)."""
    return (
        update(User)
        .where(User.username == bindparam("name"))
        .values(last_seen=bindparam("now"))
        .returning(*_returned_columns())
    )


@cache
def _insert_statement(dialect_name):
    """Insert a user row with the default role unless the name is taken (the unique index settles races)."""
    return (
        insert_unless_taken(dialect_name, User, User.username)
        .values(username=bindparam("name"), search_key=bindparam("key"), role_id=Role.id_of(Role.DEFAULT),
                first_seen=bindparam("now"), last_seen=bindparam("now"))
        .returning(*_returned_columns())
    )


def _returned_columns():
    """The columns remember() hands back for a user."""
    return User.id, User.username, User.first_seen, User.last_seen


def notify_admin(name):
    """Queue the admin's "New User" note in the current transaction, when FLASKY_ADMIN is set."""
    admin = current_app.config.get("FLASKY_ADMIN")
    if admin:
        with force_language(current_app.config["FLASKY_ADMIN_LOCALE"]):  # the admin's language, not the visitor's
            subject = _("New User")
        queue_email(admin, subject, "new_user", {"username": name}, coalesce=True)
