"""Markup and values kept per app for speed. None of this is needed to follow the book; the numbers are in
docs/performance.md.

| cache | key | bound | measured gain | guard test |
| --- | --- | --- | --- | --- |
| `render_once()`: the head's asset tags (`layout/assets.html`) | URL prefix, language, template, variables | 256 | `GET /` 0.80 -> 0.75 ms | `tests/test_templating.py` (what such a template may read) |
| `memoised()`: a directory row (`partials/directory-row.html`) | macro, language, URL prefix, row, minute | 4,096 | a page's rows 0.76 -> 0.11 ms | `tests/test_templating.py`, `tests/test_directory.py` (kept rows follow the language, prefix and row) |
| `assets.static_url()`: a static file's URL; its content hash | URL prefix and file; file | 256 each | ~130 µs a page | `tests/test_security.py` (forwarded prefixes) |
| `live.panel.rendered()`: the live panel, and each state's event for every stream of a language (shape) | template, language, URL prefix, state, minute, shape | 64 | `GET /` reads the state alone: 1 statement, not 3; an event formatted once, not per stream | `tests/test_budgets.py`, `tests/test_live.py` |
| `directory.search`: "more than 1,000" for a crowded search | search key, role | 4,096, a minute each | a count of 3-6 ms a page on PostgreSQL | `tests/test_directory.py` (counted once a minute) |

Each is bypassed in debug mode (templates and files change under a development server), and a full one starts
afresh: the entries of the moment come back at once. Elsewhere, functools caches keep what depends on its arguments
alone: statements built once per shape (`greeting.py`, `live/events.py`, `directory/search.py`: a known name's
UPDATE 98 -> 26 µs), the language an Accept-Language value asks for (`i18n.py`, ~10 µs), a minute's no-JS date
(`templating.py`, 16 -> 5 µs) and the cursors' signer (`directory/search.py`).
"""

from flask import current_app, render_template, request
from jinja2 import pass_context
from markupsafe import Markup

# Entries are per URL prefix and file or template: a handful in practice. The bound keeps a proxy that forwards
# arbitrary X-Forwarded-Prefix values from growing a cache without end.
CACHE_LIMIT = 256
RENDERED_ONCE = "flasky.rendered_once"
MEMOISED, MEMOISED_LIMIT = "flasky.memoised", 4096  # macro outputs kept per app


def keep(cache, key, value, limit=CACHE_LIMIT):
    """Cache a value outside debug mode; a cache holding `limit` entries starts afresh."""
    if not current_app.debug:
        if len(cache) >= limit:
            cache.clear()
        cache[key] = value
    return value


@pass_context
def render_once(context, template_name, **variables):
    """Render a template that is the same for every request of one language under this URL prefix once, then reuse
    its markup; variables (a few hashable values) are part of the key.

    Only for templates that use nothing per request but the language, the URL prefix and those variables (no nonce,
    session or header): tests/test_templating.py fails when one does.
    """
    cache = current_app.extensions[RENDERED_ONCE]
    key = (request.script_root, context["language"].code, template_name, *variables.items())
    markup = cache.get(key)
    if markup is None:
        markup = keep(cache, key, Markup(render_template(template_name, **variables)))
    return markup


@pass_context
def memoised(context, macro, *arguments):
    """Call a macro once per (language, URL prefix, arguments) and keep its markup: for a macro that uses nothing
    else per request (tests/test_templating.py checks), called often with the same arguments (directory rows)."""
    cache = current_app.extensions[MEMOISED]
    key = (macro.name, context["language"].code, request.script_root, *arguments)
    markup = cache.get(key)
    if markup is None:
        markup = keep(cache, key, macro(*arguments), MEMOISED_LIMIT)
    return markup


def init_app(app):
    """Give the app its template caches, and render_once() and memoised() to its templates."""
    app.extensions[RENDERED_ONCE] = {}
    app.extensions[MEMOISED] = {}
    app.add_template_global(render_once)
    app.add_template_filter(memoised)
