"""Browser fixtures: the app served on 127.0.0.1, Debian's Chromium driven by Playwright, and the checks tests use."""

import os
import re
import shutil
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from playwright.sync_api import expect

from flasky import create_app
from flasky.live.panel import PANELS_KEY
from flasky.extensions import db as _db
from flasky.models import Role
from tests.browser.helpers import ARTIFACTS, DOCS_SCREENSHOTS, UPDATE_DOCS, serve

CHROMIUM = Path(os.environ.get("FLASKY_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core-4.14.1" / "axe.min.js"
# Chromium logs every fetch answered with an error status; the tests that provoke one say which statuses they expect.
FAILED_LOAD = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")

# With JavaScript off, page timers never fire, and axe waits on zero-delay ones: run those as microtasks instead.
ZERO_DELAY_TIMERS = """() => {
  let last = 0;
  window.setTimeout = (callback, delay, ...args) => {
    if (!delay) { Promise.resolve().then(() => callback(...args)); }
    return ++last;
  };
  window.clearTimeout = () => {};
}"""

# Playwright's waits give up after 5 s (its default); a browser test that hangs anyway fails after this many seconds.
TEST_TIMEOUT = 90


def pytest_collection_modifyitems(config, items):
    """Bound every browser test's run time (pytest-timeout), so a hung browser fails its test, not the run."""
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.timeout(TEST_TIMEOUT))


def explode():
    """Fail on purpose, so tests can see what a server error looks like in the browser."""
    raise RuntimeError("test-only failure with a secret: hunter2")


@pytest.fixture(scope="session")
def live_app(tmp_path_factory):
    """A testing app on a fresh SQLite file, with a route that fails, and exceptions turned into 500 pages."""
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'flasky.sqlite'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, PROPAGATE_EXCEPTIONS=False)
    app.add_url_rule("/test/explode", "explode", explode, methods=["GET", "POST"])
    with app.app_context():
        _db.create_all()
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


@pytest.fixture(scope="session")
def live_server(live_app):
    """Serve the live app on 127.0.0.1 on a free port in a daemon thread; yield its base URL."""
    yield from serve(live_app)


@pytest.fixture(autouse=True)
def fresh_database(live_app):
    """Start every browser test with no stored names (and no live panel rendered from the last test's names)."""
    with live_app.app_context():
        # Rows deleted, not tables recreated: event ids then never start again from 1, as in production, so that a
        # stream still open from the last test cannot cache a panel under a state this test reaches again.
        for table in reversed(_db.metadata.sorted_tables):
            if table is not Role.__table__:
                _db.session.execute(table.delete())
        _db.session.commit()
        _db.session.remove()
    live_app.extensions[PANELS_KEY].clear()


@pytest.fixture
def app(live_app):
    """The live app, so that the suite's stored_users and usernames fixtures read what it has stored."""
    return live_app


@pytest.fixture(scope="session")
def base_url(live_server):
    """Point Playwright's relative URLs at the live server."""
    return live_server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian's Chromium (never a downloaded one), failing loudly when it is not installed."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium was not found at {CHROMIUM}: the browser tests need Debian's Chromium. Install it with "
            "`sudo apt-get update && sudo apt-get install -y chromium` (or point FLASKY_CHROMIUM at a Chromium "
            "binary), then run the tests again.",
            pytrace=False,
        )
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS, "timeout": 30_000}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """Give every page a fixed locale and time zone, so local times read the same on any machine."""
    return {**browser_context_args, "locale": "en-GB", "timezone_id": "Europe/Paris"}


class ConsoleErrors:
    """Collect console errors and uncaught exceptions from a page; only declared HTTP error statuses are allowed."""

    def __init__(self):
        self.errors = []
        self.allowed_statuses = set()
        self.allowed_patterns = []

    def allow_status(self, *statuses):
        """Accept Chromium's 'Failed to load resource' message for these statuses (the test provokes them)."""
        self.allowed_statuses.update(statuses)

    def allow(self, pattern):
        """Accept console errors matching this regular expression (the test provokes them)."""
        self.allowed_patterns.append(re.compile(pattern))

    def watch(self, page):
        """Start collecting from a page."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.errors.append(f"uncaught: {error}"))
        return page

    def _on_console(self, message):
        if message.type not in {"error", "assert"}:
            return
        failed = FAILED_LOAD.search(message.text)
        if failed and int(failed.group(1)) in self.allowed_statuses:
            return
        if any(pattern.search(message.text) for pattern in self.allowed_patterns):
            return
        self.errors.append(f"console.{message.type}: {message.text} ({message.location.get('url')})")

    def check(self):
        """Fail when anything was collected."""
        assert self.errors == [], "the browser reported errors"


@pytest.fixture
def console_errors():
    """The errors the test's pages reported; checked when the test ends."""
    collector = ConsoleErrors()
    yield collector
    collector.check()


