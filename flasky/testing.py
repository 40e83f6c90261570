"""Test helpers for Flasky: an htmx-aware test client whose responses parse themselves, and a real gunicorn server.

Use it as the app's test client class::

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

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from functools import cached_property
from pathlib import Path

from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient

BIN = Path(sys.executable).parent


def soup_of(response):
    """Parse a response's body as HTML: a Flask test response, or a `requests` one from a real server."""
    body = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return BeautifulSoup(body, "html.parser")


def text_of(page, element_id):
    """Return the white-space-normalised text of the element with this id in a soup or a response ('' when absent)."""
    element = (page if isinstance(page, Tag) else soup_of(page)).find(id=element_id)
    return " ".join(element.get_text().split()) if element else ""


class SoupResponseMixin:
    """Give a test response a parsed `.soup` and a `.fragment(id)` shortcut."""

    @cached_property
    def soup(self):
        """Parse the response body as HTML (once)."""
        return soup_of(self)

    def fragment(self, element_id):
        """Return the element with this id, or None."""
        return self.soup.find(id=element_id)

    def text_of(self, element_id):
        """Return the white-space-normalised text of the element with this id ('' when absent)."""
        return text_of(self.soup, element_id)


class HtmxClient(FlaskClient):
    """A Flask test client that can send the request headers htmx sends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.response_wrapper = type("HtmxTestResponse", (SoupResponseMixin, self.response_wrapper), {})

    @staticmethod
    def htmx_headers(*, boosted=False, history_restore=False, target=None, trigger=None, current_url=None):
        """Build the headers of an htmx request."""
        headers = {"HX-Request": "true"}
        if boosted:
            headers["HX-Boosted"] = "true"
        if history_restore:
            headers["HX-History-Restore-Request"] = "true"
        for name, value in (("HX-Target", target), ("HX-Trigger", trigger), ("HX-Current-URL", current_url)):
            if value is not None:
                headers[name] = value
        return headers

    def hx_request(self, method, url, *, boosted=False, history_restore=False, target=None, trigger=None, **kwargs):
        """Send a request as htmx would, merging any extra headers given."""
        headers = self.htmx_headers(boosted=boosted, history_restore=history_restore, target=target, trigger=trigger)
        headers.update(kwargs.pop("headers", {}) or {})
        return self.open(url, method=method, headers=headers, **kwargs)

    def hx_get(self, url, **kwargs):
        """GET as htmx would (hx-get, or with boosted=True a boosted link)."""
        return self.hx_request("GET", url, **kwargs)

    def hx_post(self, url, **kwargs):
        """POST as htmx would (hx-post)."""
        return self.hx_request("POST", url, **kwargs)

    def submit(self, response, form_selector, *, htmx=False, **values):
        """Fill the form found in an earlier response with `values` and send it, via hx-post when htmx=True."""
        form = response.soup.select_one(form_selector)
        if form is None:
            raise AssertionError(f"no form matches {form_selector!r}")
        data = {field["name"]: field.get("value", "") for field in form.select("input[name]")
                if field.get("type") != "submit"}
        data.update(values)
        if htmx:
            return self.hx_post(form.get("hx-post") or form.get("action") or "/", data=data, target=form.get("id"))
        return self.post(form.get("action") or "/", data=data)


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now (for servers a test or benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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


class Server:
    """A server process on 127.0.0.1 (its own process group), for tests and benchmarks: bounded waits, nothing left
    running.

    `command` must serve on `port`. `env` is laid over os.environ; the log (stdout and stderr) goes to `log_path`, or a
    temporary file, and stays readable with log_text() after stop(). Starting waits until `ready_path` answers 200.
    """

    def __init__(self, command, *, port, env=None, log_path=None, ready_path="/healthz", ready_timeout=30,
                 stop_timeout=10, cwd=None):
        self.command, self.port = command, port
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log_path, self.ready_path, self.cwd = log_path, ready_path, cwd
        self.ready_timeout, self.stop_timeout = ready_timeout, stop_timeout
        self.process = self._log = self._final_log = None

    def url(self, path=""):
        """Return the URL of a path on this server."""
        return self.base + path

    def start(self):
        """Start the server and wait until it is ready; stop it again if it is not."""
        self._log = open(self.log_path, "w+b") if self.log_path else tempfile.TemporaryFile()
        self._final_log = None
        try:
            # Its own process group, so that stop() can kill the workers with the master.
            self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, stdout=self._log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self):
        """Poll ready_path until it answers 200, failing when the server exits or ready_timeout passes."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no *_proxy detour for 127.0.0.1
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with opener.open(self.url(self.ready_path), timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:  # answering, not ready yet
                error.close()
            except (OSError, http.client.HTTPException):  # not listening yet, or workers still booting
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.command[0]} gave no 200 at {self.ready_path} in {self.ready_timeout} s:\n"
                           f"{self.log_text()}")

    def stop(self):
        """Stop the server gracefully (SIGTERM), killing its whole process group after stop_timeout seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=self.stop_timeout)
        if self._log is not None:
            self._final_log = self.log_text()
            self._log.close()
        self.process = self._log = None

    def log_text(self):
        """Return what the server and the app logged so far."""
        if self._log is None:
            return self._final_log or ""
        # pread leaves the offset alone, which the server shares and writes at.
        size = os.fstat(self._log.fileno()).st_size
        return os.pread(self._log.fileno(), size, 0).decode(errors="replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class Gunicorn(Server):
    """A gunicorn master and its workers on 127.0.0.1 (a Server). Gunicorn(**PRODUCTION) is the README's production
    command."""

    def __init__(self, target="flasky:create_app()", *, workers=2, worker_class="sync", threads=None,
                 worker_connections=None, keep_alive=None, port=None, **options):
        port = port or free_port()
        settings = [*(["--threads", str(threads)] if threads else []),
                    *(["--worker-connections", str(worker_connections)] if worker_connections else []),
                    *(["--keep-alive", str(keep_alive)] if keep_alive is not None else [])]
        super().__init__([str(BIN / "gunicorn"), "-k", worker_class, "-w", str(workers), *settings,
                          "-b", f"127.0.0.1:{port}", "--no-control-socket", target], port=port, **options)
