"""The live "Recently greeted" panel: greeting events, the panel's markup kept per state, and its SSE stream.

Every greeting writes a row to greeting_events in its own transaction. Each process runs one tailer thread (started
by the first stream, ended when the last one goes) that reads the table's state every FLASKY_LIVE_TAIL_SECONDS and
wakes the streams waiting on it; a stream renders the panel in its visitor's language and sends it as one event. The
database is the only thing the processes share, so this works across gunicorn workers, on SQLite and PostgreSQL.
"""

import logging
import os
import re
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from flask import current_app, render_template, request, stream_with_context
from markupsafe import Markup
from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from .assets import keep
from .database import DATABASE_UNAVAILABLE, constant, reading_connection
from .extensions import db
from .i18n import current_language, gettext as _
from .models import GreetingEvent, User, utcnow

HUB_KEY = "flasky.live"
PANELS_KEY = "flasky.live_panels"
SHOWN = 10  # greetings in the panel
ACTIVE_WINDOW = timedelta(minutes=5)
PRUNE_EVERY = 100  # every 100th greeting drops the events past FLASKY_LIVE_KEEP_EVENTS
EVENT_NAME = "greetings"
RETRY_MILLISECONDS = 2000  # the reconnection delay a stream asks of EventSource
# Panels kept per (language, URL prefix, state, minute); only the newest state matters, so a full cache just empties.
PANEL_CACHE_LIMIT = 64
# How long a new stream waits for its process's first read of the table before it starts without one.
FIRST_READ_TIMEOUT = 5.0
EVENT_ID = re.compile(r"[0-9]{1,18}")  # a client's id: digits only, and below 2**63
STATE_SQL = f"SELECT max(id), count(*) FROM {GreetingEvent.__tablename__}"
LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line in an event stream (str.splitlines() also splits on others)

logger = logging.getLogger("flasky.live")


# --- events --------------------------------------------------------------------------------------------------


def record_greeting(connection, user_id, is_new, now):
    """Write the event of a greeting in the caller's transaction; every PRUNE_EVERY-th one also drops old events.

    Return the event's id (None with FLASKY_LIVE_FEED off: nothing shows events then).
    """
    if not current_app.config["FLASKY_LIVE_FEED"]:
        return None
    event_id = connection.execute(_insert_statement(), {"user_id": user_id, "is_new": is_new, "now": now}).scalar_one()
    if event_id % PRUNE_EVERY == 0:
        connection.execute(_prune_statement(), {"cutoff": event_id - current_app.config["FLASKY_LIVE_KEEP_EVENTS"]})
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


@dataclass(frozen=True)
class Recent:
    """What the panel shows: the last greetings (id, username, created_at, is_new), newest first, and who was active."""

    greetings: list
    active: int


def recent(now=None):
    """Read the last SHOWN greetings of stored users and how many users were seen in the last five minutes."""
    now = now or utcnow()
    with reading_connection() as connection:
        greetings = connection.execute(_recent_statement()).all()
        active = connection.execute(_active_statement(), {"since": now - ACTIVE_WINDOW}).scalar_one()
    return Recent(greetings, active)


def current_state(engine):
    """Read the event table's state: (the newest id or None, the row count); any committed greeting changes it.

    The count as well as the newest id: on PostgreSQL a greeting may commit after one with a higher id.
    """
    # Every home page asks: on the pool's DBAPI connection, this costs a third of SQLAlchemy's execution path.
    dbapi_error = engine.dialect.loaded_dbapi.Error
    try:
        connection = engine.raw_connection()
        try:
            # psycopg would open a transaction (BEGIN, then ROLLBACK when the pool takes the connection back): two
            # round trips of the four this read cost. One statement needs none; psycopg's autocommit is a local flag.
            single = engine.dialect.name == "postgresql"
            if single:
                connection.driver_connection.autocommit = True
            try:
                cursor = connection.cursor()
                cursor.execute(STATE_SQL)
                latest, count = cursor.fetchone()
                cursor.close()
            finally:
                if single:
                    connection.driver_connection.autocommit = False
        finally:
            connection.close()
    except dbapi_error as error:  # raised as SQLAlchemy raises it, as an OperationalError when the database is down
        raise DBAPIError.instance(STATE_SQL, None, error, dbapi_error) from None
    return latest, count


