"""The production configuration under gunicorn with three workers, walked with a real HTTP client on 127.0.0.1.

Bounded: two servers (SQLite, PostgreSQL) for the module, one short-lived server for the flood, a few hundred
requests in all, every wait capped.
"""

import http.client
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests
from bs4 import BeautifulSoup
from sqlalchemy import create_engine, text

from flasky import create_app
from flasky.extensions import db as _db
from flasky.testing import free_port

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
SECRET_KEY = secrets.token_urlsafe(48)
CONCURRENT = 100


class Server:
    """A gunicorn master with its workers, serving create_app() in production on a free local port."""

    def __init__(self, database_url, log_path, **env):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.log_path = log_path
        self.env = {
            **os.environ,
            "FLASK_CONFIG": "production",
            "SECRET_KEY": SECRET_KEY,
            "DATABASE_URL": database_url,
            "FLASK_SESSION_COOKIE_SECURE": "false",
            "TRUSTED_HOSTS": f"127.0.0.1:{self.port},localhost:{self.port}",
            "PROXY_FIX_X_PROTO": "1",
            "RATELIMIT_NAME_FORM": "1000 per minute",
            **env,
        }

    def start(self):
        """Start gunicorn and wait (20 s at most) until /healthz answers 200."""
        self.log = open(self.log_path, "w")
        command = [str(BIN / "gunicorn"), "-w", "3", "-b", f"127.0.0.1:{self.port}", "--timeout", "30",
                   *gunicorn_options(), "flasky:create_app()"]
        self.process = subprocess.Popen(command, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        try:
            self._wait_until_healthy()
        except BaseException:  # never leave a server behind, whatever went wrong
            self.stop()
            raise
        return self

    def _wait_until_healthy(self):
        """Poll /healthz until it answers 200, failing when gunicorn exits or 20 s pass."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                if requests.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:  # not listening yet, or workers still booting
                pass
            time.sleep(0.1)
        pytest.fail(f"gunicorn did not become healthy in 20 s:\n{self.log_text()}")

    def stop(self):
        """Stop gunicorn gracefully (killing it after 10 s)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()

    def log_text(self):
        """Return what the server has logged so far."""
        if not self.log.closed:
            self.log.flush()
        return Path(self.log_path).read_text()

    def url(self, path):
        return self.base + path

    def usernames(self):
        """List the stored usernames, straight from the database."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                return connection.scalars(text("SELECT username FROM users ORDER BY id")).all()
        finally:
            engine.dispose()


def gunicorn_options():
    """Options for a throwaway server: no control socket in ~/.gunicorn where the gunicorn has one (24+)."""
    from gunicorn.config import KNOWN_SETTINGS

    return ["--no-control-socket"] if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS) else []


def migrate(database_url):
    """Create the schema with the migrations, as `flask db upgrade` would."""
    from flask_migrate import upgrade

    # No delivery thread: this app only migrates (the module-scoped fixture runs outside no_stray_mail_workers).
    app = create_app("production", SECRET_KEY=SECRET_KEY, SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_ENABLED=False,
                     FLASKY_MAIL_WORKER=False)
    with app.app_context():
        upgrade()
        _db.engine.dispose()


def fresh_database(backend, tmp_path, request):
    """Return the URL of an empty, migrated database on this backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'flasky.sqlite'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"served_{uuid.uuid4().hex[:8]}")
    migrate(url)
    return url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    """A production gunicorn server with 3 workers on a fresh database of each backend."""
    tmp_path = tmp_path_factory.mktemp(f"served-{request.param}")
    server = Server(fresh_database(request.param, tmp_path, request), tmp_path / "gunicorn.log")
    server.backend = request.param
    server.start()
    yield server
    server.stop()


def soup(response):
    return BeautifulSoup(response.text, "html.parser")


def text_of(response, element_id):
    element = soup(response).find(id=element_id)
    return " ".join(element.get_text().split()) if element else ""


