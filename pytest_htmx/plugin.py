"""pytest-htmx's fixtures, registered by the `htmx` pytest11 entry point (`-p no:htmx` turns them off).

Define an `app` fixture returning your Flask app (in conftest.py), then::

    def test_adding_a_todo_swaps_the_list(htmx_client):
        swap = htmx_client.hx_post("/todos", data={"title": "Milk"})
        assert_fragment(swap, "todo-list")

`htmx_client` is an HtmxClient (pytest_htmx.client) for `app`: your app's own test_client_class when that is an
HtmxClient subclass, else HtmxClient itself. `htmx_server` starts real gunicorn servers (pytest_htmx.servers) and
stops them after the test::

    def test_the_page_through_gunicorn(htmx_server):
        server = htmx_server("myapp:create_app()", workers=2, ready_path="/")
        assert_full_page(requests.get(server.url("/")))

Your conftest's fixtures of the same names win over these, as pytest ranks conftest fixtures above plugins'. This
module imports nothing but pytest: Flask and BeautifulSoup load only when a test asks for a fixture.
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


@pytest.fixture
def htmx_server():
    """Start real gunicorn servers on 127.0.0.1 for this test, stopped after it:
    htmx_server("myapp:create_app()", workers=2, ready_path="/") returns a running pytest_htmx.Gunicorn."""
    from .servers import Gunicorn

    started = []

    def start(target, **options):
        server = Gunicorn(target, **options)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


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
