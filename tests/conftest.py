"""Shared fixtures: an app on a fresh database (SQLite and PostgreSQL), its htmx-aware client, a real SMTP server."""

import asyncio
import email
import email.policy
import os
import threading

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from flasky import create_app
from flasky.extensions import db as _db
from flasky.models import OutboxMessage, User
from flasky.outbox import DELIVERY_KEY
from flasky.outbox.worker import Worker
from flasky.testing import HtmxClient, free_port
from tests.postgres import PostgresCluster, PostgresUnavailable

# Every test that uses a database runs once per backend, unless TEST_DATABASE_URL pins one.
BACKENDS = ["custom"] if os.environ.get("TEST_DATABASE_URL") else ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the whole run; its absence fails the tests, never skips them."""
    try:
        cluster = PostgresCluster()
        cluster.init().start()
    except PostgresUnavailable as error:
        pytest.fail(str(error), pytrace=False)
    yield cluster
    cluster.cleanup()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """TEST_DATABASE_URL when given, else a fresh SQLite file, or the run's PostgreSQL database."""
    if request.param == "custom":
        return os.environ["TEST_DATABASE_URL"]
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'flasky.sqlite'}"
    return request.getfixturevalue("postgres").url()


@pytest.fixture(autouse=True)
def no_stray_mail_workers(monkeypatch):
    """Keep apps that tests build themselves from starting delivery threads; tests that want one ask for it."""
    monkeypatch.setenv("FLASKY_MAIL_WORKER", "false")


TERMINAL_LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LC_CTYPE", "LANG")


@pytest.fixture(autouse=True)
def terminal(monkeypatch):
    """Give every test an English (C.UTF-8) terminal whatever the developer's locale; a test may set it to another:
    terminal(LANG="zh_CN.UTF-8")."""

    def terminal(**variables):
        for name in TERMINAL_LOCALE_VARIABLES:
            monkeypatch.delenv(name, raising=False)
        for name, value in variables.items():
            monkeypatch.setenv(name, value)

    terminal(LANG="C.UTF-8")
    return terminal


@pytest.fixture
def app_overrides():
    """Settings a test module or test can override for its app."""
    return {}


@pytest.fixture
def errors_reach_handlers(app_overrides):
    """Let unhandled exceptions reach the 500 handler, as in production, instead of the test."""
    app_overrides["PROPAGATE_EXCEPTIONS"] = False


@pytest.fixture
def make_app():
    """Build apps as flaskr's tests do, create_app(config, **test_config); stop and close each one afterwards."""
    made = []

    def make_app(config_name="testing", *, create_tables=False, **overrides):
        app = create_app(config_name, **overrides)
        app.test_client_class = HtmxClient
        if create_tables:
            with app.app_context():
                _db.create_all()
        made.append(app)
        return app

    yield make_app
    for app in made:
        stop_delivery_thread(app)
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture
def app(make_app, database_url, app_overrides):
    """A testing app whose tables exist for the duration of one test."""
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url, create_tables=True, **app_overrides)
    yield app
    stop_delivery_thread(app)  # before its tables go
    with app.app_context():
        _db.session.remove()
        _db.drop_all()


def stop_delivery_thread(app):
    """Stop the app's mail delivery thread, if it runs one."""
    worker = app.extensions.get(DELIVERY_KEY)
    if isinstance(worker, Worker):
        worker.stop()


@pytest.fixture
def db(app):
    """The database inside an app context, for tests that send no requests (requests would share its `g`)."""
    with app.app_context():
        yield _db


@pytest.fixture
def stored_rows(app):
    """Return a function listing a model's stored rows in id order, read in an app context of its own."""

    def stored_rows(model):
        with app.app_context():
            rows = _db.session.scalars(select(model).order_by(model.id)).all()
            _db.session.expunge_all()
            return rows

    return stored_rows


@pytest.fixture
def stored_users(stored_rows):
    """Return a function listing the stored users."""
    return lambda: stored_rows(User)


@pytest.fixture
def outbox(stored_rows):
    """Return a function listing the outbox rows."""
    return lambda: stored_rows(OutboxMessage)


@pytest.fixture
def usernames(stored_users):
    """Return a function listing the stored usernames."""
    return lambda: [user.username for user in stored_users()]


@pytest.fixture
def client(app):
    """An HtmxClient for the app (plain requests, hx_get/hx_post, submit, response.soup)."""
    return app.test_client()


@pytest.fixture
def index(client):
    """The index page as a first-time visitor sees it."""
    return client.get("/")


@pytest.fixture
def greet(client, index):
    """Submit a name through the index form, as a plain browser (htmx=False) or as htmx."""

    def greet(name, *, htmx=False):
        return client.submit(index, "#name-form", htmx=htmx, name=name)

    return greet


class Mailbox:
    """An aiosmtpd handler that keeps what it receives; it can refuse, or hold messages until released."""

    def __init__(self):
        self.messages = []
        self.reply = None
        self.hold = None
        self.holding = threading.Event()
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        if self.hold is not None:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 30)
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count, timeout=15):
        """Wait until at least `count` messages arrived (bounded); return all of them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


class SMTPServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self, port):
        self.port = port
        self.mailbox = Mailbox()
        self.controller = None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server():
    """A running SMTP server; `.mailbox` holds what it received."""
    server = SMTPServer(free_port()).start()
    yield server
    if server.mailbox.hold is not None:
        server.mailbox.hold.set()
    server.stop()


@pytest.fixture
def mail_settings(smtp_server):
    """App settings that send admin mail to the test SMTP server."""
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": smtp_server.port,
        "MAIL_USE_TLS": False,
        "MAIL_TIMEOUT": 5.0,
        "FLASKY_ADMIN": "admin@example.com",
        "FLASKY_BASE_URL": "https://flasky.example.com",
    }
