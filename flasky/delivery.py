"""Outbox delivery: claim due messages, send them (digests past the flood limit), retry with backoff.

The same pass runs in the embedded worker thread, in Celery workers and in `flask mail send-pending`;
claims are conditional UPDATEs, so any number of them can run at once without sending a message twice.
"""

import logging
import threading
import uuid
from collections import defaultdict
from datetime import timedelta

from flask import current_app
from sqlalchemy import event, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from . import mail
from .extensions import db
from .models import OutboxMessage, utcnow

logger = logging.getLogger("flasky.mail")
Outbox = OutboxMessage
EXTENSION_KEY = "flasky.delivery"


def deliver_due(*, ignore_schedule=False):
    """Deliver every due outbox message once; return seconds until the next is due (None: nothing left)."""
    now = utcnow()
    config = current_app.config
    due = db.session.scalars(
        select(Outbox)
        .where(Outbox.status.in_((Outbox.PENDING, Outbox.SENDING)))
        .where(or_(Outbox.status == Outbox.PENDING, Outbox.next_attempt_at <= now) if ignore_schedule
               else Outbox.next_attempt_at <= now)
        .order_by(Outbox.id)
        .limit(config["FLASKY_MAIL_BATCH"])
    ).all()
    db.session.close()  # end the read transaction before the slow part; the rows stay loaded
    by_recipient = defaultdict(list)
    for message in due:
        if message.coalesce:
            by_recipient[message.recipient].append(message)
        else:
            _send([message])
    for recipient, messages in by_recipient.items():
        _send_within_flood_limit(recipient, messages)
    return seconds_until_next_due()


def _send_within_flood_limit(recipient, messages):
    """Send coalescable notes one by one while under the limit, else as one digest, else hold them."""
    limit, window = current_app.config["FLASKY_MAIL_DIGEST_LIMIT"], current_app.config["FLASKY_MAIL_DIGEST_WINDOW"]
    since = utcnow() - timedelta(seconds=window)
    sent_mails, oldest_sent_at = db.session.execute(
        select(func.count(func.distinct(Outbox.batch)), func.min(Outbox.sent_at))
        .where(Outbox.recipient == recipient, Outbox.coalesce.is_(True), Outbox.status == Outbox.SENT,
               Outbox.sent_at > since)
    ).one()
    db.session.close()
    budget = limit - sent_mails
    if len(messages) <= budget:
        for message in messages:
            _send([message])
    elif budget > 0 or oldest_sent_at is None:
        _send(messages)
    else:
        # The window is full: hold the notes until its oldest mail leaves it, then they go as one digest.
        _hold([message.id for message in messages], until=oldest_sent_at + timedelta(seconds=window))


def _send(messages):
    """Claim, compose, send and record one mail carrying the given outbox messages."""
    batch = _claim([message.id for message in messages])
    if batch is None:
        return
    claimed = db.session.scalars(select(Outbox).where(Outbox.batch == batch).order_by(Outbox.id)).all()
    db.session.close()
    if not claimed:
        return
    try:
        mail.deliver(_compose(claimed, batch))
    except mail.TemporaryFailure as error:
        _record_failure(claimed, str(error), permanent=False)
    except mail.PermanentFailure as error:
        _record_failure(claimed, str(error), permanent=True)
    except Exception as error:  # a bug or a broken template must not kill the worker or lose the message
        logger.exception("Could not compose or send outbox batch %s", batch)
        _record_failure(claimed, f"{type(error).__name__}: {error}", permanent=False)
    else:
        _update([message.id for message in claimed], status=Outbox.SENT, sent_at=utcnow(), last_error=None)
        logger.info("Delivered mail %s to %s (%d note(s))", batch, claimed[0].recipient, len(claimed))


def _claim(ids):
    """Mark due messages as being sent by us, for one lease; return the batch id, or None if none were free."""
    now = utcnow()
    batch = uuid.uuid4().hex
    lease = timedelta(seconds=current_app.config["FLASKY_MAIL_LEASE_SECONDS"])
    result = db.session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids))
        .where(or_(Outbox.status == Outbox.PENDING, (Outbox.status == Outbox.SENDING) & (Outbox.next_attempt_at <= now)))
        .values(status=Outbox.SENDING, batch=batch, attempts=Outbox.attempts + 1, next_attempt_at=now + lease)
    )
    db.session.commit()
    return batch if result.rowcount else None


