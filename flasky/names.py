"""Taking a name back (`flask users delete|rename`): the users a pattern matches, and deleting or renaming users
everywhere their names show: the user page, the directory, the live panel and the admin mail not yet sent.

Each function works in the caller's transaction; the command commits.
"""

from dataclasses import dataclass

from sqlalchemy import delete, select, update

from .extensions import db
from .live.events import reissue_shown
from .models import GreetingEvent, OutboxMessage, User
from .text import search_key

# A pattern's wildcards, shell-style, and what they become in LIKE; every other character is literal.
WILDCARDS = {"*": "%", "?": "_"}
LIKE_ESCAPE = "/"
# Users deleted per statement: SQLite allows 32,766 parameters in one, and "*" may match every name.
BATCH = 500


@dataclass(frozen=True)
class Deleted:
    """How many users, greeting events and unsent mails a deletion removed."""

    users: int
    events: int
    mails: int


def like_pattern(pattern):
    """Turn a shell-style pattern into a LIKE pattern of search keys: `*` any run of characters, `?` one character (a
    code point), every other character literal (`%`, `_` too), compared as the directory compares (case-folded)."""
    escaped = []
    for char in search_key(pattern):
        if char in WILDCARDS:
            escaped.append(WILDCARDS[char])
        else:
            escaped.append(LIKE_ESCAPE + char if char in ("%", "_", LIKE_ESCAPE) else char)
    return "".join(escaped)


def matching(pattern):
    """Return the users (id, username) whose search key the shell-style pattern matches, by name in code point
    order (the same on both databases, whatever their collation)."""
    rows = db.session.execute(select(User.id, User.username)
                              .where(User.search_key.like(like_pattern(pattern), escape=LIKE_ESCAPE))).all()
    return sorted(rows, key=lambda row: row.username)


def delete_users(users):
    """Delete these users (rows with id and username), their greeting events and the mail not yet sent that names
    them; sent mail stays, as a record. The live panel's state moves on (reissue_shown())."""
    events = mails = 0
    for start in range(0, len(users), BATCH):
        batch = users[start:start + BATCH]
        ids, names = [user.id for user in batch], [user.username for user in batch]
        # Explicit, not left to ON DELETE CASCADE: SQLite enforces it only with PRAGMA foreign_keys on.
        events += db.session.execute(delete(GreetingEvent).where(GreetingEvent.user_id.in_(ids))).rowcount
        mails += db.session.execute(delete(OutboxMessage).where(_unsent_naming(names))).rowcount
        db.session.execute(delete(User).where(User.id.in_(ids)))
    if users:
        reissue_shown()
    return Deleted(len(users), events, mails)


def rename_user(user, new_name):
    """Rename a user (a row with id and username) to a name the caller has checked, with its search key; the mail not
    yet sent that names the user names the new name (its link would lead to a missing page otherwise). Return how
    many mails were rewritten."""
    unsent = db.session.scalars(select(OutboxMessage).where(_unsent_naming([user.username]))).all()
    db.session.execute(update(User).where(User.id == user.id)
                       .values(username=new_name, search_key=search_key(new_name)))
    for message in unsent:
        message.context = {**message.context, "username": new_name}  # a new dict: the ORM sees the change
    reissue_shown()  # the events name no user, only its id: nothing else tells the panels
    db.session.flush()
    return len(unsent)


def _unsent_naming(names):
    """Match the mail not yet sent (pending, being sent or failed) about one of these names."""
    return (OutboxMessage.status != OutboxMessage.SENT) & OutboxMessage.context["username"].as_string().in_(names)
