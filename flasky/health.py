"""/healthz: whether the app and its database answer, for load balancers and monitors."""

from flask import Blueprint, current_app
from sqlalchemy import text

from .database import DATABASE_UNAVAILABLE
from .extensions import db, limiter

bp = Blueprint("health", __name__)


@bp.get("/healthz")
@limiter.exempt
def healthz():
    """Report 200 when the database answers a query, else 503 with Retry-After; never touch the session."""
    try:
        db.session.execute(text("SELECT 1"))
    except DATABASE_UNAVAILABLE as error:
        current_app.logger.warning("Health check: database unavailable: %s", type(getattr(error, "orig", error)).__name__)
        db.session.rollback()
        body, status = {"status": "unavailable", "database": "unavailable"}, 503
        headers = {"Retry-After": str(current_app.config["DATABASE_RETRY_AFTER"])}
    else:
        body, status, headers = {"status": "ok", "database": "ok"}, 200, {}
    response = current_app.json.response(body)
    response.status_code = status
    response.headers.update(headers)
    response.cache_control.no_store = True
    return response
