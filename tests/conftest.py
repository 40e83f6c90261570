"""Shared fixtures: an app on a fresh database (SQLite and PostgreSQL), its htmx-aware client, and the database."""

import os

import pytest
from sqlalchemy import select

from flasky import create_app
from flasky.extensions import db as _db
from flasky.models import User
from flasky.testing import HtmxClient
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


@pytest.fixture
def app_overrides():
    """Settings a test module or test can override for its app."""
    return {}


@pytest.fixture
def app(database_url, app_overrides):
    """A testing app whose tables exist for the duration of one test."""
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, **app_overrides)
    app.test_client_class = HtmxClient
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()
        _db.engine.dispose()


@pytest.fixture
def db(app):
    """The database inside an app context, for tests that send no requests (requests would share its `g`)."""
    with app.app_context():
        yield _db


@pytest.fixture
def stored_users(app):
    """Return a function listing the stored users, read in an app context of its own."""

    def stored_users():
        with app.app_context():
            users = _db.session.scalars(select(User).order_by(User.id)).all()
            _db.session.expunge_all()
            return users

    return stored_users


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
