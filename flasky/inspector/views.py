"""The inspector's one view: the exchanges of this tab for its panel (htmx), else of the session, as a page."""

from flask import request, session

from .. import hypermedia
from . import bp
from .recorder import SESSION_KEY, TAB_HEADER, current_tab, store


@bp.get("/exchanges")
@hypermedia.answers("inspector/exchanges.html", fragments=["partials/inspector-exchanges.html"])
def exchanges():
    """List this tab's last exchanges for the panel, or on a page of its own the session's (no JavaScript)."""
    key, tab = session.get(SESSION_KEY), current_tab()
    if tab and hypermedia.wants_fragment():
        store().claim(key, tab, request.args.get("page"))
        found = store().tab(key, tab)
    else:
        found = store().session(key)
    response = hypermedia.render("inspector/exchanges.html", "partials/inspector-exchanges.html", exchanges=found)
    response.vary.add(TAB_HEADER)
    return response
