"""Database models: roles and the users whose names the app remembers."""

from datetime import datetime, timezone

from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy import ForeignKey, String

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

    def seen(self, when=None):
        """Record another visit under this name."""
        self.last_seen = when or utcnow()

    def __repr__(self):
        return f"<User {self.username!r}>"