def _compose(messages, batch):
    """Compose one mail: the message itself, or a digest of several coalesced notes."""
    first = messages[0]
    domain = (first.recipient.rpartition("@")[2] or "flasky.invalid").strip("<> ")
    message_id = f"<flasky-{batch}@{domain}>"
    if len(messages) == 1:
        return mail.compose(first.recipient, first.subject, first.template, first.context, message_id=message_id)
    return mail.compose(first.recipient, f"{first.subject} digest ({len(messages)})", f"{first.template}_digest",
                        {"items": [message.context for message in messages]}, message_id=message_id)


def _record_failure(messages, reason, *, permanent):
    """Schedule a retry with exponential backoff, or mark the messages failed for good."""
    config = current_app.config
    attempts = max(message.attempts for message in messages)
    ids = [message.id for message in messages]
    if permanent or attempts >= config["FLASKY_MAIL_MAX_ATTEMPTS"]:
        _update(ids, status=Outbox.FAILED, last_error=reason)
        logger.error("Mail to %s failed for good after %d attempt(s): %s", messages[0].recipient, attempts, reason)
        return
    delay = min(config["FLASKY_MAIL_RETRY_BASE"] * 2 ** (attempts - 1), config["FLASKY_MAIL_RETRY_MAX"])
    _update(ids, status=Outbox.PENDING, batch=None, last_error=reason,
            next_attempt_at=utcnow() + timedelta(seconds=delay))
    logger.warning("Mail to %s not sent (attempt %d), retrying in %.1f s: %s",
                   messages[0].recipient, attempts, delay, reason)


def _hold(ids, *, until):
    _update(ids, next_attempt_at=until)


def _update(ids, **values):
    db.session.execute(update(Outbox).where(Outbox.id.in_(ids)).values(**values))
    db.session.commit()


def seconds_until_next_due():
    """Return how long until the next pending or stale message is due, or None when none waits."""
    next_due = db.session.scalar(
        select(func.min(Outbox.next_attempt_at)).where(Outbox.status.in_((Outbox.PENDING, Outbox.SENDING)))
    )
    db.session.close()
    if next_due is None:
        return None
    return max(0.0, (next_due - utcnow()).total_seconds())


def status_counts():
    """Count outbox messages by status."""
    rows = db.session.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    return {status: 0 for status in (Outbox.PENDING, Outbox.SENDING, Outbox.SENT, Outbox.FAILED)} | dict(rows)


class Worker:
    """A daemon thread that delivers this process's outbox: woken after each commit, polling for retries."""

    def __init__(self, app):
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        """Start the thread (once); pending mail left by an earlier crash goes out on its first pass."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="flasky-mail", daemon=True)
            self._thread.start()

    def wake(self):
        """Ask for a delivery pass now."""
        self._wake.set()

    def stop(self, timeout=10):
        """Stop the thread after its current pass."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        poll = self.app.config["FLASKY_MAIL_POLL_SECONDS"]
        # A short pause first, so one-off commands (`flask db upgrade`) end before any pass.
        self._wake.wait(min(1.0, poll))
        while not self._stop.is_set():
            self._wake.clear()
            wait = poll
            with self.app.app_context():
                try:
                    next_due = deliver_due()
                    wait = poll if next_due is None else min(poll, next_due)
                except SQLAlchemyError as error:  # the database may be down or not migrated yet: keep trying
                    logger.warning("Outbox delivery pass failed, retrying in %.1f s: %s", poll, error.__class__.__name__)
                    logger.debug("Outbox delivery pass failure", exc_info=True)
                except Exception:
                    logger.exception("Outbox delivery pass failed, retrying in %.1f s", poll)
                finally:
                    db.session.remove()
            self._wake.wait(wait)


def wake(app=None):
    """Have pending mail delivered soon: by this process's worker thread, or by a Celery worker."""
    app = app or current_app._get_current_object()
    delivery = app.extensions.get(EXTENSION_KEY)
    if delivery is not None:
        delivery.wake()


def _wake_after_commit(session):
    """Wake delivery once a transaction that queued mail has committed."""
    if session.info.pop("outbox_pending", False):
        wake()


def init_app(app):
    """Choose how this app delivers mail: Celery when CELERY_BROKER_URL is set, else the embedded worker."""
    # Mail written to the log (no MAIL_SERVER) and delivery reports are INFO: show them unless configured otherwise.
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.INFO)
    app.logger  # noqa: B018  (creating it attaches Flask's stderr handler to "flasky", parent of "flasky.mail")
    if not event.contains(db.session, "after_commit", _wake_after_commit):
        event.listen(db.session, "after_commit", _wake_after_commit)
    if app.config.get("CELERY_BROKER_URL"):
        from .tasks import init_celery

        app.extensions[EXTENSION_KEY] = init_celery(app)
    elif app.config["FLASKY_MAIL_WORKER"]:
        worker = Worker(app)
        app.extensions[EXTENSION_KEY] = worker
        worker.start()
