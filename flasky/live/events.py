"""Greeting events: written with each greeting, read back for the panel, pruned; and the table's state."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import NamedTuple

from flask import current_app
from sqlalchemy import bindparam, delete, func, insert, select, text

from ..extensions import db
from ..models import GreetingEvent, User, utcnow
from ..postgres import constant, read_row, reading_connection
from .wakeup import note_written

SHOWN = 10  # greetings in the panel
ACTIVE_WINDOW = timedelta(minutes=5)
PRUNE_EVERY = 100  # every 100th greeting drops the events past FLASKY_LIVE_KEEP_EVENTS
STATE_SQL = f"SELECT max(id), count(*) FROM {GreetingEvent.__tablename__}"


class State(NamedTuple):
    """The event table's state: any committed greeting changes it.

    The count as well as the newest id: on PostgreSQL a greeting may commit after one with a higher id.
    """

    latest: int | None  # the newest event's id; None when the table is empty
    count: int


@dataclass(frozen=True)
class Recent:
    """What the panel shows: the last greetings (id, username, created_at, is_new), newest first, and how many visitors
    were greeted in the last five minutes."""

    greetings: list
    active: int


def record_greeting(connection, user_id, is_new, now):
    """Write the event of a greeting in the caller's transaction; every PRUNE_EVERY-th one also drops old events.

    Return the event's id (None with FLASKY_LIVE_FEED off: nothing shows events then).
    """
    if not current_app.config["FLASKY_LIVE_FEED"]:
        return None
    event_id = connection.execute(_insert_statement(), {"user_id": user_id, "is_new": is_new, "now": now}).scalar_one()
    if event_id % PRUNE_EVERY == 0:
        cutoff = event_id - current_app.config["FLASKY_LIVE_KEEP_EVENTS"]
        connection.execute(delete(GreetingEvent).where(GreetingEvent.id <= cutoff))
    note_written()
    return event_id


def prune(kept, days=None):
    """Delete the greeting events beyond the newest `kept`, and those older than `days` days; return how many."""
    deleted = 0
    newest_dropped = (select(GreetingEvent.id).order_by(GreetingEvent.id.desc()).offset(kept).limit(1)
                      .scalar_subquery())
    deleted += db.session.execute(delete(GreetingEvent).where(GreetingEvent.id <= newest_dropped)).rowcount
    if days is not None:
        cutoff = utcnow() - timedelta(days=days)
        deleted += db.session.execute(delete(GreetingEvent).where(GreetingEvent.created_at < cutoff)).rowcount
    db.session.commit()
    return deleted


def reissue_shown():
    """Give the events the panel shows new ids, in their order, in the current transaction (a deletion or a rename of
    users changed what it shows): the newest id moves on, so every process renders its panel again at its next read,
    every open stream sends it, and a client reconnecting with an older id is behind. The state alone would not always
    tell: a rename changes no event, and a deletion of older events keeps the newest id, which a client reconnecting
    with it would take for up to date."""
    note_written()  # even with nothing left to show: the panel changed
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        # Until this transaction ends, greetings wait to write their events (readers do not): one written meanwhile,
        # or not yet committed, would keep an id below the reissued ones and show as older than they are. SQLite has
        # one writer at a time anyway.
        connection.execute(text(f"LOCK TABLE {GreetingEvent.__tablename__} IN SHARE ROW EXCLUSIVE MODE"))
    shown = connection.execute(
        select(GreetingEvent.id, GreetingEvent.user_id, GreetingEvent.is_new, GreetingEvent.created_at)
        .order_by(GreetingEvent.id.desc()).limit(SHOWN)
    ).all()
    if not shown:
        return
    connection.execute(delete(GreetingEvent).where(GreetingEvent.id.in_([event.id for event in shown])))
    for event in reversed(shown):  # one at a time, oldest first: each gets the next id
        connection.execute(_insert_statement(),
                           {"user_id": event.user_id, "is_new": event.is_new, "now": event.created_at})


def recent(now=None):
    """Read the last SHOWN greetings of stored users and how many of them were greeted in the last five minutes (by
    their events: names added by `flask users seed` were never greeted, and are not active)."""
    since = (now or utcnow()) - ACTIVE_WINDOW
    with reading_connection() as connection:
        greetings = connection.execute(_recent_statement()).all()
        return Recent(greetings, connection.execute(_active_statement(), {"since": since}).scalar_one())


def current_state(engine):
    """Read the event table's state (every home page asks, and each process's tailer)."""
    return State(*read_row(engine, STATE_SQL))


# Built once each, as greeting.py's are: every greeting inserts, and every page that polls reads the panel.
@cache
def _insert_statement():
    return (insert(GreetingEvent)
            .values(user_id=bindparam("user_id"), is_new=bindparam("is_new"), created_at=bindparam("now"))
            .returning(GreetingEvent.id))


@cache
def _recent_statement():
    return (select(GreetingEvent.id, User.username, GreetingEvent.created_at, GreetingEvent.is_new)
            .join(User, User.id == GreetingEvent.user_id).order_by(GreetingEvent.id.desc()).limit(constant(SHOWN)))


@cache
def _active_statement():
    return select(func.count(GreetingEvent.user_id.distinct())).where(GreetingEvent.created_at >= bindparam("since"))
