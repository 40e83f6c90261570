"""Template helpers: Flask-Moment timestamps without inline styles, and text fallbacks for readers without JS."""

from flask_moment import moment
from markupsafe import Markup

from .models import utcnow

# Flask-Moment hides each timestamp with an inline style, which our Content-Security-Policy refuses; the
# .flask-moment rule in app.css hides it instead, and flask_moment_render() shows it by removing that class.
INLINE_STYLE = ' style="display: none"'

UNITS = (("year", 365 * 86400), ("month", 30 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60))


def time_ago(when, now=None):
    """Describe roughly how long ago a naive UTC time was, as moment's fromNow() would."""
    seconds = max(0, int(((now or utcnow()) - when).total_seconds()))
    for unit, size in UNITS:
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'} ago"
    return "a few seconds ago"


class StyleFreeMoment(moment):
    """Flask-Moment's moment, rendered without the inline style attribute."""

    def _render(self, *args, **kwargs):
        """Render the timestamp span as Flask-Moment does, minus its style attribute."""
        return Markup(str(super()._render(*args, **kwargs)).replace(INLINE_STYLE, ""))


def init_app(app):
    """Register the filters on the app's Jinja environment, and the style-free moment (after Moment's init_app)."""
    app.add_template_filter(time_ago, "ago")
    app.extensions["moment"] = StyleFreeMoment
