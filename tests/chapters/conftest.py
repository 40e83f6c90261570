"""Fixtures of the chapters' tests: a test client of the module's step (its STEP), and each language in turn."""

import pytest

from tests.chapters.helpers import LANGUAGES, step_app


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