def load_form(session, server):
    """GET / and return the CSRF token of the name form."""
    page = session.get(server.url("/"), timeout=30)
    assert page.status_code == 200
    return soup(page).select_one("#csrf_token")["value"]


def submit(session, server, name, *, htmx=False, token=None):
    """Submit a name as a browser (no redirects followed) or as htmx."""
    data = {"csrf_token": token or load_form(session, server), "name": name}
    headers = {"HX-Request": "true"} if htmx else {}
    return session.post(server.url("/"), data=data, headers=headers, allow_redirects=False, timeout=30)


# --- refusing to start ---------------------------------------------------------------------------------------

WEAK_KEY_ENV = {"FLASK_CONFIG": "production", "SECRET_KEY": "hard to guess string"}


@pytest.mark.parametrize(
    "command, env, message",
    [
        (["gunicorn", "-w", "2", "-b", "127.0.0.1:{port}", "flasky:create_app()"], WEAK_KEY_ENV, "SECRET_KEY"),
        (["flask", "--app", "flasky", "run", "-p", "{port}"], WEAK_KEY_ENV, "SECRET_KEY"),
        (["flask", "--app", "flasky", "run", "--debug", "-p", "{port}"],
         {"FLASK_CONFIG": "production", "SECRET_KEY": SECRET_KEY}, "DEBUG must be off in production"),
    ],
    ids=["gunicorn-weak-key", "flask-run-weak-key", "flask-run-debug"],
)
def test_production_refuses_to_start_with_a_clear_message(tmp_path, command, env, message):
    port = free_port()
    command = [str(BIN / command[0]), *(part.format(port=port) for part in command[1:])]
    if command[0].endswith("gunicorn"):
        command[1:1] = gunicorn_options()
    environment = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "SECRET"))}
    result = subprocess.run(command, env={**environment, **env}, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode != 0
    assert message in result.stderr
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/", timeout=2)


# --- pages, headers, cookies ---------------------------------------------------------------------------------


def test_pages_carry_the_security_headers_and_a_lax_httponly_session_cookie(server):
    page = requests.get(server.url("/"), timeout=30)
    assert page.status_code == 200
    assert text_of(page, "greeting-heading") == "Hello, Stranger!"
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert "Strict-Transport-Security" not in page.headers
    cookie = page.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert {"private", "no-cache"} <= {part.strip() for part in page.headers["Cache-Control"].split(",")}
    over_tls = requests.get(server.url("/"), headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert over_tls.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_static_files_are_validated_and_cached(server):
    first = requests.get(server.url("/static/app.css"), timeout=30)
    assert first.status_code == 200 and first.headers["ETag"] and first.headers["Last-Modified"]
    again = requests.get(server.url("/static/app.css"), headers={"If-None-Match": first.headers["ETag"]}, timeout=30)
    assert again.status_code == 304


@pytest.mark.parametrize("path", ["/static/../pyproject.toml", "/static/%2e%2e/flasky/config.py",
                                  "/static/..%2f..%2fetc%2fpasswd", "/static/vendor/../../../etc/passwd"])
def test_path_traversal_under_static_is_a_404(server, path):
    # http.client sends the path as is (requests would resolve the dot segments itself).
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    assert response.status == 404
    assert "root:" not in body and "SECRET_KEY" not in body


def test_a_foreign_host_is_refused_with_our_page(server):
    response = requests.get(server.url("/"), headers={"Host": "evil.example"}, timeout=30)
    assert response.status_code == 400
    assert text_of(response, "error-message") == "This site is not served under that host name."
    assert "evil.example" not in response.text


def test_healthz_reports_ok_without_a_session(server):
    response = requests.get(server.url("/healthz"), timeout=30)
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers


# --- names, in both modes, and hostile requests --------------------------------------------------------------


def test_a_visitor_is_greeted_and_remembered(server):
    name = f"Alice {server.backend}"
    with requests.Session() as browser:
        answer = submit(browser, server, name)
        assert answer.status_code == 303 and answer.headers["Location"] == "/"
        page = browser.get(server.url("/"), timeout=30)
        assert text_of(page, "greeting") == f"Hello, {name}! Pleased to meet you!"
        swap = submit(browser, server, name, htmx=True)
        assert swap.status_code == 200 and "<html" not in swap.text
        assert text_of(swap, "greeting-status") == "Happy to see you again!"
        user = browser.get(server.url(f"/user/{name}"), timeout=30)
        assert user.status_code == 200 and text_of(user, "user-heading") == f"Hello, {name}!"
    assert server.usernames().count(name) == 1


@pytest.mark.parametrize("htmx", [False, True])
def test_hostile_names_and_bodies_are_refused_clearly_and_nothing_is_stored(server, htmx):
    before = server.usernames()
    with requests.Session() as browser:
        for name, status, message in [
            ("x" * 65, 422, "Names can be at most 64 characters long."),
            ("é" * 10_000, 422, "Names can be at most 64 characters long."),
            ("Ann\x00", 422, "Names cannot contain control characters or line breaks."),
            ("Ann\r\nBcc: x@example.com", 422, "Names cannot contain control characters or line breaks."),
            ("\u200b\u200b", 422, "Please enter a name with at least one visible character."),
            ("\u202eevil", 422, "Names cannot contain characters that change the text direction."),
        ]:
            answer = submit(browser, server, name, htmx=htmx)
            assert (answer.status_code, text_of(answer, "name-error")) == (status, message), name[:20]
        token = load_form(browser, server)
        too_big = browser.post(server.url("/"), data={"csrf_token": token, "name": "x" * (2 * 1024 * 1024)},
                               headers={"HX-Request": "true"} if htmx else {}, timeout=30)
        assert too_big.status_code == 413
        assert "Too much data" in too_big.text
        forged = browser.post(server.url("/"), data={"csrf_token": "forged", "name": "Mallory"}, timeout=30)
        assert forged.status_code == 400
    assert server.usernames() == before


def test_malformed_htmx_headers_forged_cookies_and_huge_headers_do_no_harm(server):
    for value in ("TRUE", "1", "<script>alert(1)</script>", "true, true"):
        page = requests.get(server.url("/"), headers={"HX-Request": value}, timeout=30)
        assert page.status_code == 200 and "<html" in page.text and "<script>alert" not in page.text
    for cookie in ("junk{}", '{"name": "Admin"}', "eyJuYW1lIjoiQWRtaW4ifQ.ZZZZZZ.forgedsignature"):
        page = requests.get(server.url("/"), cookies={"session": cookie}, timeout=30)
        assert page.status_code == 200 and text_of(page, "greeting-heading") == "Hello, Stranger!"
        assert page.headers["Set-Cookie"].startswith("session=")
    huge = requests.get(server.url("/"), headers={"X-Padding": "x" * 20_000}, timeout=30)
    assert huge.status_code in (400, 431), "gunicorn refuses oversized header fields"
    many = requests.get(server.url("/"), headers={f"X-H{n}": "x" for n in range(200)}, timeout=30)
    assert many.status_code in (400, 431), "and too many header fields"
    assert requests.get(server.url("/healthz"), timeout=30).status_code == 200, "and keeps serving"


@pytest.mark.parametrize("method, path, allowed", [("PUT", "/", "GET, HEAD, OPTIONS, POST"),
                                                    ("DELETE", "/user/x", "GET, HEAD, OPTIONS")])
def test_wrong_methods_get_a_405_naming_the_allowed_ones(server, method, path, allowed):
    response = requests.request(method, server.url(path), timeout=30)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == set(allowed.split(", "))
    assert "Method not allowed" in response.text


# --- load and faults -----------------------------------------------------------------------------------------


def test_concurrent_first_submissions_of_one_name_store_one_row_and_never_fail(server):
    name = f"Racer {server.backend}"
    sessions = [requests.Session() for _ in range(CONCURRENT)]
    tokens = [load_form(session, server) for session in sessions]
    barrier = threading.Barrier(CONCURRENT)
    results = [None] * CONCURRENT

    def post(index):
        barrier.wait(timeout=30)
        try:
            answer = submit(sessions[index], server, name, htmx=True, token=tokens[index])
            results[index] = (answer.status_code, text_of(answer, "greeting-status"))
        except requests.RequestException as error:
            results[index] = (type(error).__name__, "")

    threads = [threading.Thread(target=post, args=(index,)) for index in range(CONCURRENT)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    for session in sessions:
        session.close()
    statuses = [status for status, _ in results]
    assert statuses == [200] * CONCURRENT, sorted(set(map(str, statuses)))
    greetings = sorted(greeting for _, greeting in results)
    assert greetings == ["Happy to see you again!"] * (CONCURRENT - 1) + ["Pleased to meet you!"]
    assert server.usernames().count(name) == 1


def test_postgresql_going_down_is_a_503_and_the_workers_recover(request, tmp_path):
    postgres = request.getfixturevalue("postgres")
    server = Server(fresh_database("postgresql", tmp_path, request), tmp_path / "gunicorn.log").start()
    try:
        with requests.Session() as browser:
            token = load_form(browser, server)
            assert submit(browser, server, "Before the outage", token=token).status_code == 303
            postgres.stop()
            try:
                answers = [submit(browser, server, "Outage", token=token) for _ in range(4)]
                health = requests.get(server.url("/healthz"), timeout=30)
            finally:
                postgres.start()
            recovered = [submit(browser, server, "After the outage", token=token).status_code for _ in range(6)]
        healthy = requests.get(server.url("/healthz"), timeout=30).status_code
    finally:
        server.stop()
    for answer in answers:
        assert answer.status_code == 503
        assert answer.headers["Retry-After"] == "30"
        assert text_of(answer, "error-heading") == "Temporarily unavailable"
        assert "Traceback" not in answer.text
    assert (health.status_code, health.json()["database"]) == (503, "unavailable")
    assert recovered == [303] * 6, "every worker reconnects by itself"
    assert healthy == 200
    assert server.usernames() == ["Before the outage", "After the outage"]
    log = server.log_text()
    assert len([line for line in log.splitlines() if "Database unavailable, incident" in line]) >= 4
    assert "Traceback" not in log


def test_the_server_log_is_clean(server):
    log = server.log_text()
    assert "Traceback" not in log
    assert "database is locked" not in log
    assert "WORKER TIMEOUT" not in log
    assert SECRET_KEY not in log
    assert "Booting worker" in log


def test_a_flood_from_one_client_gets_a_friendly_429(tmp_path):
    url = f"sqlite:///{tmp_path / 'flood.sqlite'}"
    migrate(url)
    server = Server(url, tmp_path / "gunicorn.log", RATELIMIT_NAME_FORM="3 per minute").start()
    try:
        with requests.Session() as browser:
            token = load_form(browser, server)
            # Memory storage counts per worker: three workers let at most 3 x 3 through.
            answers = [submit(browser, server, f"Flooder {n}", htmx=n % 2 == 1, token=token) for n in range(12)]
        statuses = [answer.status_code for answer in answers]
        # Which worker takes a request is up to the kernel, so only the totals are certain.
        assert set(statuses) <= {200, 303, 429} and statuses.count(429) >= 12 - 3 * 3
        for answer in answers:
            if answer.status_code == 429:
                assert 1 <= int(answer.headers["Retry-After"]) <= 60
                assert "Too many requests" in answer.text
        assert len(server.usernames()) == 12 - statuses.count(429)
    finally:
        server.stop()
    assert "Traceback" not in server.log_text()
