"""Helpers the HTTP tests share: a bounded poll, a schema made and dropped, an expired form, the English left on a page, the directory's names,
an htmx client as a threaded server's, a Celery worker process, a redis-server, and a real server's name form and event streams."""

import contextlib
import os
import queue
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path

import itsdangerous.timed
import pytest
import requests
from alembic.runtime.migration import MigrationContext
from flask import current_app
from sqlalchemy import text

from flasky.extensions import db
from flasky.live.capacity import SLOTS_KEY
from flasky.schema import VERSION_TABLE, schema_watch
from flasky.testing import BIN, HtmxClient, free_port, soup_of


SERVER_SLOTS = 64
# The Nu Html Checker's jar (npm's vnu-jar; it needs Java), where tests/system-packages.sh puts it unless
# FLASKY_VNU_JAR names another.
VNU_JAR = Path(os.environ.get("FLASKY_VNU_JAR") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
               / "flasky" / "vnu-jar-26.9.27" / "vnu.jar")
# htmx's own attributes, which HTML does not know (htmx's design): the only reports we set aside.
HTMX_ATTRIBUTE_REPORT = re.compile(r"Attribute “(hx|sse)-[a-z:-]+” not allowed")


class ThreadedServerClient(HtmxClient):
    """An HtmxClient whose requests say they come through a threaded server of SERVER_SLOTS slots: the live panel
    streams, as under the README's server (Werkzeug's test client otherwise says one request at a time)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.environ_base[SLOTS_KEY] = SERVER_SLOTS

    def open(self, *args, **kwargs):
        kwargs.setdefault("multithread", True)  # wsgi.multithread
        return super().open(*args, **kwargs)


def html_errors(documents, folder):
    """Check whole documents (name → HTML) with the Nu Html Checker in one run; return its errors, htmx's attributes
    aside, each line naming its document."""
    if not VNU_JAR.is_file() or shutil.which("java") is None:
        pytest.fail(f"the Nu Html Checker (Java and {VNU_JAR}) is missing: run `bash tests/system-packages.sh` "
                    "(or set FLASKY_VNU_JAR)")
    paths = []
    for name, html in documents.items():
        paths.append(folder / f"{re.sub(r'[^A-Za-z0-9._-]+', '_', name)}.html")
        paths[-1].write_text(html, encoding="utf-8")
    result = subprocess.run(["java", "-jar", str(VNU_JAR), "--errors-only", *map(str, paths)], capture_output=True,
                            text=True, timeout=300)
    return [line for line in result.stderr.splitlines() if line.strip() and not HTMX_ATTRIBUTE_REPORT.search(line)]


class RedisServer:
    """A redis-server on 127.0.0.1 keeping nothing on disk, which a test can stop and start again on its port."""

    def __init__(self, port, folder):
        self.port, self.folder = port, folder
        self.url = f"redis://127.0.0.1:{port}/0"

    def start(self):
        """Start it, and return once it answers."""
        if shutil.which("redis-server") is None:
            pytest.fail("redis-server is missing: install it with `apt-get install -y redis-server`")
        subprocess.run(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                        "no", "--daemonize", "yes", "--dir", str(self.folder), "--pidfile",
                        str(self.folder / f"redis-{self.port}.pid")], check=True, timeout=30)
        assert wait_until(lambda: self.cli("ping") == "PONG", 10), f"redis-server on port {self.port} did not start"
        return self

    def stop(self):
        """Stop it, and return once its port is closed."""
        self.cli("shutdown", "nosave")
        assert wait_until(lambda: self.cli("ping") != "PONG", 10), f"redis-server on port {self.port} did not stop"

    def cli(self, *command):
        """Run a redis-cli command against the server; return what it printed."""
        return subprocess.run(["redis-cli", "-p", str(self.port), *command], capture_output=True, text=True,
                              timeout=30).stdout.strip()


def wait_until(condition, timeout=15, interval=0.05):
    """Poll a condition until it holds (bounded); return its last value."""
    deadline = time.monotonic() + timeout
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(interval)
    return value


# The code's migrations, read from their file names (not through flasky/schema.py, which tests check against them).
VERSIONS = Path(__file__).resolve().parent.parent / "flasky" / "migrations" / "versions"
REVISIONS = sorted(path.name[:4] for path in VERSIONS.glob("[0-9]*.py"))
HEAD = REVISIONS[-1]
# /healthz's report of the rate limits under the testing configuration, which turns them off.
LIMITS_OFF = {"storage": None, "shared": False, "status": "off"}


def create_schema():
    """Create the models' tables (in an app context) and stamp them with the migrations' head, as `flask db upgrade`
    leaves a database: /healthz then says so."""
    db.create_all()
    with db.engine.begin() as connection:
        MigrationContext.configure(connection).stamp(schema_watch(current_app).scripts, "head")


def drop_schema():
    """Drop the models' tables and the migrations' version table (in an app context)."""
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as connection:
        connection.execute(text(f"DROP TABLE IF EXISTS {VERSION_TABLE}"))


def expired_token(client, monkeypatch):
    """Fetch a form whose CSRF token was signed two hours ago."""
    real_time = itsdangerous.timed.time.time
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: real_time() - 7200)
    page = client.get("/")
    monkeypatch.setattr(itsdangerous.timed.time, "time", real_time)
    return page


# Words that stay as they are in Chinese: the app's name, the time zone, and each language's own name in the switcher.
KEPT_IN_CHINESE = {"Flasky", "UTC", "htmx", "Web", "Flask"}


def english_words(soup, names=()):
    """Return the Latin-script words a reader meets: text, titles, ARIA labels, button values, meta description."""
    for tag in soup.select("[lang=en], script, style, code#incident"):
        tag.decompose()
    texts = [soup.get_text(" ")]
    for tag in soup.find_all(True):
        texts += [tag.get(attribute) or "" for attribute in ("title", "aria-label", "placeholder", "alt")]
        if tag.name == "input" and tag.get("type") in ("submit", "button"):
            texts.append(tag.get("value", ""))
        if tag.name == "meta" and tag.get("name") == "description":
            texts.append(tag["content"])
    text = re.sub(r"[0-9a-f]{8}", " ", " ".join(texts))  # incident ids
    for name in names:
        text = text.replace(name, " ")
    return {word for word in re.findall(r"[A-Za-z]{2,}", text)} - KEPT_IN_CHINESE


# The directory tests' names: accents, Chinese, LIKE's wildcards and its escape character, full width, ß.
DIRECTORY_NAMES = ["Zoë Ångström", "张三丰", "Ann", "Anna", "50%_off\\x", "Bob", "Ｆｕｌｌ Width", "Straße"]


def listed(page):
    """Return the names a directory page or fragment lists, in order."""
    return [link.get_text() for link in page.soup.select("#directory-rows li a")]


@contextlib.contextmanager
def celery_worker_process(env, log_path):
    """Run a real Celery worker delivering the outbox of the app these settings (env) describe; stop it afterwards."""
    with open(log_path, "w") as output:
        process = subprocess.Popen(
            [BIN / "celery", "-A", "flasky.outbox.celery_worker", "worker", "--pool=solo", "--concurrency=1",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        assert wait_until(lambda: "ready." in log_path.read_text(), 60), log_path.read_text()
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@contextlib.contextmanager
def running_redis(folder):
    """Run a RedisServer on a free port, its files in folder, for the length of a with block; yield it."""
    server = RedisServer(free_port(), folder).start()
    try:
        yield server
    finally:
        server.stop()


# --- a real server's name form and streams, over HTTP (`server` is anything with .url(path)) ------------------


def load_form(session, server):
    """GET / and return the CSRF token of the name form."""
    page = session.get(server.url("/"), timeout=30)
    assert page.status_code == 200
    return soup_of(page).select_one("#csrf_token")["value"]


def submit(session, server, name, *, htmx=False, token=None):
    """Submit a name as a browser (no redirects followed) or as htmx."""
    data = {"csrf_token": token or load_form(session, server), "name": name}
    headers = {"HX-Request": "true"} if htmx else {}
    return session.post(server.url("/"), data=data, headers=headers, allow_redirects=False, timeout=30)


class Stream:
    """An open event stream read by a thread of its own (requests, stream=True): its greetings events queue up."""

    def __init__(self, url, headers=None, **options):
        """Open the stream; `options` go to requests.get (verify=...)."""
        self.response = requests.get(url, headers=headers or {}, stream=True, timeout=(5, 30), **options)
        self.events, self.buffer = queue.Queue(), ""
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        try:
            for chunk in self.response.iter_content(chunk_size=None, decode_unicode=True):
                self.buffer += chunk
                while "\n\n" in self.buffer:
                    block, self.buffer = self.buffer.split("\n\n", 1)
                    fields = [line.partition(": ") for line in block.split("\n")]
                    if any(name == "event" for name, _, _ in fields):
                        self.events.put({"id": next(value for name, _, value in fields if name == "id"),
                                         "data": "\n".join(value for name, _, value in fields if name == "data")})
        except (requests.RequestException, AttributeError, ValueError):  # closed by the test (or the server)
            pass

    def next_event(self, timeout):
        """Return the next greetings event (id, data) within timeout seconds, or None."""
        try:
            return self.events.get(timeout=timeout)
        except queue.Empty:
            return None

    def ended(self):
        """Tell whether the stream is over: the server (or the test) closed it, and every event read is queued."""
        return not self.thread.is_alive()

    def close(self):
        self.response.close()
        self.thread.join(timeout=5)


def stream_url(server, session):
    """GET / and return the URL its panel's stream starts from (the state the page shows)."""
    page = session.get(server.url("/"), timeout=30)
    return server.url(soup_of(page).select_one("#live-greetings")["sse-connect"])
