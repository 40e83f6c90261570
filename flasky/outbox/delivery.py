"""One delivery pass over the outbox: claim due messages, send them (digests past the flood limit), retry with backoff.

The same pass runs in the embedded worker thread, in Celery workers and in `flask mail send-pending`;
claims are conditional UPDATEs, so any number of them can run at once without sending a message twice.
"""

import logging
import uuid
from collections import defaultdict
from datetime import timedelta

from flask import current_app
from sqlalchemy import func, select, update

from ..extensions import db
from ..i18n import force_language, gettext as _
from ..models import OutboxMessage, utcnow
from . import smtp

logger = logging.getLogger("flasky.mail")


def deliver_due(*, ignore_schedule=False):
    """Deliver every due outbox message once; return seconds until the next is due (None: nothing left)."""
    now = utcnow()
    config = current_app.config
    due = db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.claimable(now) if ignore_schedule
               else OutboxMessage.waiting() & (OutboxMessage.next_attempt_at <= now))
        .order_by(OutboxMessage.id)
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
        select(func.count(func.distinct(OutboxMessage.batch)), func.min(OutboxMessage.sent_at))
        .where(OutboxMessage.recipient == recipient, OutboxMessage.coalesce.is_(True),
               OutboxMessage.status == OutboxMessage.SENT, OutboxMessage.sent_at > since)
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
    claimed = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.batch == batch).order_by(OutboxMessage.id)
    ).all()
    db.session.close()
    if not claimed:
        return
    try:
        smtp.deliver(_compose(claimed, batch))
    except smtp.TemporaryFailure as error:
        _record_failure(claimed, str(error), permanent=False)
    except smtp.PermanentFailure as error:
        _record_failure(claimed, str(error), permanent=True)
    except Exception as error:  # a bug or a broken template must not kill the worker or lose the message
        logger.exception("Could not compose or send outbox batch %s", batch)
        _record_failure(claimed, f"{type(error).__name__}: {error}", permanent=False)
    else:
        _update([message.id for message in claimed], status=OutboxMessage.SENT, sent_at=utcnow(), last_error=None)
        logger.info("Delivered mail %s to %s (%d note(s))", batch, claimed[0].recipient, len(claimed))


def _claim(ids):
    """Mark due messages as being sent by us, for one lease; return the batch id, or None if none were free."""
    now = utcnow()
    batch = uuid.uuid4().hex
    lease = timedelta(seconds=current_app.config["FLASKY_MAIL_LEASE_SECONDS"])
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.claimable(now))
        .values(status=OutboxMessage.SENDING, batch=batch, attempts=OutboxMessage.attempts + 1,
                next_attempt_at=now + lease)
    )
    db.session.commit()
    return batch if result.rowcount else None


def _compose(messages, batch):
    """Compose one mail in the admin's language (FLASKY_ADMIN_LOCALE): the message, or a digest of several notes."""
    first = messages[0]
    domain = (first.recipient.rpartition("@")[2] or "flasky.invalid").strip("<> ")
    message_id = f"<flasky-{batch}@{domain}>"
    with force_language(current_app.config["FLASKY_ADMIN_LOCALE"]):
        if len(messages) == 1:
            return smtp.compose(first.recipient, first.subject, first.template, first.context, message_id=message_id)
        subject = _("%(subject)s digest (%(count)d)", subject=first.subject, count=len(messages))
        return smtp.compose(first.recipient, subject, f"{first.template}_digest",
                            {"items": [message.context for message in messages]}, message_id=message_id)


def _record_failure(messages, reason, *, permanent):
    """Schedule a retry with exponential backoff, or mark the messages failed for good."""
    config = current_app.config
    attempts = max(message.attempts for message in messages)
    ids = [message.id for message in messages]
    if permanent or attempts >= config["FLASKY_MAIL_MAX_ATTEMPTS"]:
        _update(ids, status=OutboxMessage.FAILED, last_error=reason)
        logger.error("Mail to %s failed for good after %d attempt(s): %s", messages[0].recipient, attempts, reason)
        return
    delay = min(config["FLASKY_MAIL_RETRY_BASE"] * 2 ** (attempts - 1), config["FLASKY_MAIL_RETRY_MAX"])
    _update(ids, status=OutboxMessage.PENDING, batch=None, last_error=reason,
            next_attempt_at=utcnow() + timedelta(seconds=delay))
    logger.warning("Mail to %s not sent (attempt %d), retrying in %.1f s: %s",
                   messages[0].recipient, attempts, delay, reason)


def _hold(ids, *, until):
    _update(ids, next_attempt_at=until)


def _update(ids, **values):
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids)).values(**values))
    db.session.commit()


def seconds_until_next_due():
    """Return how long until the next pending or stale message is due, or None when none waits."""
    next_due = db.session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(OutboxMessage.waiting()))
    db.session.close()
    if next_due is None:
        return None
    return max(0.0, (next_due - utcnow()).total_seconds())


def status_counts():
    """Count outbox messages by status."""
    rows = db.session.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    return dict.fromkeys(OutboxMessage.STATUSES, 0) | dict(rows)
