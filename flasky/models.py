"""Database models: roles and the users whose names the app remembers."""

from datetime import datetime, timezone

from sqlalchemy import JSON, ForeignKey, String, Text, or_
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db

USERNAME_MAX_LENGTH = 64


def utcnow():
    """Return the current UTC time as a naive datetime, the form Flask-Moment and both databases expect."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Role(db.Model):
    """A role a user can have (the book's chapter 5 model)."""

    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    users = relationship("User", backref="role", lazy="dynamic")

    def __repr__(self):
        return f"<Role {self.name!r}>"


class User(db.Model):
    """A visitor's name, first seen when it was submitted first and last seen on its latest submission."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True, index=True)
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self):
        return f"<User {self.username!r}>"


class OutboxMessage(db.Model):
    """A mail waiting to be delivered, written in the same transaction as the change it reports."""

    __tablename__ = "mail_outbox"

    PENDING, SENDING, SENT, FAILED = STATUSES = ("pending", "sending", "sent", "failed")

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(64))
    context: Mapped[dict] = mapped_column(JSON)
    # Notes that may be merged into one digest mail when too many arrive at once.
    coalesce: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(10), default=PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    # When it may be tried next; while SENDING, when the sender's claim expires.
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The delivery that claimed it: every message of one digest shares it.
    batch: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    @classmethod
    def waiting(cls):
        """Match the messages still to be delivered: pending ones, and those a sender has claimed."""
        return cls.status.in_((cls.PENDING, cls.SENDING))

    @classmethod
    def claimable(cls, now):
        """Match the messages a sender may claim now: pending ones, and those whose sender's lease ran out."""
        return or_(cls.status == cls.PENDING, (cls.status == cls.SENDING) & (cls.next_attempt_at <= now))

    def __repr__(self):
        return f"<OutboxMessage {self.id} {self.template!r} to {self.recipient!r} {self.status}>"
