"""A newcomer's conftest.py for the to-do app: the `app` fixture pytest-htmx's htmx_client asks for."""

import os

import pytest

from todo import create_app


@pytest.fixture
def app():
    """The to-do app, with the bugs TODO_BUGS names (comma-separated) switched on."""
    return create_app(bugs=tuple(filter(None, os.environ.get("TODO_BUGS", "").split(","))))
