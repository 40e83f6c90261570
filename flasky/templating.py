"""Template helpers: cache-busting static URLs, Flask-Moment without inline styles, no-JS text fallbacks."""

import hashlib
from pathlib import Path

from flask import current_app, render_template, request, url_for
from flask_moment import moment
from markupsafe import Markup

from .models import utcnow

# Flask-Moment hides each timestamp with an inline style, which our Content-Security-Policy refuses; the
# .flask-moment rule in app.css hides it instead, and flask_moment_render() shows it by removing that class.
INLINE_STYLE = ' style="display: none"'

UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))
STATIC_URLS = "flasky.static_urls"
STATIC_DIGESTS = "flasky.static_digests"
RENDERED_ONCE = "flasky.rendered_once"
# Entries are per URL prefix and file: a handful in practice. The bound keeps a proxy that forwards arbitrary
# X-Forwarded-Prefix values from growing the caches without end; past it, values are computed per request.
CACHE_LIMIT = 256


def time_ago(when, now=None):
    """Describe roughly how long ago a naive UTC time was, as moment's fromNow() would."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    for unit, size in UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "a few seconds ago"


def static_url(filename):
    """Return a static file's URL carrying a hash of its content, so browsers may keep it for a year."""
    cache = current_app.extensions[STATIC_URLS]
    key = (request.script_root, filename)
    url = cache.get(key)
    if url is None:
        url = _keep(cache, key, url_for("static", filename=filename, v=_digest(filename)))
    return url


def _digest(filename):
    """Hash a static file's content once per app: kept apart from the URLs, so many prefixes never evict it."""
    digests = current_app.extensions[STATIC_DIGESTS]
    digest = digests.get(filename)
    if digest is None:
        digest = hashlib.sha256(Path(current_app.static_folder, filename).read_bytes()).hexdigest()[:12]
        _keep(digests, filename, digest)
    return digest


def render_once(template_name):
    """Render a template that is the same for every request under this URL prefix once, then reuse its markup."""
    cache = current_app.extensions[RENDERED_ONCE]
    key = (request.script_root, template_name)
    markup = cache.get(key)
    if markup is None:
        markup = _keep(cache, key, Markup(render_template(template_name)))
    return markup


def _keep(cache, key, value):
    """Cache a value outside debug mode (files change under a development server), up to CACHE_LIMIT entries."""
    if not current_app.debug and len(cache) < CACHE_LIMIT:
        cache[key] = value
    return value


class StyleFreeMoment(moment):
    """Flask-Moment's moment, rendered without the inline style attribute."""

    def _render(self, *args, **kwargs):
        """Render the timestamp span as Flask-Moment does, minus its style attribute."""
        return Markup(str(super()._render(*args, **kwargs)).replace(INLINE_STYLE, ""))


def init_app(app):
    """Register filters and globals on the app's Jinja environment, and the style-free moment (after Moment's)."""
    app.extensions[STATIC_URLS] = {}
    app.extensions[STATIC_DIGESTS] = {}
    app.extensions[RENDERED_ONCE] = {}
    app.add_template_filter(time_ago, "ago")
    app.add_template_global(static_url)
    app.add_template_global(render_once)
    app.extensions["moment"] = StyleFreeMoment
    # A global as well as Flask-Moment's context variable, so macros imported without context (cheaper) see it.
    app.add_template_global(StyleFreeMoment, "moment")
