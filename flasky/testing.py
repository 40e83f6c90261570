"""Test helpers for Flasky: pytest_htmx's client, soup helpers and servers, with Flasky's production settings.

The generic parts live in the pytest_htmx package (docs/testing-htmx.md); their names stay importable from here::

    app.test_client_class = HtmxClient
    client = app.test_client()
    page = client.get("/")                      # a plain browser request
    page.soup.select_one("#greeting")           # BeautifulSoup of the response
    swap = client.submit(page, "#name-form", name="Bob", htmx=True)   # fill and send a form like htmx would
    client.hx_get("/user/Bob", boosted=True)    # a boosted navigation

And a real server, for the tests and bench/ alike::

    server = Gunicorn(env=settings, **PRODUCTION)   # gunicorn -k flasky.serving.StreamWorker ..., as the README says
    migrate(server.env)                         # flask --app flasky db upgrade, as the README deploys
    with server:
        page = requests.get(server.url("/"))
        text_of(page, "greeting")               # the soup helpers take `requests` responses too
"""

import os
import subprocess

from pytest_htmx import servers
from pytest_htmx.client import HtmxClient, SoupResponseMixin, soup_of, text_of
from pytest_htmx.servers import BIN, Server, free_port

__all__ = ["BIN", "PRODUCTION", "Gunicorn", "HtmxClient", "Server", "SoupResponseMixin", "free_port", "migrate",
           "soup_of", "text_of"]


def migrate(env):
    """Bring the database of these settings to the latest migration with `flask --app flasky db upgrade`."""
    # An app that only migrates has no mail to deliver.
    result = subprocess.run([str(BIN / "flask"), "--app", "flasky", "db", "upgrade"],
                            env={**os.environ, **env, "FLASKY_MAIL_WORKER": "false"},
                            capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"flask db upgrade exited with {result.returncode}:\n{result.stdout}{result.stderr}")


# The README's production command: flasky.serving's gevent workers, each serving up to this many connections at
# once, of which the live panel's streams may hold three quarters (FLASKY_LIVE_STREAM_SHARE): 2 x 3,000 streams.
# No keep-alive: gevent serves kept-alive connections unfairly under load (docs/performance.md, issue 22).
# Gunicorn(**PRODUCTION) starts it.
PRODUCTION = {"worker_class": "flasky.serving.StreamWorker", "workers": 2, "worker_connections": 4000, "keep_alive": 0}


class Gunicorn(servers.Gunicorn):
    """pytest_htmx's Gunicorn serving Flasky unless told otherwise. Gunicorn(**PRODUCTION) is the README's production
    command."""

    def __init__(self, target="flasky:create_app()", **options):
        super().__init__(target, **options)
