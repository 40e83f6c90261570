"""The main blueprint's views. The greeting's and a user's page each build their form (if any), call one domain
function and answer a page or a fragment; the language switcher answers a redirect, /flask-moment.js a script."""

from flask import abort, current_app, flash, redirect, request, session, url_for

from .. import greeting, hypermedia, i18n
from ..extensions import moment
from ..i18n import gettext as _, lazy_gettext as _l
from ..live.panel import panel
from ..models import utcnow
from ..ratelimit import rate_limit
from ..text import has_control_characters, normalise_name
from . import bp
from .forms import NameForm

CHANGED_NAME = _l("Looks like you have changed your name!")


def render_index(form, *, oob=(), status=200, fragment="partials/name-form.html", **context):
    """Answer with the index page, or with one of its fragments for an htmx swap."""
    return hypermedia.render(
        "index.html",
        fragment,
        oob=oob,
        status=status,
        form=form,
        name=session.get("name"),
        known=session.get("known", False),
        current_time=utcnow(),
        # The live panel, in full pages only: no swap of the name form ever replaces it.
        live=panel() if current_app.config["FLASKY_LIVE_FEED"] and not hypermedia.wants_fragment() else None,
        **context,
    )


@bp.get("/")
@hypermedia.answers("index.html", fragments=["partials/name-form.html"])
def index():
    """Show the greeting and the name form."""
    return render_index(NameForm())


@bp.post("/")
@rate_limit(lambda: current_app.config["RATELIMIT_NAME_FORM"])
@hypermedia.answers("index.html", fragments=["partials/name-form.html"],
                    oob=["partials/greeting.html", "partials/flashes.html"], statuses=[200, 303, 400, 422])
def greet():
    """Remember a submitted name: PRG without JS, the greeting and a fresh form in place with htmx."""
    form = NameForm()
    if not form.validate_on_submit():
        return render_index(form, status=400 if form.csrf_message else 422)
    name = form.name.data
    _, is_new = greeting.remember(name)
    previous = session.get("name")
    if previous not in (None, name):
        flash(str(CHANGED_NAME))  # the session stores text, in the language the visitor reads now
    if (previous, session.get("known")) != (name, not is_new):  # unchanged: no new cookie to sign
        session.update(name=name, known=not is_new)
    if not hypermedia.wants_fragment():
        return redirect(url_for(".index"), 303)
    return render_index(form.cleared(), oob=("partials/greeting.html", "partials/flashes.html"), greeted=True)


@bp.post("/validate/name")
@hypermedia.answers("index.html", fragments=["partials/name-error.html"])
def validate_name():
    """Check the name field as the visitor types, without storing anything."""
    form = NameForm()
    form.name.validate(form)  # the name only: nothing is stored, so the CSRF token is not checked
    return render_index(form, fragment="partials/name-error.html")


@bp.route("/user/<name>")
@hypermedia.answers("user.html", fragments=["partials/user-card.html"])
def user(name):
    """Show what the app remembers of one name."""
    if has_control_characters(name):
        abort(404)  # never a stored name, and PostgreSQL refuses NUL in a query
    found = greeting.find_user(normalise_name(name))
    if found is None:
        # Only printable names are echoed: no invisible or direction-changing characters in our message.
        abort(404, description=_("Nobody called “%(name)s” has been here yet.", name=name) if name.isprintable() else None)
    return hypermedia.render("user.html", "partials/user-card.html", user=found)


@bp.post("/language")
@hypermedia.answers(statuses=[303])
def set_language():
    """Remember the language a visitor picked, then show the page they were on again (303), in that language."""
    if not i18n.from_this_site():
        abort(400, description=_("The language was not changed: the request came from another site. Use the switcher "
                                 "at the top of this page to change it."))
    code = request.form.get("lang", "")
    if code not in i18n.LANGUAGES:
        abort(400, description=_("That language is not available here."))
    back = i18n.same_site_path(request.form.get("next"))
    return i18n.remember_choice(redirect(request.script_root + back if back else url_for(".index"), 303), code)


@bp.route("/flask-moment.js")
@hypermedia.answers(media="text/javascript")
def moment_js():
    """Serve Flask-Moment's rendering code as a script file, so pages need no inline script."""
    response = current_app.response_class(moment.flask_moment_js(), mimetype="text/javascript")
    response.cache_control.public = True
    response.cache_control.max_age = 3600
    return response
