"""Configuration classes, read from the environment when the app is created (never at import)."""

import os

import click

from .i18n import LANGUAGES

# Keys that must never protect a production deployment: empty, our development default, the book's example.
INSECURE_SECRET_KEYS = frozenset({"", "dev", "secret", "changeme", "hard to guess string", "flasky-dev-key"})
MIN_SECRET_KEY_LENGTH = 32
# The live panel's settings and the least each may be (seconds must be more than nothing; it shows 10 greetings).
LIVE_MINIMUMS = {"FLASKY_LIVE_STREAMS": 0, "FLASKY_LIVE_STREAM_SECONDS": 0.01, "FLASKY_LIVE_HEARTBEAT_SECONDS": 0.01,
                 "FLASKY_LIVE_POLL_SECONDS": 1, "FLASKY_LIVE_TAIL_SECONDS": 0.01, "FLASKY_LIVE_WAKEUP_POLL_SECONDS": 0.01,
                 "FLASKY_LIVE_KEEP_EVENTS": 10, "FLASKY_LIVE_MAX_EVENTS": 0, "FLASKY_LIVE_SERVER_SLOTS": 0,
                 "FLASKY_LIVE_STREAM_SHARE": 0, "FLASKY_LIVE_PAGE_SLOTS": 1}


def env_str(name, default=None):
    """Read a string setting, treating an empty value as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


def env_int(name, default):
    """Read a whole-number setting, refusing junk with a message that names the variable."""
    return _env_parsed(name, default, int, "a whole number")


def env_float(name, default):
    """Read a number of seconds (or any decimal), refusing junk with a message that names the variable."""
    return _env_parsed(name, default, float, "a number")


def _env_parsed(name, default, parse, what):
    value = env_str(name)
    if value is None:
        return default
    try:
        return parse(value)
    except ValueError:
        raise StartupError(f"{name} must be {what}, not {value!r}") from None


def env_bool(name, default=False):
    """Read a boolean setting: 1/true/yes/on are true, 0/false/no/off are false."""
    value = env_str(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise StartupError(f"{name} must be true or false, not {value!r}")


def env_list(name, default=None):
    """Read a comma-separated list, dropping blanks; unset gives the default."""
    value = env_str(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


class StartupError(click.ClickException):
    """A setting the app cannot start with, said in one line: `flask` prints it without a traceback (a
    ClickException), and flasky.serving's gunicorn worker as the reason the app failed to load."""


