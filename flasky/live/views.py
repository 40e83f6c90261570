"""The live feed's views: the panel's stream, and the panel for a page that polls (or a page of its own)."""

from .. import hypermedia
from . import bp
from .events import recent
from .stream import stream


@bp.get("/greetings/recent")
@hypermedia.answers("live/recent.html", fragments=["partials/recent-greetings.html"])
def recent_greetings():
    """Show the last greetings and who was active: the panel for a page that polls (htmx), else a page of its own."""
    return hypermedia.render("live/recent.html", "partials/recent-greetings.html", recent=recent())


@bp.get("/greetings/stream")
@hypermedia.answers(media="text/event-stream", statuses=[200, 503])
def greetings_stream():
    """Stream the panel as server-sent events, in the visitor's language, from the state of ?after= or Last-Event-ID."""
    return stream()
