"""Flasky: the greeting app of Flask Web Development, answering full pages or htmx fragments."""

import logging
import os
from pathlib import Path

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from . import assets, caching, cli, database, hypermedia, i18n, outbox, ratelimit, schema, security, templating
from .config import StartupError, config
from .sessions import SessionInterface
from .extensions import babel, db, htmx, mail, migrate, moment

PACKAGE_DIR = Path(__file__).resolve().parent
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


class Flasky(Flask):
    """Flask, minus its traceback log of unhandled exceptions (the 500 handler logs one line), plus gzip'd statics."""

    def log_exception(self, exc_info):
        """Leave the logging of an unhandled exception to flasky.main.errors."""

    def send_static_file(self, filename):
        """Serve a static file, pre-compressed where the vendored file has a .gz sibling."""
        return assets.send_static_file(self, filename)


def create_app(config_name=None, **overrides):
    """Build the app for a named configuration (FLASK_CONFIG, else 'default'); keyword overrides win over all."""
    settings = _settings(config_name or os.environ.get("FLASK_CONFIG") or "default")
    root = resource_root()
    app = Flasky(__name__, static_folder=root / "static", template_folder=root / "templates")
    app.session_interface = SessionInterface()
    app.jinja_loader = ChoiceLoader(
        [FileSystemLoader(root / "templates"), PrefixLoader({"partials": FileSystemLoader(root / "partials")})]
    )

    app.config.from_object(settings)
    app.config.from_prefixed_env()
    app.config.update(overrides)
    settings.check(app.config)

    for extension in (db, mail, moment, htmx, ratelimit):
        extension.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    database.init_app(app)
    schema.init_app(app)
    hypermedia.init_app(app)
    assets.init_app(app)
    templating.init_app(app)
    caching.init_app(app)
    security.init_app(app)

    from .directory import bp as directory_blueprint
    from .health import bp as health_blueprint
    from .inspector import bp as inspector_blueprint
    from .live import bp as live_blueprint
    from .main import bp as main_blueprint

    app.register_blueprint(main_blueprint)
    app.register_blueprint(health_blueprint)
    if app.config["FLASKY_DIRECTORY"]:
        app.register_blueprint(directory_blueprint)
    if app.config["FLASKY_LIVE_FEED"]:
        app.register_blueprint(live_blueprint)  # with the feed's hub: its tailer thread starts with the first stream
    if app.config["FLASKY_INSPECTOR"]:
        app.register_blueprint(inspector_blueprint)  # with its store and recorder: off, none of it exists
    cli.init_app(app)
    configure_logging(app)
    outbox.init_app(app)  # last: it may start the delivery thread, which needs the finished app
    return app


def configure_logging(app):
    """Show the app's INFO lines (mail written to the log, delivery reports) unless logging says otherwise."""
    mail_logger = logging.getLogger("flasky.mail")
    if mail_logger.level == logging.NOTSET:
        mail_logger.setLevel(logging.INFO)
    app.logger  # noqa: B018  (creating it attaches Flask's stderr handler to "flasky", parent of "flasky.mail")


def resource_root():
    """Find templates/, partials/ and static/: inside the package when installed as a wheel, else beside it."""
    return PACKAGE_DIR if (PACKAGE_DIR / "templates").is_dir() else PACKAGE_DIR.parent


def _settings(config_name):
    """Instantiate the named configuration class, which reads the environment now."""
    try:
        return config[config_name]()
    except KeyError:
        names = ", ".join(sorted(config))
        raise StartupError(f"Unknown configuration {config_name!r}: choose one of {names}.") from None
