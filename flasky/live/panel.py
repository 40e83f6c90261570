"""The home page's live panel, rendered once per state, language, URL prefix and minute for every page and stream."""

from flask import current_app, render_template, request
from markupsafe import Markup
from sqlalchemy.exc import ProgrammingError

from ..caching import keep
from ..database import DATABASE_UNAVAILABLE, is_unavailable
from ..extensions import db
from ..i18n import current_language
from ..models import utcnow
from .capacity import stream_limit
from .events import current_state, recent
from .hub import current_hub

PANELS_KEY = "flasky.live_panels"
# Panels kept per (template, language, URL prefix, state, minute); only the newest state matters, so a full cache
# just empties.
PANEL_CACHE_LIMIT = 64


def panel():
    """Return the home page's live panel (templates/live/panel.html) as of now: one cheap query per page; two more
    and a render once per state, language, URL prefix and minute. It polls from the start where the server holds no
    stream (capacity.py). None while the database is unavailable: the page still shows, without it."""
    config = current_app.config
    try:
        state = current_state(db.engine)
        return rendered("live/panel.html", state, latest_id=state.latest, poll_seconds=config["FLASKY_LIVE_POLL_SECONDS"],
                        streaming=stream_limit(request.environ, config) > 0)
    except (*DATABASE_UNAVAILABLE, ProgrammingError) as error:
        if not is_unavailable(error):
            raise
        return None


def rendered(template_name, state, shape=None, **context):
    """Render a template of the panel for a state in this request's language and URL prefix, once a minute; it gets
    `recent` besides the context given, which is part of the key (hashable values). `shape(state, markup)`, when given,
    turns the markup into what is kept and returned (a stream's event: formatted once for all its streams).

    The minute is in the key for the readers without JavaScript, whose "… ago" texts are the server's.
    """
    now = utcnow()
    key = (template_name, current_language().code, request.script_root, state, now.replace(second=0, microsecond=0),
           shape, *context.items())
    panels = current_app.extensions[PANELS_KEY]
    markup = panels.get(key)
    if markup is None:
        with current_hub().render_lock:  # a new greeting wakes every stream at once: one renders, the rest wait
            markup = panels.get(key)
            if markup is None:
                markup = Markup(render_template(template_name, recent=recent(now), **context).strip())
                if shape is not None:
                    markup = shape(state, markup)
                keep(panels, key, markup, PANEL_CACHE_LIMIT)
    return markup


def init_app(app):
    """Give the app its panel cache."""
    app.extensions[PANELS_KEY] = {}
