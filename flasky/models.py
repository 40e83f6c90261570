"""Database models: roles, the users whose names the app remembers, their greetings, and the mail outbox."""

from datetime import datetime, timezone

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, Text, event, or_, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .extensions import db
from .i18n import lazy_gettext as _l
from .text import search_key

USERNAME_MAX_LENGTH = 64
# Full case folding can turn one character into three ("ΐ"): the search key's room for a 64-character name.
SEARCH_KEY_MAX_LENGTH = 3 * USERNAME_MAX_LENGTH
SEARCH_TABLE_PREFIX = "users_search"  # SQLite's FTS5 table of search keys, and its shadow tables
TRIGRAM_INDEX = "ix_users_search_key_trgm"  # PostgreSQL's
GRAMS_INDEX = "ix_users_search_key_grams"  # PostgreSQL's index of each key's characters and character pairs
# Each character and each pair of characters of a key, for searches too short for trigrams; IMMUTABLE, as an index
# expression must be. The same DDL as migration 0006, for create_all() in tests. PL/pgSQL, because PostgreSQL keeps
# its compiled body for the session, where a SQL function with a subquery was planned anew in every INSERT: the
# seeder's executemany took 3 times as long (docs/performance.md).
GRAMS_FUNCTION_DDL = """\
CREATE OR REPLACE FUNCTION flasky_search_grams(key text) RETURNS text[] LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
AS $$
DECLARE
    grams text[] := string_to_array(key, NULL);  -- each character
BEGIN
    FOR i IN 1 .. length(key) - 1 LOOP
        grams := grams || substr(key, i, 2);
    END LOOP;
    RETURN grams;
END
$$"""
GRAMS_INDEX_DDL = f"CREATE INDEX {GRAMS_INDEX} ON users USING gin (flasky_search_grams(search_key))"


def utcnow():
    """Return the current UTC time as a naive datetime, the form Flask-Moment and both databases expect."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _search_key_of_username(context):
    """Derive an inserted user's search key from its username, when the INSERT gives none."""
    return search_key(context.get_current_parameters()["username"])


class Role(db.Model):
    """A role a user can have (the book's chapter 5 model)."""

    __tablename__ = "roles"

    # The book's roles (chapter 9 names them; chapter 5 already has the table). Nothing in the web UI changes a role:
    # `flask users set-role` does.
    USER, MODERATOR, ADMINISTRATOR = NAMES = ("User", "Moderator", "Administrator")
    DEFAULT = USER

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    users = relationship("User", backref="role", lazy="dynamic")

    @classmethod
    def id_of(cls, name):
        """Select the id of the role of this name (a subquery: new users get the default role in their INSERT)."""
        return select(cls.id).where(cls.name == name).scalar_subquery()

    def __repr__(self):
        return f"<Role {self.name!r}>"


# The roles as readers read them, in pages and in the terminal (the database keeps the book's English names).
ROLE_LABELS = {Role.USER: _l("User"), Role.MODERATOR: _l("Moderator"), Role.ADMINISTRATOR: _l("Administrator")}


def role_label(name):
    """Write a role's name in the reader's language."""
    label = ROLE_LABELS.get(name)
    return name if label is None else str(label)


class User(db.Model):
    """A visitor's name, first seen when it was submitted first and last seen on its latest submission."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX_LENGTH), unique=True, index=True)
    # text.search_key(username), kept by the app: what the directory's substring search compares.
    search_key: Mapped[str] = mapped_column(String(SEARCH_KEY_MAX_LENGTH), default=_search_key_of_username)
    role_id: Mapped[int | None] = mapped_column(ForeignKey("roles.id"))
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        # The directory's order, most recently seen first, walked by keyset pagination; the key in it lets a search
        # test each entry without reading the row (SQLite).
        Index("ix_users_last_seen_id", "last_seen", "id", "search_key"),
        # The same order within each role, for the directory's role filter.
        Index("ix_users_role_id_last_seen_id", "role_id", "last_seen", "id"),
        # PostgreSQL: trigram index serving LIKE '%...%' on the key (SQLite has the FTS5 table below instead).
        Index(TRIGRAM_INDEX, "search_key", postgresql_using="gin",
              postgresql_ops={"search_key": "gin_trgm_ops"}).ddl_if(dialect="postgresql"),
    )

    def __repr__(self):
        return f"<User {self.username!r}>"


class GreetingEvent(db.Model):
    """One greeting of a stored user, written in the greeting's transaction: what the live panel lists and streams."""

    __tablename__ = "greeting_events"
    # Ids are never reused (SQLite would reuse a deleted maximum without AUTOINCREMENT): an SSE id stays unique.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    is_new: Mapped[bool]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self):
        return f"<GreetingEvent {self.id} user {self.user_id}{' new' if self.is_new else ''}>"


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