class Config:
    """Settings shared by every environment.

    Each setting can come in three ways; create_app() applies them in this order, so the later one wins:
    the book-style variable read here (SECRET_KEY, MAIL_SERVER, DATABASE_URL ...; else the default written here),
    then FLASK_<KEY> (Flask's from_prefixed_env(), values parsed as JSON where they can be), then the keyword
    overrides given to create_app(). FLASK_SECRET_KEY=x thus beats SECRET_KEY=y, and a test's override beats both.
    """

    SQLALCHEMY_TRACK_MODIFICATIONS = False
    # A name form needs a few KB; anything bigger is refused with a 413 page.
    MAX_CONTENT_LENGTH = 64 * 1024
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # Static URLs carry a hash of the file (assets.static_url), so browsers may keep them for a year.
    SEND_FILE_MAX_AGE_DEFAULT = 365 * 24 * 3600
    # What a 503 asks clients to wait, in seconds, when the database is unreachable.
    DATABASE_RETRY_AFTER = 30
    # The variable that sets this configuration's database, for messages about it.
    DATABASE_URL_VARIABLE = "DATABASE_URL"

    def __init__(self):
        self.SECRET_KEY = env_str("SECRET_KEY", "flasky-dev-key")
        # How long a SQLite writer waits for another one's lock before giving up ("database is locked").
        self.SQLITE_BUSY_TIMEOUT_MS = env_int("SQLITE_BUSY_TIMEOUT_MS", 15000)
        # Host names the app answers to (None: any); others get a 400. ".example.com" also allows subdomains.
        self.TRUSTED_HOSTS = env_list("TRUSTED_HOSTS")
        # How many proxies in front set each X-Forwarded-* header (0: not trusted), for werkzeug's ProxyFix.
        for header in ("FOR", "PROTO", "HOST", "PORT", "PREFIX"):
            setattr(self, f"PROXY_FIX_X_{header}", env_int(f"PROXY_FIX_X_{header}", 0))
        # The one Redis of a deployment of several nodes: the rate limits they count together, and the live feed's
        # wake-ups. None: each process counts alone.
        self.REDIS_URL = env_str("REDIS_URL")
        # Seconds the app waits for Redis to connect or answer: a dead Redis must not hold a request up for long.
        self.REDIS_TIMEOUT = env_float("REDIS_TIMEOUT", 0.5)
        self.RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
        # None: REDIS_URL when set, else memory:// (flasky.ratelimit.init_app decides, after FLASK_* and overrides).
        self.RATELIMIT_STORAGE_URI = env_str("RATELIMIT_STORAGE_URI")
        # While the storage is down, count the same limits in each process's memory; the limiter retries it now and
        # then and goes back to it by itself.
        self.RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = env_bool("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED", True)
        self.RATELIMIT_NAME_FORM = env_str("RATELIMIT_NAME_FORM", "20 per minute; 200 per hour")
        self.MAIL_SERVER = env_str("MAIL_SERVER")
        self.MAIL_PORT = env_int("MAIL_PORT", 587)
        self.MAIL_USE_TLS = env_bool("MAIL_USE_TLS", True)
        self.MAIL_USE_SSL = env_bool("MAIL_USE_SSL", False)
        self.MAIL_USERNAME = env_str("MAIL_USERNAME")
        self.MAIL_PASSWORD = env_str("MAIL_PASSWORD")
        self.FLASKY_ADMIN = env_str("FLASKY_ADMIN")
        # The language of the admin's mail: a catalog code (en, zh).
        self.FLASKY_ADMIN_LOCALE = env_str("FLASKY_ADMIN_LOCALE", "en")
        # The visitors directory at /users (off: a 404, and no navbar link), for sites that would rather not list names.
        self.FLASKY_DIRECTORY = env_bool("FLASKY_DIRECTORY", True)
        self.FLASKY_MAIL_SUBJECT_PREFIX = os.environ.get("FLASKY_MAIL_SUBJECT_PREFIX", "[Flasky] ")
        self.FLASKY_MAIL_SENDER = env_str("FLASKY_MAIL_SENDER", "Flasky Admin <flasky@example.com>")
        self.MAIL_DEFAULT_SENDER = self.FLASKY_MAIL_SENDER
        # Flask-Mail would suppress sending under TESTING; delivery is ours to decide (no MAIL_SERVER: the log).
        self.MAIL_SUPPRESS_SEND = False
        self.MAIL_TIMEOUT = env_float("MAIL_TIMEOUT", 10.0)
        # Links in mail are built from this, never from a request's Host header.
        self.FLASKY_BASE_URL = env_str("FLASKY_BASE_URL", "http://127.0.0.1:5000")
        self.FLASKY_MAIL_WORKER = env_bool("FLASKY_MAIL_WORKER", True)
        self.FLASKY_MAIL_POLL_SECONDS = env_float("FLASKY_MAIL_POLL_SECONDS", 5.0)
        self.FLASKY_MAIL_RETRY_BASE = env_float("FLASKY_MAIL_RETRY_BASE", 2.0)
        self.FLASKY_MAIL_RETRY_MAX = env_float("FLASKY_MAIL_RETRY_MAX", 60.0)
        self.FLASKY_MAIL_MAX_ATTEMPTS = env_int("FLASKY_MAIL_MAX_ATTEMPTS", 30)
        self.FLASKY_MAIL_LEASE_SECONDS = env_float("FLASKY_MAIL_LEASE_SECONDS", 120.0)
        self.FLASKY_MAIL_BATCH = env_int("FLASKY_MAIL_BATCH", 200)
        # Flood guard: past this many admin notes per window, the rest arrive as one digest mail.
        self.FLASKY_MAIL_DIGEST_LIMIT = env_int("FLASKY_MAIL_DIGEST_LIMIT", 5)
        self.FLASKY_MAIL_DIGEST_WINDOW = env_float("FLASKY_MAIL_DIGEST_WINDOW", 600.0)
        self.CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
        # The home page's live "Recently greeted" panel and its event stream (off: no panel, the routes 404).
        self.FLASKY_LIVE_FEED = env_bool("FLASKY_LIVE_FEED", True)
        # Which servers hold streams, and how many (flasky/live/capacity.py): the most a process holds whatever its
        # server; the threads of a threaded server that does not say (0: unknown, it holds none); the share of its
        # slots streams may take; and the slots always left to pages. Past them a stream answers 503 and pages poll.
        self.FLASKY_LIVE_STREAMS = env_int("FLASKY_LIVE_STREAMS", 10000)
        self.FLASKY_LIVE_SERVER_SLOTS = env_int("FLASKY_LIVE_SERVER_SLOTS", 0)
        self.FLASKY_LIVE_STREAM_SHARE = env_float("FLASKY_LIVE_STREAM_SHARE", 0.75)
        self.FLASKY_LIVE_PAGE_SLOTS = env_int("FLASKY_LIVE_PAGE_SLOTS", 8)
        self.FLASKY_LIVE_STREAM_SECONDS = env_float("FLASKY_LIVE_STREAM_SECONDS", 300.0)
        self.FLASKY_LIVE_HEARTBEAT_SECONDS = env_float("FLASKY_LIVE_HEARTBEAT_SECONDS", 15.0)
        # How often a page whose stream was refused (or an old browser) asks for the panel instead.
        self.FLASKY_LIVE_POLL_SECONDS = env_int("FLASKY_LIVE_POLL_SECONDS", 12)
        # How often each process looks for new greeting events (one query per process, whatever its streams).
        self.FLASKY_LIVE_TAIL_SECONDS = env_float("FLASKY_LIVE_TAIL_SECONDS", 0.5)
        # With REDIS_URL, a committed greeting wakes every process's tailer instead (flasky/live/wakeup.py), which then
        # reads the table only on a wake-up or every FLASKY_LIVE_WAKEUP_POLL_SECONDS, in case one was lost.
        self.FLASKY_LIVE_WAKEUPS = env_bool("FLASKY_LIVE_WAKEUPS", True)
        self.FLASKY_LIVE_WAKEUP_POLL_SECONDS = env_float("FLASKY_LIVE_WAKEUP_POLL_SECONDS", 30.0)
        # Greeting events kept (every 100th greeting drops older ones; `flask live prune` does it on demand).
        self.FLASKY_LIVE_KEEP_EVENTS = env_int("FLASKY_LIVE_KEEP_EVENTS", 1000)
        # Tests only: end a stream after this many events (0: no limit).
        self.FLASKY_LIVE_MAX_EVENTS = env_int("FLASKY_LIVE_MAX_EVENTS", 0)
        # The development exchange inspector (flasky/inspector/): a panel on every page listing the tab's last
        # requests, what chose each answer and what was rendered. Development turns it on; production refuses it.
        self.FLASKY_INSPECTOR = env_bool("FLASKY_INSPECTOR", False)

    def check(self, config):
        """Refuse settings the app cannot work with: a mail language it has no catalog for."""
        if config.get("FLASKY_ADMIN_LOCALE") not in LANGUAGES:
            choices = ", ".join(LANGUAGES)
            raise StartupError(f"FLASKY_ADMIN_LOCALE must be one of {choices}, not {config.get('FLASKY_ADMIN_LOCALE')!r}")
        for name, lowest in LIVE_MINIMUMS.items():
            if not config.get(name, lowest) >= lowest:
                raise StartupError(f"{name} must be at least {lowest}, not {config.get(name)!r}")
        if not config.get("REDIS_TIMEOUT", 1) > 0:
            raise StartupError(f"REDIS_TIMEOUT must be more than 0 seconds, not {config.get('REDIS_TIMEOUT')!r}")
        if not config.get("FLASKY_LIVE_STREAM_SHARE", 0) <= 1:
            raise StartupError(f"FLASKY_LIVE_STREAM_SHARE must be at most 1, not {config.get('FLASKY_LIVE_STREAM_SHARE')!r}")


