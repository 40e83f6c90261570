"""Fixtures of the chapters' tests: a test client of the module's step (its STEP), each language in turn, and what
ch05 and ch06 at their migrations' head (what they read from the environment: tests/conftest.py step_environment)."""

import pytest

from tests.chapters.helpers import LANGUAGES, forget_names, step_app, upgraded


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


@pytest.fixture(scope="module")
def step(request, step_environment):
    """The module of the step the test module names (ch05, ch06), on the temporary database at its migrations' head."""
    return upgraded(request.module.STEP, step_environment)


@pytest.fixture
def database_app(step):
    """The step's app; the names it stored are gone after each test."""
    yield step.app
    forget_names(step)
