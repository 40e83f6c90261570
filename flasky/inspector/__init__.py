"""The development exchange inspector: every page shows, in a collapsed panel, this tab's last requests, the htmx
headers that chose each answer, the view, the status, the page or fragment and out-of-band partials rendered, the
htmx and Vary response headers and the size; /dev/exchanges lists the session's, without JavaScript.

Registered by create_app() only when FLASKY_INSPECTOR is on (development; production refuses it): registering it
gives the app its store and connects the recorder. Turned off, nothing of it runs: no route, no hook, no receiver.
"""

from flask import Blueprint

from . import recorder

bp = Blueprint("inspector", __name__, url_prefix="/dev")


@bp.record_once
def init_app(state):
    """Give the app registering the blueprint its store, and record its requests from now on."""
    recorder.init_app(state.app)


# At the end, as in main/: the views module imports bp to register its routes on it.
from . import views  # noqa: E402,F401
