"""Fixtures of the chapters' tests: a test client of the module's step (its STEP), each language in turn, and what
ch05 and ch06 read from the environment when they are imported (a temporary database, a real SMTP server)."""

import pytest

from flasky.testing import free_port
from tests.chapters.helpers import ADMIN, LANGUAGES, forget_names, step_app, upgraded
from tests.smtp_sink import SMTPServer


@pytest.fixture(params=list(LANGUAGES))
def language(request):
    """Each Accept-Language in turn: English, then Chinese."""
    return request.param


@pytest.fixture
def app(request):
    """The app of the step the test module names in STEP."""
    return step_app(request.module.STEP)


@pytest.fixture
def client(app):
    """A test client of the step's app."""
    return app.test_client()


@pytest.fixture(scope="session")
def smtp_sink():
    """A real SMTP server (aiosmtpd) on 127.0.0.1 for ch06's mail."""
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
        "FLASKY_ADMIN": ADMIN,
    }


@pytest.fixture(scope="module")
def step(request, step_environment):
    """The module of the step the test module names (ch05, ch06), on the temporary database at its migrations' head."""
    return upgraded(request.module.STEP, step_environment)


@pytest.fixture
def database_app(step):
    """The step's app; the names it stored are gone after each test."""
    yield step.app
    forget_names(step)