# Built once each, run on a connection with fresh parameters (as in greeting.py).
@cache
def _insert_statement():
    return (insert(GreetingEvent)
            .values(user_id=bindparam("user_id"), is_new=bindparam("is_new"), created_at=bindparam("now"))
            .returning(GreetingEvent.id))


@cache
def _prune_statement():
    return delete(GreetingEvent).where(GreetingEvent.id <= bindparam("cutoff"))


@cache
def _recent_statement():
    return (select(GreetingEvent.id, User.username, GreetingEvent.created_at, GreetingEvent.is_new)
            .join(User, User.id == GreetingEvent.user_id).order_by(GreetingEvent.id.desc()).limit(constant(SHOWN)))


@cache
def _active_statement():
    return select(func.count()).select_from(User).where(User.last_seen >= bindparam("since"))


# --- the panel -----------------------------------------------------------------------------------------------


def panel():
    """Return the home page's live panel (templates/live/panel.html) as of now: one cheap query per page; two more
    and a render once per state, language, URL prefix and minute. None while the database is unavailable: the page
    still shows, without it."""
    try:
        state = current_state(db.engine)
        return rendered("live/panel.html", state, latest_id=state[0],
                        poll_seconds=current_app.config["FLASKY_LIVE_POLL_SECONDS"])
    except DATABASE_UNAVAILABLE:
        return None


def rendered(template_name, state, **context):
    """Render a template of the panel for a state in this request's language and URL prefix, once a minute; it gets
    `recent` besides the context given, which must follow from the state and the settings.

    The minute is in the key for the readers without JavaScript, whose "… ago" texts are the server's.
    """
    now = utcnow()
    key = (template_name, current_language().code, request.script_root, state, now.replace(second=0, microsecond=0))
    panels = current_app.extensions[PANELS_KEY]
    markup = panels.get(key)
    if markup is None:
        with current_app.extensions[HUB_KEY].render_lock:  # a new greeting wakes every stream at once: one renders
            markup = panels.get(key)
            if markup is None:
                markup = Markup(render_template(template_name, recent=recent(now), **context).strip())
                keep(panels, key, markup, PANEL_CACHE_LIMIT)
    return markup


# --- the stream ----------------------------------------------------------------------------------------------


class Hub:
    """One process's view of the greeting events: its open streams, and the tailer thread that wakes them."""

    def __init__(self, app):
        self.app = app
        self._reset()
        # A forked child (a gunicorn worker of a --preload master) starts afresh: no tailer, no streams, new locks.
        reset = weakref.WeakMethod(self._reset)
        os.register_at_fork(after_in_child=lambda: (method := reset()) and method())

    def _reset(self):
        self.condition = threading.Condition()
        self.render_lock = threading.Lock()
        self.state = None  # the table's state as the tailer last read it; None while nobody follows it
        self.streams = 0
        self.tailer = None

    def subscribe(self):
        """Count a new stream in, starting the tailer if it is the only one; False when the process holds its cap."""
        with self.condition:
            if self.streams >= self.app.config["FLASKY_LIVE_STREAMS"]:
                return False
            self.streams += 1
            if self.tailer is None:
                self.tailer = threading.Thread(target=self._tail, name="flasky-live-tailer", daemon=True)
                self.tailer.start()
            return True

    def unsubscribe(self):
        """Count a stream out (the tailer ends at its next read once none is left)."""
        with self.condition:
            self.streams -= 1

    def first_state(self, timeout):
        """Return the state the tailer read, waiting for its first read (None: none in time)."""
        with self.condition:
            self.condition.wait_for(lambda: self.state is not None, timeout)
            return self.state

    def wait_past(self, seen, timeout):
        """Wait for the tailer to read a state other than `seen`; return it, or None when the timeout passes first."""
        with self.condition:
            if self.condition.wait_for(lambda: self.state is not None and self.state != seen, timeout):
                return self.state
            return None

    def _tail(self):
        """Read the table's state every FLASKY_LIVE_TAIL_SECONDS while streams are open, waking them on a change."""
        with self.app.app_context():
            engine = db.engine
        interval = self.app.config["FLASKY_LIVE_TAIL_SECONDS"]
        failing = False
        while True:
            with self.condition:
                if self.streams <= 0:
                    self.tailer = self.state = None
                    return
            try:
                state = current_state(engine)
            except SQLAlchemyError as error:  # the database is down or not migrated: say so once, keep trying
                if not failing:
                    reason = (str(getattr(error, "orig", None) or error).strip().splitlines() or [""])[0][:200]
                    logger.warning("Live feed: cannot read greeting events (%s: %s); retrying", type(error).__name__,
                                   reason)
                failing = True
            else:
                if failing:
                    logger.warning("Live feed: reading greeting events again")
                    failing = False
                with self.condition:
                    if state != self.state:
                        self.state = state
                        self.condition.notify_all()
            time.sleep(interval)


