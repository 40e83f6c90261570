"""Template helpers: text fallbacks for Flask-Moment's timestamps, for readers without JavaScript."""

from .models import utcnow

UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def time_ago(when, now=None):
    """Describe roughly how long ago a naive UTC time was, as moment's fromNow() would."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    for unit, size in UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "a few seconds ago"


def init_app(app):
    """Register the filters on the app's Jinja environment."""
    app.add_template_filter(time_ago, "ago")
