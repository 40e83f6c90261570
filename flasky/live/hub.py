"""One process's view of the greeting events: its open streams, and the tailer thread that wakes them."""

import logging
import os
import threading
import time
import weakref

from flask import current_app
from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..schema import schema_watch
from ..text import error_line
from .events import current_state
from .wakeup import current_wakeups

logger = logging.getLogger("flasky.live")


class Hub:
    """Count a process's streams in and out, and while any is open, read the table's state and wake them on a change."""

    KEY = "flasky.live"  # in app.extensions

    def __init__(self, app):
        self.app = app
        self.start_afresh()
        # A forked child (a gunicorn worker of a --preload master) has no tailer thread: it starts afresh.
        os.register_at_fork(after_in_child=_start_afresh_after_fork(self))

    def start_afresh(self):
        """Forget every stream and the tailer: new locks, no state read."""
        self.lock = threading.Lock()
        # Set, and replaced by a fresh one, whenever the state changes or the hub closes: the streams waiting on it
        # wake at once. Under gevent (flasky.serving) it is gevent's Event, whose set() wakes thousands in one pass,
        # where a Condition's notify_all() releases a lock for each waiter.
        self.changed = threading.Event()
        self.render_lock = threading.Lock()  # a new greeting wakes every stream at once: one renders the panel
        self.state = None  # the State the tailer last read; None while nobody follows the table
        self.streams = 0
        self.tailer = None
        self.closing = False  # the server is stopping: every stream ends, and no new one starts
        self.told_refusing = False  # the log said once why this process's server holds no stream
        self.told_failing = False  # the log said the tailer cannot read the events (and not yet that it can again)

    def subscribe(self, limit):
        """Count a new stream in, starting the tailer if it is the only one; False when the process already holds
        `limit` streams, or is stopping."""
        with self.lock:
            if self.closing or self.streams >= limit:
                return False
            self.streams += 1
            if self.tailer is None:
                self.tailer = threading.Thread(target=self._tail, name="flasky-live-tailer", daemon=True)
                self.tailer.start()
            return True

    def unsubscribe(self):
        """Count a stream out (the tailer ends at its next read once none is left)."""
        with self.lock:
            self.streams -= 1

    def first_state(self, timeout):
        """Return the state the tailer read, waiting for its first read (None: none in time)."""
        self._wait_until(lambda: self.closing or self.state is not None, timeout)
        return self.state

    def wait_past(self, seen, timeout):
        """Wait for the tailer to read a state other than `seen`; return it, or None when the timeout passes first
        (or the hub is closing: see `closing`)."""
        found = self._wait_until(lambda: self.closing or (self.state if self.state != seen else None), timeout)
        return None if self.closing or not found else found

    def close(self):
        """End every stream at its next wake-up, which is now, and the tailer at its next read, and refuse new ones:
        the server is stopping, and its clients reconnect (with their Last-Event-ID) to whichever process serves
        next."""
        with self.lock:
            self.closing = True
            self._announce()

    def stop(self, timeout):
        """Close the hub and wait (at most `timeout` seconds) for its tailer to end; return whether it has ended. An
        app that is thrown away (a test's) stops its hub before disposing of its engine: a read still running then
        would give its connection back to a pool nobody closes."""
        self.close()
        with self.lock:
            tailer = self.tailer
        if tailer is not None:
            tailer.join(timeout)
            return not tailer.is_alive()
        return True

    def _wait_until(self, found, timeout):
        """Wait until found() returns something true (read under the lock, again at each change); return it, or its
        false value when the timeout passes first."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                value = found()
                changed = self.changed
            remaining = deadline - time.monotonic()
            if value or remaining <= 0:
                return value
            changed.wait(remaining)

    def _announce(self):
        """Wake every waiting stream (under the lock): set the current Event, and put a fresh one in its place."""
        changed, self.changed = self.changed, threading.Event()
        changed.set()

    def _tail(self):
        """Read the table's state while streams are open, waking them on a change: when a wake-up from Redis comes
        (wakeup.py), else every FLASKY_LIVE_TAIL_SECONDS."""
        with self.app.app_context():
            engine = db.engine
        interval = self.app.config["FLASKY_LIVE_TAIL_SECONDS"]
        wakeups = current_wakeups(self.app)
        listener = wakeups and wakeups.listener(self.app.config["FLASKY_LIVE_WAKEUP_POLL_SECONDS"], interval)
        failing = False
        try:
            while True:
                with self.lock:
                    if self.streams <= 0 or self.closing:
                        self.tailer = self.state = None
                        return
                failing = self.tail_once(engine, failing)
                if listener:
                    listener.wait(stopping=lambda: self.streams <= 0 or self.closing)
                else:
                    time.sleep(interval)
        finally:
            if listener:
                listener.close()

    def tail_once(self, engine, failing):
        """Read the table's state once, waking the streams on a change; return whether the read failed. A failure is
        logged once (`failing`: the last read failed), and a schema not migrated yet as such (flasky/schema.py)."""
        watch = schema_watch(self.app)
        try:
            state = current_state(engine)
        except SQLAlchemyError as error:  # the database is down or not migrated: say so once, keep trying
            if not failing and watch.explain(error, engine) is None:
                logger.warning("Live feed: cannot read greeting events (%s); retrying", error_line(error))
                self.told_failing = True
            return True
        if failing:
            watch.recheck(engine)
            if self.told_failing:
                logger.warning("Live feed: reading greeting events again")
                self.told_failing = False
        with self.lock:
            if state != self.state:
                self.state = state
                self._announce()
        return False


def _start_afresh_after_fork(hub):
    """Make the after-fork hook of a hub, holding it weakly: an app that is gone leaves no hub alive behind it."""
    reference = weakref.ref(hub)

    def start_afresh_after_fork():
        found = reference()
        if found is not None:
            found.start_afresh()

    return start_afresh_after_fork


def close_hub(app):
    """End the streams of an app's hub, if it has one: its server is stopping."""
    hub = getattr(app, "extensions", {}).get(Hub.KEY)
    if hub is not None:
        hub.close()


def stop_hub(app, timeout=5.0):
    """Stop an app's hub, if it has one, and wait for its tailer (Hub.stop); return whether none is left running."""
    hub = getattr(app, "extensions", {}).get(Hub.KEY)
    return hub is None or hub.stop(timeout)


def current_hub():
    """Return this app's hub."""
    return current_app.extensions[Hub.KEY]


def init_app(app):
    """Give the app its hub."""
    app.extensions[Hub.KEY] = Hub(app)
