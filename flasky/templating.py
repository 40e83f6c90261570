"""Template helpers: markup rendered once per language and URL prefix, Flask-Moment without inline styles, no-JS
fallbacks."""

from functools import lru_cache

from babel.dates import format_datetime
from flask import current_app, render_template, request
from flask_moment import moment
from jinja2 import pass_context
from markupsafe import Markup

from .assets import keep
from .i18n import current_language, gettext, ngettext
from .models import utcnow

# Flask-Moment hides each timestamp with an inline style, which our Content-Security-Policy refuses; the
# .flask-moment rule in app.css hides it instead, and flask_moment_render() shows it by removing that class.
INLINE_STYLE = ' style="display: none"'

# The largest unit that fits, and its words; the Chinese ones are moment's zh-cn words ("3 分钟前").
UNITS = (
    (365 * 86400, lambda n: ngettext("%(num)d year ago", "%(num)d years ago", n)),
    (30 * 86400, lambda n: ngettext("%(num)d month ago", "%(num)d months ago", n)),
    (86400, lambda n: ngettext("%(num)d day ago", "%(num)d days ago", n)),
    (3600, lambda n: ngettext("%(num)d hour ago", "%(num)d hours ago", n)),
    (60, lambda n: ngettext("%(num)d minute ago", "%(num)d minutes ago", n)),
)
RENDERED_ONCE = "flasky.rendered_once"


def time_ago(when, now=None):
    """Describe roughly how long ago a naive UTC time was, in the page's language, as moment's fromNow() would."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    for size, words in UNITS:
        if seconds >= size:
            return words(seconds // size)
    return gettext("a few seconds ago")


def utc_datetime(when):
    """Write a naive UTC time as text in the page's language (Babel's formatting), for readers without JavaScript."""
    # TRANSLATORS: a Babel (CLDR) date pattern, e.g. "yyyy年M月d日 HH:mm"; keep HH:mm (a 24-hour clock), and add
    # no seconds.
    pattern = gettext("dd MMMM yyyy, HH:mm")
    return gettext("%(time)s UTC", time=_formatted(when.replace(second=0, microsecond=0), pattern,
                                                   current_language().code))


@lru_cache(maxsize=256)
def _formatted(minute, pattern, locale):
    """Format a naive UTC minute with Babel, once: the page's "now" stays the same text for sixty seconds (~15 µs)."""
    return format_datetime(minute, pattern, locale=locale)  # naive: UTC


@pass_context
def render_once(context, template_name, **variables):
    """Render a template that is the same for every request of one language under this URL prefix once, then reuse
    its markup; variables (a few hashable values, such as the active link) are part of the key.

    Only for templates that use nothing per request but the language, the URL prefix and those variables (no nonce,
    session or header): tests/test_templating.py fails when one does.
    """
    cache = current_app.extensions[RENDERED_ONCE]
    key = (request.script_root, context["language"].code, template_name, *variables.items())
    markup = cache.get(key)
    if markup is None:
        markup = keep(cache, key, Markup(render_template(template_name, **variables)))
    return markup


class StyleFreeMoment(moment):
    """Flask-Moment's moment, rendered without the inline style attribute."""

    def _render(self, *args, **kwargs):
        """Render the timestamp span as Flask-Moment does, minus its style attribute."""
        return Markup(str(super()._render(*args, **kwargs)).replace(INLINE_STYLE, ""))


def init_app(app):
    """Register filters and globals on the app's Jinja environment, and the style-free moment (after Moment's)."""
    app.extensions[RENDERED_ONCE] = {}
    app.add_template_filter(time_ago, "ago")
    app.add_template_filter(utc_datetime)
    app.add_template_global(render_once)
    app.extensions["moment"] = StyleFreeMoment
    # A global as well as Flask-Moment's context variable, so macros imported without context (cheaper) see it.
    app.add_template_global(StyleFreeMoment, "moment")