def event_id_from(value):
    """Read an event id a client sends (Last-Event-ID, ?after=): digits only, else None (garbage is ignored)."""
    return int(value) if value and EVENT_ID.fullmatch(value) else None


def sse_event(event_id, data, event=EVENT_NAME):
    """Format one server-sent event; each line of data gets its own data: field."""
    lines = [f"id: {event_id}", f"event: {event}", *(f"data: {line}" for line in LINE_BREAK.split(data))]
    return "\n".join(lines) + "\n\n"


def stream():
    """Answer a stream of the panel in this visitor's language: at once when the client's id is behind (the replay),
    then on every change, with a heartbeat, until the lifetime limit; a 503 past the process's cap."""
    hub = current_app.extensions[HUB_KEY]
    if not hub.subscribe():
        return refused()
    header = request.headers.get("Last-Event-ID")
    since = event_id_from(header)
    if since is None:
        since = event_id_from(request.args.get("after"))
    subscription = Subscription(hub)
    response = current_app.response_class(stream_with_context(_events(hub, since, subscription)),
                                          mimetype="text/event-stream")
    response.call_on_close(subscription.close)  # also when the body is never read
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


class Subscription:
    """A stream's place in the hub's count, given back exactly once."""

    def __init__(self, hub):
        self.hub, self.open = hub, True

    def close(self):
        if self.open:
            self.open = False
            self.hub.unsubscribe()


def _events(hub, since, subscription):
    """Yield the retry hint, the current panel if the client is behind, then each change and heartbeats."""
    config = current_app.config
    heartbeat, max_events = config["FLASKY_LIVE_HEARTBEAT_SECONDS"], config["FLASKY_LIVE_MAX_EVENTS"]
    deadline = time.monotonic() + config["FLASKY_LIVE_STREAM_SECONDS"]
    sent = 0
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n\n"
        seen = hub.first_state(FIRST_READ_TIMEOUT)
        # Behind (or new): the current panel at once, which is the replay of what it missed, up to SHOWN greetings.
        # Ahead is a forged id, or a process yet to read what another one stored: it waits for the next change.
        behind = seen is not None and seen[0] is not None and (since is None or seen[0] > since)
        state = seen if behind else None
        while True:
            if state is not None:
                yield sse_event(state[0], _panel_for_stream(state))
                sent += 1
                if max_events and sent >= max_events:
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            state = hub.wait_past(seen, min(heartbeat, remaining))
            if state is None:
                if remaining <= heartbeat:  # the lifetime is up: the client reconnects with its Last-Event-ID
                    return
                yield ": ping\n\n"  # a client that left makes this write fail, which ends the stream
            else:
                seen = state
                if state[0] is None:  # every event pruned: nothing to show that the page does not show
                    state = None
    except DATABASE_UNAVAILABLE as error:
        logger.warning("Live feed: a stream ended, the database is unavailable (%s)", type(error).__name__)
    finally:
        subscription.close()


def _panel_for_stream(state):
    """Render the panel for a stream, giving the database connection back at once: a stream waits without one."""
    try:
        return rendered("partials/recent-greetings.html", state)
    finally:
        db.session.close()


def refused():
    """Answer a stream past the process's cap: 503 with Retry-After, so that the page polls instead."""
    message = _("Too many live updates are open right now. This page checks for new greetings every few seconds "
                "instead.")
    response = current_app.response_class(message, 503, mimetype="text/plain")
    response.headers["Retry-After"] = str(current_app.config["FLASKY_LIVE_POLL_SECONDS"])
    response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    """Give the app its hub and panel cache (the tailer starts with the first stream, never here)."""
    app.extensions[HUB_KEY] = Hub(app)
    app.extensions[PANELS_KEY] = {}
