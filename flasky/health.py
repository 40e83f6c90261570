"""/healthz: whether the app can serve, for load balancers and monitors: its database answers, and its schema is the
code's (flasky/schema.py); and where its rate limits are counted (a Redis outage is reported, never a 503)."""

from flask import Blueprint, current_app

from .database import DATABASE_UNAVAILABLE
from .extensions import db, limiter
from .hypermedia import answers
from .ratelimit import storage_health
from .schema import schema_watch

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
@answers(media="application/json", statuses=[200, 503])
def healthz():
    """Report 200 when the database answers and its schema is at (or past) the code's head, else 503 with
    Retry-After; one query, at most one Redis PING, and never the session."""
    watch = schema_watch(current_app)
    try:
        with db.engine.connect() as connection:
            schema = watch.tell(watch.read(connection))
    except DATABASE_UNAVAILABLE as error:
        current_app.logger.warning("Health check: database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        body = {"status": "unavailable", "database": "unavailable", "schema": None, "revision": None,
                "head": watch.head}
    else:
        body = {"status": "ok" if schema.serves else "unavailable", "database": "ok", "schema": schema.status,
                "revision": schema.revision, "head": schema.head}
    body["ratelimit"] = storage_health(current_app)
    response = current_app.json.response(body)
    if body["status"] != "ok":
        response.status_code = 503
        response.headers["Retry-After"] = str(current_app.config["DATABASE_RETRY_AFTER"])
    response.cache_control.no_store = True
    return response
