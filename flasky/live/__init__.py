"""The live "Recently greeted" panel: greeting events, the panel kept per state, and its stream of server-sent events.

Every greeting writes a row to greeting_events in the greeting's own transaction (events.py). Each process has a hub
(hub.py) whose tailer thread reads the table's state while streams are open and wakes them; a stream (stream.py) renders
the panel (panel.py) in its visitor's language and sends it as one event. The database is what the processes share, so
this works across gunicorn workers and machines, on SQLite and PostgreSQL; with Redis (REDIS_URL), a commit wakes every
tailer at once (wakeup.py) instead of their reading the table twice a second.

Registered by create_app() only when FLASKY_LIVE_FEED is on; registering it gives the app its hub and panel cache.
"""

from flask import Blueprint

from . import hub, panel, wakeup

bp = Blueprint("live", __name__)


@bp.record_once
def init_app(state):
    """Give the app registering the blueprint its hub, panel cache and wake-ups (the tailer starts with the first
    stream)."""
    hub.init_app(state.app)
    panel.init_app(state.app)
    wakeup.init_app(state.app)


# At the end, as in main/: the views module imports bp to register its routes on it.
from . import views  # noqa: E402,F401
