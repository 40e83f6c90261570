"""Wake-ups across processes and machines: a commit that wrote greeting events publishes a hint on Redis, and each
process's tailer (hub.py) reads the events table when one arrives instead of every FLASKY_LIVE_TAIL_SECONDS.

The table stays the truth (a stream's Last-Event-ID, the panel's state); a hint only says "read it now". So a lost
hint costs at most one slow poll (FLASKY_LIVE_WAKEUP_POLL_SECONDS), and while Redis cannot be reached the tailer
polls as it does without Redis. On by default when REDIS_URL is set (FLASKY_LIVE_WAKEUPS=off turns it off).

Why Redis pub/sub rather than PostgreSQL's LISTEN/NOTIFY: a transaction that ran NOTIFY takes a lock on the database's
one notification queue from its pre-commit to its commit, so greetings would commit one at a time site-wide; LISTEN
needs a connection of its own per process, outside the pool, against max_connections; and a deployment of several
nodes runs Redis already (the shared rate limit). SQLite has neither, and keeps its tail.
"""

import logging
import threading
import time

from flask import current_app
from sqlalchemy import event

from ..extensions import db
from ..text import error_line

logger = logging.getLogger("flasky.live")

KEY = "flasky.live.wakeups"  # in app.extensions, when wake-ups are on
CHANNEL = "flasky:live:greetings"
WRITTEN = "flasky.live.written"  # in a session's info: its transaction wrote greeting events
# After a failure, how long a publisher leaves Redis alone, and a tailer waits before subscribing again.
RETRY_SECONDS = 5.0
# After sending a wake-up, the publisher waits this long before the next: the commits of a busy moment share one (at
# 500 greetings a second, a wake-up each cost the name form 6-10% of its throughput), and a stream's greeting comes
# at most this much later.
PUBLISH_SPACING_SECONDS = 0.02
# How often a waiting tailer looks up from Redis to see whether it should stop (its last stream closed).
STOP_CHECK_SECONDS = 1.0


class Wakeups:
    """One process's way to Redis for wake-ups: a publisher thread that announces commits, and subscriptions for its
    tailer."""

    def __init__(self, url, timeout):
        # Imported here, with the app: gunicorn's master imports flasky.serving, hence this module, before a gevent
        # worker patches ssl, which redis-py imports by name (gevent then warns that it could not patch it).
        from redis import Redis, RedisError
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        # No connection until the first publish or subscription (redis-py connects lazily, and again after a fork);
        # one try each, not redis-py's default three; REDIS_TIMEOUT each: a dead Redis must not hold a tailer long.
        self.redis = Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                    retry=Retry(NoBackoff(), 0))
        self.timeout = timeout
        self.errors = RedisError
        self.pending = threading.Event()  # a commit since the publisher last took it: one wake-up to send
        self.lock = threading.Lock()  # starts the publisher once
        self.publisher = None  # its thread, started by the first commit (and again in a forked child)
        self.closed = False
        self.quiet_until = 0.0  # time.monotonic() before which no publish is tried (Redis just failed)
        self.told_failing = False

    def publish(self):
        """Have a wake-up published after a commit, without waiting for Redis: the request that committed goes on
        (waiting for the round trip in the request cost a quarter of the name form's throughput under the README's
        gevent workers), and commits that come while one is being sent share the next (one read answers them all)."""
        self.pending.set()
        if self.publisher is None or not self.publisher.is_alive():
            with self.lock:
                if not self.closed and (self.publisher is None or not self.publisher.is_alive()):
                    self.publisher = threading.Thread(target=self._publish_pending, name="flasky-live-publisher",
                                                      daemon=True)
                    self.publisher.start()

    def _publish_pending(self):
        """Send a wake-up each time commits are pending, at most one every PUBLISH_SPACING_SECONDS, until closed."""
        while True:
            self.pending.wait()
            if self.closed:
                return
            self.pending.clear()
            self._publish_once()
            time.sleep(PUBLISH_SPACING_SECONDS)

    def _publish_once(self):
        """Tell every process that greeting events were committed; a failure is logged once (the other processes
        read the table at their next poll), and Redis is left alone for RETRY_SECONDS."""
        if time.monotonic() < self.quiet_until:
            return
        try:
            self.redis.publish(CHANNEL, b"")
        except self.errors as error:
            self.quiet_until = time.monotonic() + RETRY_SECONDS
            if not self.told_failing:
                self.told_failing = True
                logger.warning("Live feed: cannot publish wake-ups to Redis (%s); other processes see greetings at "
                               "their next poll", error_line(error))
            return
        if self.told_failing:
            self.told_failing = False
            logger.warning("Live feed: publishing wake-ups to Redis again")

    def close(self):
        """Stop the publisher and close its connections (an app that is done with)."""
        self.closed = True
        self.pending.set()
        if self.publisher is not None:
            self.publisher.join(timeout=self.timeout + 1)
        self.redis.close()

    def listener(self, poll_seconds, fallback_seconds):
        """Return a subscription for a tailer that reads the table every poll_seconds, or every fallback_seconds while
        Redis cannot be reached."""
        return Listener(self, poll_seconds, fallback_seconds)


