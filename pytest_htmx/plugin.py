"""pytest-htmx's fixtures, registered by the `htmx` pytest11 entry point (`-p no:htmx` turns them off).

Define an `app` fixture returning your Flask app (in conftest.py), then::

    def test_adding_a_todo_swaps_the_list(htmx_client):
        swap = htmx_client.hx_post("/todos", data={"title": "Milk"})
        assert_fragment(swap, "todo-list")

`htmx_client` is an HtmxClient (pytest_htmx.client) for `app`: your app's own test_client_class when that is an
HtmxClient subclass, else HtmxClient itself. Your conftest's fixtures of the same name win over this one, as pytest
ranks conftest fixtures above plugins'. This module imports nothing but pytest: Flask and BeautifulSoup load only
when a test asks for the fixture.
"""

import pytest


@pytest.fixture
def htmx_client(app):
    """An htmx-aware test client (hx_get, hx_post, submit, sse, response.soup) for the `app` fixture you define."""
    from .client import HtmxClient

    client_class = app.test_client_class
    if not (isinstance(client_class, type) and issubclass(client_class, HtmxClient)):
        client_class = HtmxClient
    return client_class(app, app.response_class, use_cookies=True)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Say what to define when htmx_client finds no `app` fixture, under pytest's own "fixture 'app' not found"."""
    report = yield
    # Matched on pytest's words, which 8.0 onwards print alike (pytest.FixtureLookupError is not public in all).
    if (call.when == "setup" and report.failed and "htmx_client" in getattr(item, "fixturenames", ())
            and "fixture 'app' not found" in str(report.longrepr)):
        report.sections.append(("pytest-htmx", "htmx_client needs an `app` fixture returning your Flask app; "
                                               "define one in your conftest.py, e.g.\n\n"
                                               "@pytest.fixture\ndef app():\n    return create_app()"))
    return report
