"""Template helpers: Flask-Moment without inline styles, no-JS fallbacks for times, roles in the reader's words."""

import re
from calendar import monthrange
from functools import lru_cache
from math import floor

from babel.dates import format_datetime
from flask import url_for
from flask_moment import moment
from jinja2 import pass_context
from markupsafe import Markup, escape

from .i18n import current_language, current_voice, gettext, ngettext
from .models import role_label, utcnow
from .text import NONCHARACTERS

# Flask-Moment hides each timestamp with an inline style, which our Content-Security-Policy refuses; the
# .flask-moment rule in app.css hides it instead (keeping its room), and flask_moment_render() shows it by removing
# that class.
INLINE_STYLE = ' style="display: none"'
SPAN_END = "</span>"

# moment.js's fromNow() steps (its relativeTime thresholds): a count of each unit, rounded half up, below its limit
# gives "N units ago", a count of 1 or less "a unit ago"; the Chinese words are moment's zh-cn ones ("3 分钟前", "1 小时前").
FEW_SECONDS = 44  # up to this many seconds: "a few seconds ago"
STEPS = (  # seconds in the unit, its limit, its words
    (60, 45, lambda t: gettext("a minute ago", t),
     lambda n, t: ngettext("%(num)d minute ago", "%(num)d minutes ago", n, t)),
    (3600, 22, lambda t: gettext("an hour ago", t),
     lambda n, t: ngettext("%(num)d hour ago", "%(num)d hours ago", n, t)),
    (86400, 26, lambda t: gettext("a day ago", t),
     lambda n, t: ngettext("%(num)d day ago", "%(num)d days ago", n, t)),
)
MONTH_STEPS = (  # months in the unit, its limit, its words: moment counts these in calendar months
    (1, 11, lambda t: gettext("a month ago", t),
     lambda n, t: ngettext("%(num)d month ago", "%(num)d months ago", n, t)),
    (12, None, lambda t: gettext("a year ago", t),
     lambda n, t: ngettext("%(num)d year ago", "%(num)d years ago", n, t)),
)
MONTH_SECONDS = 146097 * 86400 / 4800  # moment's average month: a 400-year Gregorian cycle's days over its months
# Code points an HTML document may not hold (the Nu checker's "forbidden code point"): the C0 controls but tab, LF, FF
# and CR, DEL and the C1 controls, and the noncharacters.
FORBIDDEN_IN_HTML = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f" + "".join(sorted(NONCHARACTERS)) + "]")


def time_ago(when, now=None, translations=None):
    """Describe how long ago a naive UTC time was, in the page's language, in the words and steps of moment's
    fromNow(): readers without JavaScript read what the others do, and the others' page keeps the room moment.js's
    text takes (macros/time.html)."""
    now = now or utcnow()
    seconds = max(0, (now - when).total_seconds())
    if _rounded(seconds) <= FEW_SECONDS:
        return gettext("a few seconds ago", translations)
    for size, limit, one, many in STEPS:
        count = _rounded(seconds / size)
        if count <= 1:
            return one(translations)
        if count < limit:
            return many(count, translations)
    months = _months_between(when, now)
    for size, limit, one, many in MONTH_STEPS:
        count = _rounded(months / size)
        if count <= 1:
            return one(translations)
        if limit is None or count < limit:
            return many(count, translations)


def _rounded(number):
    """Round half up, as JavaScript's Math.round() does (Python's round() goes to the even number)."""
    return floor(number + 0.5)


def _months_between(when, now):
    """Count the months from a naive time to a later one as moment.js does: the whole calendar months, then the rest
    in average months."""
    whole = (now.year - when.year) * 12 + now.month - when.month
    if _months_later(when, whole) > now:
        whole -= 1
    return whole + (now - _months_later(when, whole)).total_seconds() / MONTH_SECONDS


def _months_later(when, months):
    """Add calendar months to a time, on the same day of the month or the month's last (January 31 -> February 28)."""
    year, month = divmod(when.month - 1 + months, 12)
    year += when.year
    return when.replace(year=year, month=month + 1, day=min(when.day, monthrange(year, month + 1)[1]))


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


def local_text(when):
    """Write a naive UTC time in the shape of moment.js's "LLL" in the page's language, still in UTC: the unseen text
    that keeps a local time's room on the page until moment.js writes the visitor's own (macros/time.html)."""
    # TRANSLATORS: a Babel (CLDR) date pattern giving a date and time the shape moment.js's "LLL" gives them in your
    # language (moment's zh-cn: "2026年12月1日晚上8点43分", "yyyy年M月d日Bh点mm分" in Babel's letters).
    pattern = gettext("MMMM d, yyyy h:mm a")
    return _formatted(when.replace(second=0, microsecond=0), pattern, current_language().code)


@lru_cache(maxsize=256)
def _formatted(minute, pattern, locale):
    """Format a naive UTC minute with Babel, once: the page's "now" stays the same text for sixty seconds (~15 µs)."""
    return format_datetime(minute, pattern, locale=locale)  # naive: UTC


class StyleFreeMoment(moment):
    """Flask-Moment's moment, rendered without the inline style attribute, and around `text` when given: a text of
    the shape moment.js will write there (app.css keeps it unseen), so the page does not move when it does."""

    def __init__(self, timestamp=None, local=False, text=None):
        super().__init__(timestamp, local)
        self.text = text

    def _render(self, *args, **kwargs):
        """Render the timestamp span as Flask-Moment does, minus its style attribute, around the text if any."""
        markup = str(super()._render(*args, **kwargs)).replace(INLINE_STYLE, "")
        if self.text is not None:
            # Flask-Moment writes the timestamp as the span's text: the span up to that text, then ours.
            markup = markup[:markup.rindex(">", 0, -len(SPAN_END)) + 1] + str(escape(self.text)) + SPAN_END
        return Markup(markup)


def init_app(app):
    """Register filters and globals on the app's Jinja environment, and the style-free moment (after Moment's)."""
    app.add_template_filter(ago)
    app.add_template_filter(role_label)
    app.add_template_global(utcnow)
    app.add_template_filter(moment_timestamp)
    app.add_template_filter(typed)
    app.add_template_filter(user_url)
    app.add_template_filter(utc_datetime)
    app.add_template_filter(local_text)
    app.extensions["moment"] = StyleFreeMoment
    # A global as well as Flask-Moment's context variable, so macros imported without context (cheaper) see it.
    app.add_template_global(StyleFreeMoment, "moment")