@pytest.fixture
def page(context, console_errors):
    """A page with JavaScript on whose console errors fail the test."""
    context.set_default_timeout(5_000)
    return console_errors.watch(context.new_page())


@pytest.fixture
def nojs_page(new_context, console_errors):
    """A page with JavaScript off, as a visitor without scripts sees the app."""
    context = new_context(java_script_enabled=False)
    context.set_default_timeout(5_000)
    return console_errors.watch(context.new_page())


@pytest.fixture
def axe():
    """Return a function running axe-core on a page, failing on serious or critical violations."""
    source = AXE.read_text(encoding="utf-8")

    def check(page, state):
        if page.evaluate("() => matchMedia('(scripting: none)').matches"):
            page.evaluate(ZERO_DELAY_TIMERS)
        page.evaluate(source)
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        serious = [
            f"{violation['id']} ({violation['impact']}): {violation['help']} at "
            + ", ".join(" ".join(node["target"]) for node in violation["nodes"])
            for violation in results["violations"]
            if violation["impact"] in {"serious", "critical"}
        ]
        assert serious == [], f"axe found serious or critical violations in state {state!r}"
        return results

    return check


@pytest.fixture
def screenshot():
    """Return a function saving a screenshot into tests/artifacts/, and into docs/screenshots/ when asked to."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)

    def screenshot(page, name, *, docs=False):
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=path, full_page=True)  # no injected styles: the CSP would (rightly) refuse them
        if docs and UPDATE_DOCS:
            DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, DOCS_SCREENSHOTS / f"{name}.png")
        return path

    return screenshot


class _PastSigner(TimestampSigner):
    """Sign with a timestamp two days old, as a form left open that long would carry."""

    def get_timestamp(self):
        """Date the signature two days back."""
        return super().get_timestamp() - 2 * 86400


@pytest.fixture
def expire_csrf_token(live_app):
    """Return a function replacing the page's CSRF token by a correctly signed but expired one."""

    def expire(page):
        [cookie] = [cookie for cookie in page.context.cookies() if cookie["name"] == "session"]
        session = live_app.session_interface.get_signing_serializer(live_app).loads(cookie["value"])
        secret = live_app.config.get("WTF_CSRF_SECRET_KEY") or live_app.secret_key
        serializer = URLSafeTimedSerializer(secret, salt="wtf-csrf-token", signer=_PastSigner)
        expired = serializer.dumps(session["csrf_token"])
        page.locator("#csrf_token").evaluate("(field, token) => { field.value = token; }", expired)

    return expire


@pytest.fixture
def assert_name_error():
    """Return a check that a refused name came back as a 422 with its error beside the field, focused and described."""

    def check(page, answer, message, value):
        assert answer.status == 422
        field = page.locator("#name")
        expect(page.locator("#name-error")).to_have_text(message)
        expect(page.locator("#name-error")).to_be_visible()
        expect(field).to_be_focused()
        expect(field).to_have_attribute("aria-invalid", "true")
        expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
        expect(field).to_have_value(value)
        # The error first, then the hint that a name is public.
        expect(field).to_have_accessible_description(re.compile(rf"^{re.escape(message)} \S"))

    return check


@pytest.fixture
def submit_name():
    """Return a function typing a name into the form and sending it, waiting for the server's answer and, with
    htmx, for its swap to settle (a next fill could otherwise land in the form about to be replaced)."""

    def submit(page, name, *, key=None):
        page.locator("#name").fill(name)
        with page.expect_response(lambda r: r.request.method == "POST" and "/validate/" not in r.url) as answer:
            if key:
                page.locator("#name").press(key)
            else:
                page.locator("#submit").click()
        page.wait_for_load_state()
        expect(page.locator(".htmx-request, .htmx-swapping, .htmx-settling")).to_have_count(0)
        return answer.value

    return submit