# SQLite: an FTS5 trigram index of the search key, kept in step with users by triggers (`flask users rename` changes a
# key, `flask users delete` removes one). The same DDL as migration 0003, for create_all() in tests.
SQLITE_SEARCH_DDL = (
    "CREATE VIRTUAL TABLE users_search USING fts5(search_key, content='users', content_rowid='id', "
    "tokenize='trigram case_sensitive 1')",
    "CREATE TRIGGER users_search_insert AFTER INSERT ON users BEGIN "
    "INSERT INTO users_search(rowid, search_key) VALUES (new.id, new.search_key); END",
    "CREATE TRIGGER users_search_delete AFTER DELETE ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); END",
    "CREATE TRIGGER users_search_update AFTER UPDATE OF search_key ON users BEGIN "
    "INSERT INTO users_search(users_search, rowid, search_key) VALUES ('delete', old.id, old.search_key); "
    "INSERT INTO users_search(rowid, search_key) VALUES (new.id, new.search_key); END",
)


# SQLite's twin of the grams index, for keys too short for trigrams: an FTS5 table of each key's characters and pairs,
# hex-encoded so that any character (a space, %, a quote) makes a plain token of the ascii tokenizer. Triggers keep
# it, reading positions 1..SEARCH_KEY_MAX_LENGTH from a table of them (a trigger may not hold a WITH). The same DDL as
# migration 0007.
GRAMS_TABLE = "users_search_grams"
SQLITE_GRAMS_OF = ("(SELECT group_concat(hex(substr({key}, n, 1)) || ' ' || hex(substr({key}, n, 2)), ' ') "
                   "FROM users_search_positions WHERE n <= length({key}))")
SQLITE_GRAMS_DDL = (
    "CREATE TABLE users_search_positions (n INTEGER PRIMARY KEY)",
    "WITH RECURSIVE counted(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counted WHERE n < "
    f"{SEARCH_KEY_MAX_LENGTH}) INSERT INTO users_search_positions SELECT n FROM counted",
    f"CREATE VIRTUAL TABLE {GRAMS_TABLE} USING fts5(grams, content='', detail=none, tokenize='ascii')",
    f"CREATE TRIGGER users_search_grams_insert AFTER INSERT ON users BEGIN INSERT INTO {GRAMS_TABLE}(rowid, grams) "
    f"VALUES (new.id, {SQLITE_GRAMS_OF.format(key='new.search_key')}); END",
    f"CREATE TRIGGER users_search_grams_delete AFTER DELETE ON users BEGIN INSERT INTO {GRAMS_TABLE}({GRAMS_TABLE}, "
    f"rowid, grams) VALUES ('delete', old.id, {SQLITE_GRAMS_OF.format(key='old.search_key')}); END",
    f"CREATE TRIGGER users_search_grams_update AFTER UPDATE OF search_key ON users BEGIN INSERT INTO {GRAMS_TABLE}("
    f"{GRAMS_TABLE}, rowid, grams) VALUES ('delete', old.id, {SQLITE_GRAMS_OF.format(key='old.search_key')}); "
    f"INSERT INTO {GRAMS_TABLE}(rowid, grams) VALUES (new.id, {SQLITE_GRAMS_OF.format(key='new.search_key')}); END",
)


def compared_by_migrations(obj, name, type_, reflected, compare_to):
    """Tell Alembic's comparison what the metadata describes alike on both databases: not SQLite's search tables
    (made by DDL) nor the PostgreSQL-only trigram and grams indexes, which it would report missing on SQLite."""
    search_table = type_ == "table" and name.startswith(SEARCH_TABLE_PREFIX)
    return not (search_table or (type_ == "index" and name in (TRIGRAM_INDEX, GRAMS_INDEX)))

for statement in (*SQLITE_SEARCH_DDL, *SQLITE_GRAMS_DDL):
    event.listen(User.__table__, "after_create", DDL(statement).execute_if(dialect="sqlite"))
for name in ("users_search", GRAMS_TABLE, "users_search_positions"):
    event.listen(User.__table__, "after_drop", DDL(f"DROP TABLE IF EXISTS {name}").execute_if(dialect="sqlite"))
event.listen(User.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
event.listen(User.__table__, "before_create", DDL(GRAMS_FUNCTION_DDL).execute_if(dialect="postgresql"))
event.listen(User.__table__, "after_create", DDL(GRAMS_INDEX_DDL).execute_if(dialect="postgresql"))
event.listen(User.__table__, "after_drop",
             DDL("DROP FUNCTION IF EXISTS flasky_search_grams(text)").execute_if(dialect="postgresql"))
event.listen(Role.__table__, "after_create", DDL(
    "INSERT INTO roles (name) VALUES " + ", ".join(f"('{name}')" for name in Role.NAMES)))
