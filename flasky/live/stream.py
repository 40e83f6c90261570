"""The panel as a stream of server-sent events, one per change of the greeting events, in the visitor's language."""

import logging
import random
import re
import time

from flask import current_app, request, stream_with_context

from ..database import DATABASE_UNAVAILABLE
from ..extensions import db
from ..i18n import gettext as _
from .capacity import stream_limit, why_none
from .hub import current_hub
from .panel import rendered

EVENT_NAME = "greetings"
# The reconnection delay each stream asks of EventSource: at least RETRY_MILLISECONDS, plus up to RETRY_SPREAD
# at random, so that the streams a restarting server drops at once do not all come back in the same instant.
RETRY_MILLISECONDS = 2000
RETRY_SPREAD_MILLISECONDS = 5000
# How long a new stream waits for its process's first read of the table before it starts without one.
FIRST_READ_TIMEOUT = 5.0
EVENT_ID = re.compile(r"[0-9]{1,18}")  # a client's id: digits only, and below 2**63

logger = logging.getLogger("flasky.live")


def stream():
    """Answer a stream of the panel from the state of the client's Last-Event-ID (or ?after=), or a 503 where the
    server cannot hold it (capacity.py) or the process holds its share. The stream is counted out of the hub when the
    server closes the response, and only then: also when its body is never read."""
    hub = current_hub()
    limit = stream_limit(request.environ, current_app.config)
    if not hub.subscribe(limit):
        if not limit and not hub.told_refusing:
            hub.told_refusing = True
            logger.warning(why_none(request.environ, current_app.config))
        return refused(held_none=not limit)
    since = event_id_from(request.headers.get("Last-Event-ID"))
    if since is None:
        since = event_id_from(request.args.get("after"))
    response = current_app.response_class(stream_with_context(_events(hub, since)), mimetype="text/event-stream")
    response.call_on_close(hub.unsubscribe)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each event on at once
    return response


def _events(hub, since):
    """Yield the stream's events, through these states:

    1. opening: the retry hint, then the state the hub's tailer read (waiting for its first read, at most
       FIRST_READ_TIMEOUT);
    2. catching up: the current panel at once when the client is behind or new, which replays what it missed (up to
       the panel's ten greetings); a client ahead (a forged id, or a process yet to read what another stored) waits;
    3. following: each new state's panel as it comes; after FLASKY_LIVE_HEARTBEAT_SECONDS of quiet, the panel again
       if time alone changed it (its count of visitors active in the last five minutes falls as they pass), else a
       heartbeat comment (a client that left makes either write fail, which ends the stream);
    4. ending: when FLASKY_LIVE_STREAM_SECONDS are up or FLASKY_LIVE_MAX_EVENTS were sent (the client reconnects with
       its Last-Event-ID), when the server stops (the hub closes: the client reconnects to the next), or when the
       database is unavailable.
    """
    config = current_app.config
    heartbeat, max_events = config["FLASKY_LIVE_HEARTBEAT_SECONDS"], config["FLASKY_LIVE_MAX_EVENTS"]
    deadline = time.monotonic() + config["FLASKY_LIVE_STREAM_SECONDS"]
    sent = 0
    try:
        yield f"retry: {RETRY_MILLISECONDS + random.randrange(RETRY_SPREAD_MILLISECONDS)}\n\n"
        seen = hub.first_state(FIRST_READ_TIMEOUT)
        behind = seen is not None and seen.latest is not None and (since is None or seen.latest > since)
        state = seen if behind else None
        # What the client shows: the panel of `seen` (this minute's, when the page had it), or the last event sent.
        last = _event_for_stream(seen) if state is None and seen is not None and seen.latest is not None else None
        while True:
            if state is not None:
                yield (last := _event_for_stream(state))
                sent += 1
                if max_events and sent >= max_events:
                    return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            state = hub.wait_past(seen, min(heartbeat, remaining))
            if hub.closing:
                return
            if state is None:
                if remaining <= heartbeat:
                    return
                if last is not None and _event_for_stream(seen) != last:
                    state = seen  # the same greetings, a minute on: sent again under the same id
                    continue
                yield ": ping\n\n"
            else:
                seen = state
    except DATABASE_UNAVAILABLE as error:
        logger.warning("Live feed: a stream ended, the database is unavailable (%s)", type(error).__name__)


def _event_for_stream(state):
    """Return the state's panel as one event, formatted once per state, language, URL prefix and minute for every
    stream, giving the database connection back at once: a stream waits without one."""
    try:
        return rendered("partials/recent-greetings.html", state, shape=_as_event)
    finally:
        db.session.remove()  # unlike close(), makes no session where the panel came from the cache


def _as_event(state, markup):
    """Format the panel's markup as the state's event. A table emptied (pruned, or its names deleted) sends the empty
    panel with an empty id, which has the client forget its last one."""
    return sse_event("" if state.latest is None else state.latest, markup)


def event_id_from(value):
    """Read an event id a client sends (Last-Event-ID, ?after=): digits only, else None (garbage is ignored)."""
    return int(value) if value and EVENT_ID.fullmatch(value) else None


def sse_event(event_id, data, event=EVENT_NAME):
    """Format one server-sent event; each line of data gets its own data: field."""
    # What ends a line in an event stream: CRLF, CR or LF (str.splitlines() would split on others too). Written with
    # str's replace() (Markup's escapes its arguments), 6x faster than a split: every open stream formats every event.
    lines = str(data).replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\ndata: ")
    return f"id: {event_id}\nevent: {event}\ndata: {lines}\n\n"


def refused(held_none=False):
    """Answer a stream the process cannot hold (held_none: none at all under its server): 503 with Retry-After, so
    that the page polls instead."""
    if held_none:
        message = _("This server does not keep live updates open. This page checks for new greetings every few "
                    "seconds instead.")
    else:
        message = _("Too many live updates are open right now. This page checks for new greetings every few seconds "
                    "instead.")
    response = current_app.response_class(message, 503, mimetype="text/plain")
    response.headers["Retry-After"] = str(current_app.config["FLASKY_LIVE_POLL_SECONDS"])
    response.headers["Cache-Control"] = "no-store"
    return response
