"""Template helpers: Flask-Moment without inline styles, no-JS fallbacks for times, roles in the reader's words."""

import re
from functools import lru_cache

from babel.dates import format_datetime
from flask import url_for
from flask_moment import moment
from jinja2 import pass_context
from markupsafe import Markup

from .i18n import current_language, current_voice, gettext, ngettext
from .models import role_label, utcnow
from .text import NONCHARACTERS

# Flask-Moment hides each timestamp with an inline style, which our Content-Security-Policy refuses; the
# .flask-moment rule in app.css hides it instead, and flask_moment_render() shows it by removing that class.
INLINE_STYLE = ' style="display: none"'

# The largest unit that fits, and its words; the Chinese ones are moment's zh-cn words ("3 分钟前").
UNITS = (
    (365 * 86400, lambda n, t: ngettext("%(num)d year ago", "%(num)d years ago", n, t)),
    (30 * 86400, lambda n, t: ngettext("%(num)d month ago", "%(num)d months ago", n, t)),
    (86400, lambda n, t: ngettext("%(num)d day ago", "%(num)d days ago", n, t)),
    (3600, lambda n, t: ngettext("%(num)d hour ago", "%(num)d hours ago", n, t)),
    (60, lambda n, t: ngettext("%(num)d minute ago", "%(num)d minutes ago", n, t)),
)
# Code points an HTML document may not hold (the Nu checker's "forbidden code point"): the C0 controls but tab, LF, FF
# and CR, DEL and the C1 controls, and the noncharacters.
FORBIDDEN_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f" + "".join(sorted(NONCHARACTERS)) + "]")


def time_ago(when, now=None, translations=None):
    """Describe roughly how long ago a naive UTC time was, in the page's language, as moment's fromNow() would."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    for size, words in UNITS:
        if seconds >= size:
            return words(seconds // size, translations)
    return gettext("a few seconds ago", translations)


@pass_context
def ago(context, when, now=None):
    """Write time_ago() for a template, with the catalog the render already holds (a directory page asks 40 times);
    pass the page's now to measure many times from one moment."""
    found = context.get("voice") or current_voice()
    return time_ago(when, now, found.translations if found else None)


def typed(value):
    """Write back what a visitor typed into a field, the code points HTML forbids (NUL, other controls, noncharacters)
    shown as U+FFFD: the page stays valid, the field keeps the rest, and its message says what was wrong."""
    return FORBIDDEN_IN_HTML.sub("\ufffd", value) if value else ""


def moment_timestamp(when):
    """Write a naive UTC time as Flask-Moment's data-timestamp does ("2026-12-01T14:33:15Z"), at a tenth the cost
    (digits, "-", ":", "T" and "Z": nothing to escape)."""
    return Markup(when.isoformat(timespec="seconds") + "Z")


def user_url(name):
    """Return the URL of a visitor's page (the rows and panels that list names keep their markup, URLs included)."""
    return url_for("main.user", name=name)


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


class StyleFreeMoment(moment):
    """Flask-Moment's moment, rendered without the inline style attribute."""

    def _render(self, *args, **kwargs):
        """Render the timestamp span as Flask-Moment does, minus its style attribute."""
        return Markup(str(super()._render(*args, **kwargs)).replace(INLINE_STYLE, ""))


def init_app(app):
    """Register filters and globals on the app's Jinja environment, and the style-free moment (after Moment's)."""
    app.add_template_filter(ago)
    app.add_template_filter(role_label)
    app.add_template_global(utcnow)
    app.add_template_filter(moment_timestamp)
    app.add_template_filter(typed)
    app.add_template_filter(user_url)
    app.add_template_filter(utc_datetime)
    app.extensions["moment"] = StyleFreeMoment
    # A global as well as Flask-Moment's context variable, so macros imported without context (cheaper) see it.
    app.add_template_global(StyleFreeMoment, "moment")
