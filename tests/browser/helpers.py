"""Helpers the browser tests share: where screenshots go, a server thread, a phone's page, and checks on a page."""

import os
import threading
from pathlib import Path

from playwright.sync_api import expect
from werkzeug.serving import make_server

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent / "artifacts"
DOCS_SCREENSHOTS = HERE.parent.parent / "docs" / "screenshots"
# Set FLASKY_UPDATE_SCREENSHOTS=1 to also refresh the screenshots committed in docs/screenshots/.
UPDATE_DOCS = os.environ.get("FLASKY_UPDATE_SCREENSHOTS", "").lower() in {"1", "true", "yes", "on"}
PHONE = {"width": 375, "height": 740}
# A marker on the window that only a full page load wipes: mark(page), then page.evaluate(HAS_MARKER).
MARKER = "() => { window.flaskyMarker = 'still here'; }"
HAS_MARKER = "() => window.flaskyMarker === 'still here'"


def serve(app):
    """Serve an app on 127.0.0.1 on a free port in a daemon thread; yield its base URL, then stop it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def open_phone(new_context, console_errors, *, js):
    """Open a phone-sized page, with JavaScript on or off."""
    context = new_context(viewport=PHONE, java_script_enabled=js)
    context.set_default_timeout(5_000)
    return console_errors.watch(context.new_page())


def assert_fits(page, state):
    """Check the page does not scroll horizontally."""
    scroll, window = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert scroll <= window, f"{state}: page is {scroll} px wide in a {window} px window"


def mark(page):
    """Leave a marker on the window that only a full page load would wipe."""
    page.evaluate(MARKER)


def assert_full_page(page, heading):
    """Check the page has the layout around the content, not a bare fragment."""
    expect(page.locator("nav .navbar-brand")).to_have_text("Flasky")
    expect(page.locator("main h1")).to_have_text(heading)
    assert page.evaluate("() => document.querySelectorAll('main h1').length") == 1
