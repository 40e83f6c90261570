"""Shared fixtures: an app on a fresh database (SQLite and PostgreSQL), its htmx-aware client, a real SMTP server,
and what the chapter steps ch05 and ch06 read from the environment (tests/chapters/, tests/browser/)."""

import os
from datetime import datetime, timedelta

import pytest
from sqlalchemy import event, insert, select

from flasky import create_app
from flasky.extensions import db as _db
from flasky.live.hub import stop_hub
from flasky.live.wakeup import current_wakeups
from flasky.models import OutboxMessage, Role, User
from flasky.outbox import DELIVERY_KEY
from flasky.outbox.worker import Worker
from flasky.testing import free_port
from flasky.text import search_key
from tests.chapters.helpers import ADMIN as CHAPTERS_ADMIN
from tests.postgres import PostgresCluster, PostgresUnavailable
from tests.smtp_sink import SMTPServer, running_smtp_server

# The shared helpers check pages too: pytest rewrites their asserts as it does the tests', for the same failure reports.
pytest.register_assert_rewrite("tests.helpers", "tests.browser.helpers")
from tests.helpers import ThreadedServerClient, create_schema, drop_schema, running_redis, wait_until  # noqa: E402  (after the rewrite is registered)

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
        """Build an app; with create_tables, its database has the models' schema at the migrations' head (dropped
        afterwards)."""
        app = create_app(config_name, **overrides)
        app.test_client_class = ThreadedServerClient
        if create_tables:
            with app.app_context():
                create_schema()
        made.append((app, create_tables))
        return app

    yield make_app
    for app, created_tables in made:
        stop_threads(app)
        if (wakeups := current_wakeups(app)) is not None:
            wakeups.close()  # its connection to Redis, if a greeting published on it
        with app.app_context():
            if created_tables:
                drop_schema()
            _db.session.remove()
            # One still lent now would go back to the old pool after dispose(), which nobody closes: psycopg's
            # "connection deleted while still open" in whichever test runs at the next collection. Name the test.
            pool = _db.engine.pool
            assert wait_until(lambda: getattr(pool, "checkedout", lambda: 0)() == 0, 5), \
                "a database connection is still lent out as the app is thrown away (a response or thread left open)"
            _db.engine.dispose()


@pytest.fixture
def app(make_app, database_url, app_overrides):
    """A testing app whose tables exist for the duration of one test."""
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url, create_tables=True, **app_overrides)
    yield app
    stop_threads(app)  # before its tables go
    with app.app_context():
        drop_schema()


def stop_threads(app):
    """Stop the app's background threads before its tables and engine go: its mail delivery thread, if it runs one,
    and the live panel's tailer (a read still running at engine.dispose() would give its connection back to the old
    pool, which nobody closes: psycopg's "connection deleted while still open" in a later test)."""
    worker = app.extensions.get(DELIVERY_KEY)
    if isinstance(worker, Worker):
        worker.stop()
    assert stop_hub(app), "the live panel's tailer did not end within 5 s of its hub's closing"


@pytest.fixture
def db(app):
    """The database inside an app context, for tests that send no requests (requests would share its `g`)."""
    with app.app_context():
        yield _db


@pytest.fixture
def statements(app):
    """Record the SQL statements the app sends while a test runs."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


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


@pytest.fixture
def met(app):
    """Store names as if met one minute apart (the first given is the most recently seen), with roles."""

    def met(names, roles=None):
        start = datetime(2026, 1, 1)
        with app.app_context():
            role_ids = dict(_db.session.execute(select(Role.name, Role.id)).all())
            rows = [{"username": name, "search_key": search_key(name),
                     "role_id": role_ids[(roles or {}).get(name, Role.DEFAULT)],
                     "first_seen": start - timedelta(days=1),
                     "last_seen": start - timedelta(minutes=number)} for number, name in enumerate(names)]
            _db.session.execute(insert(User), rows)
            _db.session.commit()

    return met


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on 127.0.0.1 (a RedisServer), which the test may stop and start again; stopped after."""
    with running_redis(tmp_path) as server:
        yield server


@pytest.fixture
def redis_url(redis_server):
    """The URL of a real redis-server on 127.0.0.1, started and stopped by the test."""
    return redis_server.url


@pytest.fixture
def smtp_server():
    """A running SMTP server; `.mailbox` holds what it received."""
    with running_smtp_server() as server:
        yield server


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


@pytest.fixture(scope="session")
def smtp_sink():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for the chapter steps' mail (ch06)."""
    server = SMTPServer(free_port()).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def step_environment(tmp_path_factory, smtp_sink):
    """What ch05 and ch06 read from the environment when first imported: a temporary SQLite file, the SMTP sink, the
    admin (set only while they are imported, so no other test sees it)."""
    return {
        "CHAPTERS_DATABASE_URL": f"sqlite:///{tmp_path_factory.mktemp('chapters') / 'chapters.sqlite'}",
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(smtp_sink.port),
        "MAIL_USE_TLS": "false",
        "FLASKY_ADMIN": CHAPTERS_ADMIN,
    }
