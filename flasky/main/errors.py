"""Error pages in the layout for plain requests, and an error message in the flash region for htmx swaps."""

import secrets
import time

from flask import current_app, request
from flask.globals import request_ctx
from sqlalchemy.exc import ProgrammingError
from werkzeug.exceptions import HTTPException, SecurityError, ServiceUnavailable

from .. import hypermedia
from ..database import DATABASE_UNAVAILABLE, is_unavailable
from ..extensions import db, limiter
from ..i18n import gettext as _, lazy_gettext as _l
from ..schema import schema_watch
from ..text import error_line
from . import bp

# What a visitor reads for each status: a title, and what to do about it.
ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Please go back and try again.")),
    404: (_l("Page not found"), _l("There is no page at this address.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too much data"), _l("That was more than this form accepts. Please send something shorter.")),
    416: (_l("Range not satisfiable"), _l("That part of the file does not exist.")),
    429: (_l("Too many requests"),
          _l("You are sending that faster than we can take it. Please wait a moment and try again.")),
    500: (_l("Something went wrong"), _l("An unexpected error happened on our side. Please try again in a moment.")),
    503: (_l("Temporarily unavailable"),
          _l("We cannot store or look up names right now. Please try again in a little while.")),
}
UNTRUSTED_HOST_MESSAGE = _l("This site is not served under that host name.")
# Statuses whose exception description is for the logs, not for visitors (Flask-Limiter puts the limit there).
OWN_TEXT_ONLY = {429, 500, 503}
# Response headers of an exception that must survive into our own page (405 names the allowed methods).
KEPT_HEADERS = {"allow", "retry-after", "www-authenticate"}


@bp.app_errorhandler(HTTPException)
@hypermedia.answers("errors/error.html", oob=["partials/flashes.html"], statuses=sorted(ERROR_TEXT))
def http_error(error, incident=None):
    """Answer any HTTP error (unhandled exceptions arrive here as 500) with our page or fragment."""
    code = error.code or 500
    fallback = (_l("Error %(code)s", code=code), _l("The request could not be completed."))
    title, message = ERROR_TEXT.get(code, fallback)
    if error.description != type(error).description and code not in OWN_TEXT_ONLY:
        message = error.description
    if isinstance(error, SecurityError):  # its description repeats the foreign Host header
        message = UNTRUSTED_HOST_MESSAGE
    if code == 500 and incident is None:
        incident = _log_incident(error)
    headers = [(key, value) for key, value in error.get_headers() if key.lower() in KEPT_HEADERS]
    if code == 429 and limiter.current_limit:
        headers.append(("Retry-After", str(max(1, int(limiter.current_limit.reset_at - time.time())))))
    if request_ctx.url_adapter is None:
        # Flask refused the Host (TRUSTED_HOSTS) before it made the URL adapter that url_for() reads, and offers no
        # public way to make one for such a request: set that attribute, bound to no real host, so our page's
        # links are host-less paths.
        request_ctx.url_adapter = current_app.url_map.bind("untrusted.invalid", script_name=request.script_root or None)
    alerts = None
    if hypermedia.wants_fragment():
        # The message goes out of band into the flash region; nothing replaces the element that asked (HX-Reswap).
        text = (_("%(title)s: %(message)s (incident %(id)s)", title=title, message=message, id=incident) if incident
                else _("%(title)s: %(message)s", title=title, message=message))
        alerts = [("danger", text)]
    return hypermedia.render(
        "errors/error.html",
        oob=("partials/flashes.html",),
        status=code,
        headers=headers,
        reswap="none",
        code=code,
        title=title,
        message=message,
        incident=incident,
        alerts=alerts,
    )


def database_unavailable(error):
    """Answer 503 with Retry-After when the database cannot be reached or written, or its schema is not the code's;
    log one line, no SQL (what to run about the schema is logged once: flasky/schema.py). Any other ProgrammingError
    is a bug's: on to the 500 handler."""
    if not is_unavailable(error):
        raise error
    incident = secrets.token_hex(4)
    schema = schema_watch(current_app).explain(error, db.engine)
    if schema is not None:
        current_app.logger.error("Database unavailable, incident %s: schema %s", incident, schema.status)
    else:
        current_app.logger.error("Database unavailable, incident %s: %s", incident, error_line(error))
    unavailable = ServiceUnavailable(retry_after=current_app.config["DATABASE_RETRY_AFTER"])
    return http_error(unavailable, incident=incident)


for _exception in (*DATABASE_UNAVAILABLE, ProgrammingError):
    bp.app_errorhandler(_exception)(database_unavailable)


def _log_incident(error):
    """Log a server error in one line with a short id the visitor can quote (traceback at DEBUG); return the id."""
    incident = secrets.token_hex(4)
    original = getattr(error, "original_exception", None) or error
    current_app.logger.error("Server error, incident %s: %s", incident, type(original).__name__)
    current_app.logger.debug("Traceback for incident %s", incident, exc_info=original)
    return incident