class Listener:
    """A tailer's subscription to wake-ups, on a connection of its own: wait for one, or for a poll's time."""

    def __init__(self, wakeups, poll_seconds, fallback_seconds):
        self.redis, self.errors, self.timeout = wakeups.redis, wakeups.errors, wakeups.timeout
        self.poll_seconds, self.fallback_seconds = poll_seconds, fallback_seconds
        self.pubsub = None  # subscribed (the subscription confirmed), or None
        self.retry_at = 0.0  # time.monotonic() before which no new subscription is tried
        self.told_failing = False

    def wait(self, stopping):
        """Return when a wake-up arrives (after taking any others already queued: one read answers them all), the
        poll's time passes or stopping() says so; while Redis cannot be reached, after the fallback's time. It
        returns at once on subscribing: the caller's next read then sees whatever was committed before a hint could
        reach it."""
        if self.pubsub is None:
            if not self._subscribe():
                time.sleep(self.fallback_seconds)
            return
        deadline = time.monotonic() + self.poll_seconds
        try:
            while (left := deadline - time.monotonic()) > 0 and not stopping():
                if self._is_wakeup(self.pubsub.get_message(timeout=min(left, STOP_CHECK_SECONDS))):
                    while self._is_wakeup(self.pubsub.get_message(timeout=0)):
                        pass
                    return
        except self.errors as error:
            self._failed(error)

    def close(self):
        """Drop the subscription and its connection."""
        if self.pubsub is not None:
            self.pubsub.close()
            self.pubsub = None

    def _subscribe(self):
        """Subscribe, waiting for Redis to confirm it; False (logged once) when Redis cannot be reached."""
        if time.monotonic() < self.retry_at:
            return False
        pubsub = self.redis.pubsub()
        try:
            pubsub.subscribe(CHANNEL)
            confirmed = pubsub.get_message(timeout=self.timeout)
            if not confirmed or confirmed["type"] != "subscribe":
                raise self.errors("no confirmation of the subscription")
        except self.errors as error:
            pubsub.close()
            self._failed(error)
            return False
        self.pubsub = pubsub
        if self.told_failing:
            self.told_failing = False
            logger.warning("Live feed: wake-ups from Redis again")
        return True

    def _failed(self, error):
        """Fall back to polling until RETRY_SECONDS have passed, saying so once."""
        self.close()
        self.retry_at = time.monotonic() + RETRY_SECONDS
        if not self.told_failing:
            self.told_failing = True
            logger.warning("Live feed: no wake-ups from Redis (%s); reading greeting events every %s s until it "
                           "is back", error_line(error), self.fallback_seconds)

    @staticmethod
    def _is_wakeup(message):
        return message is not None and message["type"] == "message"


def note_written():
    """Mark the current transaction as one that wrote greeting events: its commit publishes a wake-up."""
    db.session.info[WRITTEN] = True


def _publish_after_commit(session):
    """Publish a wake-up once a transaction that wrote greeting events has committed (never before: a process woken
    early would read the table without them)."""
    if session.info.pop(WRITTEN, False):
        wakeups = current_wakeups(current_app)
        if wakeups is not None:
            wakeups.publish()


def _forget_after_rollback(session):
    """A rolled-back transaction wrote nothing to announce."""
    session.info.pop(WRITTEN, None)


def init_app(app):
    """Give the app its way to Redis when REDIS_URL is set and wake-ups are on, and have the session publish after a
    commit that wrote greeting events (one listener for every app: they share the session class)."""
    if app.config["REDIS_URL"] and app.config["FLASKY_LIVE_WAKEUPS"]:
        app.extensions[KEY] = Wakeups(app.config["REDIS_URL"], app.config["REDIS_TIMEOUT"])
    for name, listener in (("after_commit", _publish_after_commit), ("after_rollback", _forget_after_rollback)):
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)


def current_wakeups(app):
    """Return the app's wake-ups, or None when it polls."""
    return app.extensions.get(KEY)
