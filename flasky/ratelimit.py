"""Rate limits (Flask-Limiter) that cost nothing on the requests no limit applies to, counted in one storage that all
processes share (REDIS_URL), or in each process's memory, alone."""

import logging
from urllib.parse import urlsplit

from flask import current_app, request
from flask.logging import default_handler
from flask_limiter.constants import ConfigVars
from limits.errors import ConfigurationError

from .config import StartupError
from .extensions import limiter

# Settings that put a limit on every route (or, for the fallback, on every route while the storage is down).
APP_WIDE_LIMITS = (ConfigVars.DEFAULT_LIMITS, ConfigVars.APPLICATION_LIMITS, ConfigVars.META_LIMITS,
                   ConfigVars.IN_MEMORY_FALLBACK)
APP_WIDE_KEY = "flasky.app_wide_limits"
# Flask-Limiter's line when its storage answers again after a fallback to memory.
STORAGE_RECOVERED = "Rate limit storage recovered"
# Storage schemes of limits' Redis storages, whose client takes redis-py's socket timeouts.
REDIS_SCHEMES = frozenset({"redis", "rediss", "redis+unix", "redis+cluster", "redis+sentinel", "valkey", "valkeys",
                           "valkey+unix", "valkey+cluster", "valkey+sentinel"})


def rate_limit(limit_value):
    """Limit a view with Flask-Limiter, and mark it so that no_limit_applies() never skips it."""

    def decorate(view):
        limited = limiter.limit(limit_value)(view)
        limited.rate_limited = True
        return limited

    return decorate


@limiter.request_filter
def no_limit_applies():
    """Skip the limiter's work (about half of its ~45 µs per request) unless an app-wide or view limit applies."""
    if current_app.extensions[APP_WIDE_KEY]:
        return False
    view = current_app.view_functions.get(request.endpoint)
    return not getattr(view, "rate_limited", False)


def init_app(app):
    """Attach the limiter to the storage the settings name (RATELIMIT_STORAGE_URI, else REDIS_URL, else memory), noting
    whether the operator set limits for every route (RATELIMIT_DEFAULT and the like)."""
    config = app.config
    config["RATELIMIT_STORAGE_URI"] = config.get("RATELIMIT_STORAGE_URI") or config.get("REDIS_URL") or "memory://"
    if storage_scheme(app) in REDIS_SCHEMES and not config.get(ConfigVars.STORAGE_OPTIONS):
        timeout = config["REDIS_TIMEOUT"]
        config[ConfigVars.STORAGE_OPTIONS] = {"socket_connect_timeout": timeout, "socket_timeout": timeout}
    try:
        limiter.init_app(app)
    except ConfigurationError as error:  # a scheme limits does not know, or its client missing: one line, no URL
        uri = config["RATELIMIT_STORAGE_URI"]
        variable = "REDIS_URL" if uri == config.get("REDIS_URL") else "RATELIMIT_STORAGE_URI"
        reason = str(error).replace(uri, f"a {storage_scheme(app)!r} URL")
        raise StartupError(f"{variable} is not a storage the rate limits can use: {reason} (give one like "
                           "redis://host:6379/0)") from None
    app.extensions[APP_WIDE_KEY] = any(config.get(name) for name in APP_WIDE_LIMITS)
    show_limiter_log()


def show_limiter_log():
    """Let Flask-Limiter's news of its storage reach the log as the app's lines do: failing over to memory (a
    warning), and recovering (its one INFO line worth showing)."""
    limiter_log = logging.getLogger("flask-limiter")
    if limiter_log.level == logging.NOTSET:
        limiter_log.setLevel(logging.INFO)
    limiter_log.addFilter(storage_news_only)  # once: a logger keeps one of each filter
    if not writes_somewhere(limiter_log):
        limiter_log.addHandler(default_handler)


def writes_somewhere(logger):
    """Tell whether a logger's records reach a handler that writes them (Flask's has_level_handler() would count the
    NullHandler that Flask-Limiter gives its logger)."""
    while logger:
        if any(not isinstance(handler, logging.NullHandler) for handler in logger.handlers):
            return True
        logger = logger.parent if logger.propagate else None
    return False


def storage_news_only(record):
    """Keep Flask-Limiter's warnings and its storage's recovery; drop its INFO line per refused request (a flood's
    worth, each naming the client's address)."""
    return record.levelno >= logging.WARNING or record.msg == STORAGE_RECOVERED


def storage_scheme(app):
    """Name the limiter's storage by its URI's scheme (memory, redis ...), never the URI: it may hold a password."""
    return urlsplit(app.config["RATELIMIT_STORAGE_URI"]).scheme


def storage_health(app):
    """Describe the limits' storage for /healthz: its kind, whether all processes count together now, and whether it
    answers (one PING, within REDIS_TIMEOUT) or each process counts alone until it does."""
    if not app.config["RATELIMIT_ENABLED"]:
        return {"storage": None, "shared": False, "status": "off"}
    scheme = storage_scheme(app)
    if scheme == "memory":
        return {"storage": scheme, "shared": False, "status": "ok"}
    # Flask-Limiter 4.1 has no public flag for "counting in the fallback"; its own recovery check clears this one.
    answering = not getattr(limiter, "_storage_dead", False) and limiter.storage.check()
    return {"storage": scheme, "shared": answering, "status": "ok" if answering else "fallback"}


def unshared_limits_warning(app, workers):
    """Say why limits counted in memory by each of several worker processes let several times as many through, or
    return None when they do not (one worker, a shared storage, limits off)."""
    config = getattr(app, "config", {})  # the README's worker may serve another WSGI app, without a limiter
    if workers < 2 or not config.get("RATELIMIT_ENABLED") or storage_scheme(app) != "memory":
        return None
    return (f"Rate limits are counted by each of the {workers} worker processes alone (RATELIMIT_STORAGE_URI is "
            f"memory://), so they let {workers} times as many requests through (and more with several nodes): set "
            "REDIS_URL (or RATELIMIT_STORAGE_URI) to a Redis that all of them share")
