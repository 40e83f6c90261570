"""The one place that decides whether a name is new or known, safely under concurrent submissions."""

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite

from .extensions import db
from .mail import queue_email
from .models import User, utcnow

# INSERT ... ON CONFLICT DO NOTHING lets the unique index settle a race between two first submissions.
_INSERT_IGNORING_CONFLICTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def find_user(name):
    """Return the user stored under this exact (normalised) name, or None."""
    return db.session.scalar(select(User).filter_by(username=name))


def remember(name):
    """Store a new name (and the admin's note about it) or mark a known one seen, in one transaction; return (user, is_new)."""
    now = utcnow()
    user = _mark_seen(name, now)
    is_new = False
    if user is None:
        user = _insert_unless_taken(name, now)
        is_new = user is not None
        if is_new:
            notify_admin(name)
        else:  # another request stored it between our UPDATE and INSERT
            user = _mark_seen(name, now)
    db.session.commit()
    return user, is_new


def _mark_seen(name, now):
    """Record another visit under a known name in one statement; return its user, or None for a new name."""
    statement = update(User).where(User.username == name).values(last_seen=now).returning(User)
    return db.session.scalar(statement, execution_options={"synchronize_session": False})


def _insert_unless_taken(name, now):
    """Insert a user row, or return None when the name is already taken."""
    insert = _INSERT_IGNORING_CONFLICTS[db.session.get_bind().dialect.name]
    statement = (
        insert(User)
        .values(username=name, first_seen=now, last_seen=now)
        .on_conflict_do_nothing(index_elements=[User.username])
        .returning(User)
    )
    return db.session.scalar(statement)


def notify_admin(name):
    """Queue the admin's "New User" note in the current transaction, when FLASKY_ADMIN is set."""
    admin = current_app.config.get("FLASKY_ADMIN")
    if admin:
        queue_email(admin, "New User", "new_user", {"username": name}, coalesce=True)
