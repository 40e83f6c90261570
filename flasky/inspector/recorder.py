"""What the inspector records: render()'s choice (its `rendered` signal; in an app without render(), the templates
render_template() rendered), then the request and the answer as sent (Flask's request_finished, after every
after_request hook, so Vary and the htmx headers are the final ones)."""

import secrets

from flask import current_app, g, request, request_finished, session, template_rendered
from jinja2 import TemplateNotFound, meta

from .. import hypermedia
from .store import Exchange, Rendered, Store

STORE_KEY = "flasky.inspector"
INCLUDES_KEY = "flasky.inspector.includes"
# The visitor's key in the session, and the header static/inspector.js sends with each htmx request: its tab's id.
SESSION_KEY = "inspector"
TAB_HEADER = "X-Flasky-Tab"
MAX_TAB_LENGTH = 64
# The longest address kept whole: a longer one is cut (the store holds 4,000 exchanges at most).
MAX_URL_LENGTH = 500
# The request headers that choose between page and fragment: the htmx ones render() reads and Vary names.
CHOOSING_HEADERS = tuple(name for name in hypermedia.VARY_HEADERS if name.startswith("HX-"))
OWN_PARTIALS = "partials/inspector-"


def init_app(app):
    """Give the app its store, and connect the hooks that fill it (the only ones the inspector adds)."""
    app.extensions[STORE_KEY] = Store()
    app.extensions[INCLUDES_KEY] = {}
    app.before_request(ensure_session_key)
    hypermedia.rendered.connect(note_rendered, app)
    request_finished.connect(record, app)
    app.add_template_global(exchange_id, "inspector_exchange_id")
    app.add_template_global(session_exchanges, "inspector_exchanges")


def store():
    """Return the current app's store."""
    return current_app.extensions[STORE_KEY]


def recorded():
    """Tell whether this request is one to show: not a static file, nor the inspector's own."""
    return request.endpoint != "static" and request.blueprint != "inspector"


def ensure_session_key():
    """Give the visitor's session a random key, under which its exchanges are kept."""
    if recorded():
        session.setdefault(SESSION_KEY, secrets.token_urlsafe(12))


def current_tab():
    """Return the tab id static/inspector.js sent, or None (a full page load, no JavaScript, junk)."""
    tab = request.headers.get(TAB_HEADER, "")
    return tab if 0 < len(tab) <= MAX_TAB_LENGTH and tab.isascii() and tab.isalnum() else None


def exchange_id():
    """Return this request's exchange id, made once: a page names it so that its tab can claim it."""
    if "inspector_exchange" not in g:
        g.inspector_exchange = secrets.token_urlsafe(9)
    return g.inspector_exchange


def session_exchanges():
    """Return the visitor's last exchanges, whatever the tab (what the panel shows without JavaScript)."""
    return store().session(session.get(SESSION_KEY))


def note_rendered(app, page=None, fragment=None, oob=(), status=200):
    """Remember what render() chose for this request (the last choice wins: an error page replaces a failed one)."""
    if page:
        g.inspector_rendered = (Rendered(page, "page"), *(Rendered(name, "include") for name in includes(app, page)))
    else:
        g.inspector_rendered = (*([Rendered(fragment, "fragment")] if fragment else []),
                                *(Rendered(name, "oob") for name in oob))


def record_templates(app):
    """Also note what render_template() renders, for an app whose views call it themselves (the chapter steps)."""
    template_rendered.connect(note_template, app)


def note_template(app, template, context, **extra):
    """Remember the template a view rendered (the last one wins, as in note_rendered()): a fragment for an htmx swap,
    else a page, with the partials it includes."""
    if template.name is None or template.name.startswith(("inspector/", OWN_PARTIALS)):
        return
    swap = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    g.inspector_rendered = (Rendered(template.name, "fragment" if swap else "page"),
                            *(Rendered(name, "include") for name in includes(app, template.name)))


def includes(app, name):
    """Return the partials a page pulls in, through its layout and their includes, found once per template version
    (development reloads edited templates)."""
    template = app.jinja_env.get_template(name)
    cache = app.extensions[INCLUDES_KEY]
    cached = cache.get(name)
    if cached is None or cached[0] is not template:
        cached = cache[name] = (template, tuple(sorted(_partials(app.jinja_env, name, set()))))
    return cached[1]


def _partials(env, name, seen):
    seen.add(name)
    try:
        source = env.loader.get_source(env, name)[0]
    except TemplateNotFound:  # an `include … ignore missing`: nothing to list, and never the page's failure
        return set()
    found = set()
    for child in meta.find_referenced_templates(env.parse(source)):
        if child is None or child in seen:
            continue
        if child.startswith("partials/") and not child.startswith(OWN_PARTIALS):
            found.add(child)
        found |= _partials(env, child, seen)
    return found


def record(app, response, **extra):
    """Keep this request and its answer in the store, under the visitor's session and tab."""
    if not recorded() or SESSION_KEY not in session:
        return
    url = request.script_root + (request.full_path if request.query_string else request.path)
    if len(url) > MAX_URL_LENGTH:
        url = url[: MAX_URL_LENGTH - 1] + "…"
    store().add(session[SESSION_KEY], current_tab(), Exchange(
        id=exchange_id(),
        method=request.method,
        url=url,
        request_headers=tuple((name, request.headers[name]) for name in CHOOSING_HEADERS if name in request.headers),
        endpoint=request.endpoint,
        status=response.status_code,
        rendered=g.get("inspector_rendered", ()),
        response_headers=tuple((name, value) for name, value in response.headers.items()
                               if name.lower().startswith("hx-") or name.lower() == "vary"),
        # Never measured by reading a streamed body (the live feed's stream would be read to its end).
        size=response.content_length if response.is_streamed else response.calculate_content_length(),
    ))