class DevelopmentConfig(Config):
    """Local development: debug on, SQLite file in the instance folder."""

    DEBUG = True
    DATABASE_URL_VARIABLE = "DEV_DATABASE_URL"

    def __init__(self):
        super().__init__()
        self.SQLALCHEMY_DATABASE_URI = env_str("DEV_DATABASE_URL", "sqlite:///data-dev.sqlite")
        self.FLASKY_INSPECTOR = env_bool("FLASKY_INSPECTOR", True)


class TestingConfig(Config):
    """The test suite: fixed secret, in-memory SQLite unless TEST_DATABASE_URL is given."""

    TESTING = True
    DATABASE_URL_VARIABLE = "TEST_DATABASE_URL"

    def __init__(self):
        super().__init__()
        self.SECRET_KEY = "testing-secret-key-not-for-production"
        self.FLASKY_MAIL_WORKER = env_bool("FLASKY_MAIL_WORKER", False)
        # Tests of the rate limit turn it back on.
        self.RATELIMIT_ENABLED = False
        # Whatever the environment says; the contract walk turns it on to walk the inspector's route and panel.
        self.FLASKY_INSPECTOR = False
        self.SQLALCHEMY_DATABASE_URI = env_str("TEST_DATABASE_URL", "sqlite://")


class ProductionConfig(Config):
    """Serving real users: no debug, and a secret key that is really secret."""

    DEBUG = False
    SESSION_COOKIE_SECURE = True

    def __init__(self):
        super().__init__()
        self.SECRET_KEY = env_str("SECRET_KEY")
        self.SQLALCHEMY_DATABASE_URI = env_str("DATABASE_URL", "sqlite:///data.sqlite")
        self.FLASKY_BASE_URL = env_str("FLASKY_BASE_URL")

    def check(self, config):
        """Refuse to start production with a missing, short or well-known SECRET_KEY, or with debug or the
        exchange inspector on."""
        super().check(config)
        key = config.get("SECRET_KEY") or ""
        if key.strip().lower() in INSECURE_SECRET_KEYS or len(key) < MIN_SECRET_KEY_LENGTH:
            raise StartupError(
                "SECRET_KEY is missing, shorter than "
                f"{MIN_SECRET_KEY_LENGTH} characters or a well-known default: set SECRET_KEY to a long random "
                "value, e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(48))'"
            )
        if config.get("DEBUG"):
            raise StartupError("DEBUG must be off in production: unset FLASK_DEBUG.")
        if config.get("FLASKY_INSPECTOR"):
            raise StartupError("FLASKY_INSPECTOR must be off in production: the exchange inspector is a development "
                               "tool that records every request. Unset FLASKY_INSPECTOR and FLASK_FLASKY_INSPECTOR.")
        if config.get("FLASKY_ADMIN") and not config.get("FLASKY_BASE_URL"):
            raise StartupError("FLASKY_BASE_URL must be set (e.g. https://flasky.example.com) for links in admin mail.")


config = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
    "default": DevelopmentConfig,
}
