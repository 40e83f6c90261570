"""The outbox queue: what callers use to send mail, written in their own transaction and delivered after commit."""

from functools import cache

from flask import current_app
from sqlalchemy import event, insert

from ..extensions import db
from ..models import OutboxMessage
from ..text import has_control_characters

# Where create_app() keeps this app's delivery (the worker thread or the Celery waker): anything with .wake().
DELIVERY_KEY = "flasky.outbox"


def send_email(to, subject, template, **context):
    """Queue a mail from templates/mail/<template>.txt and .html; it is delivered after the caller commits."""
    queue_email(to, subject, template, context)


def queue_email(to, subject, template, context, *, coalesce=False):
    """Add a message to the outbox in the current transaction; coalesced ones may share a digest mail."""
    for header, value in (("recipient", to), ("subject", subject)):
        if has_control_characters(value):
            raise ValueError(f"A mail {header} cannot contain control characters or line breaks: {value!r}")
    # A plain INSERT on the caller's connection and transaction: cheaper than an ORM object flushed at commit,
    # or than the same statement routed through the ORM session (docs/performance.md).
    values = {"recipient": to, "subject": subject, "template": template, "context": context, "coalesce": coalesce}
    db.session.connection().execute(_outbox_insert(), values)
    db.session.info["outbox_pending"] = True


@cache
def _outbox_insert():
    """Build the outbox INSERT once; its values come as parameters."""
    return insert(OutboxMessage)


def wake():
    """Have pending mail delivered soon: by this process's worker thread, or by a Celery worker."""
    delivery = current_app.extensions.get(DELIVERY_KEY)
    if delivery is not None:
        delivery.wake()


def _wake_after_commit(session):
    """Wake delivery once a transaction that queued mail has committed."""
    if session.info.pop("outbox_pending", False):
        wake()


def listen_for_commits():
    """Wake delivery after every commit that queued mail (once per process, whatever the number of apps)."""
    if not event.contains(db.session, "after_commit", _wake_after_commit):
        event.listen(db.session, "after_commit", _wake_after_commit)
