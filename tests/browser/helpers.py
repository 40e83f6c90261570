"""Helpers the browser tests share: where screenshots go, a server thread, a phone's page, and checks on a page
(layout shift among them)."""

import os
import threading
from dataclasses import dataclass
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


# Every layout shift the page recorded since it started loading (buffered: true hands over the ones from before the
# observer), after two frames so that a change just made has been laid out and painted; shifts right after input
# (hadRecentInput) are the visitor's doing and left out, as CLS leaves them out. Each with the elements that moved.
LAYOUT_SHIFTS = """() => new Promise((resolve) => {
  const shifts = [];
  const observer = new PerformanceObserver((list) => shifts.push(...list.getEntries()));
  observer.observe({type: "layout-shift", buffered: true});
  const describe = (node) => !node ? "(gone)" : node.nodeType !== 1 ? `text in ${describe(node.parentNode)}`
    : node.tagName.toLowerCase() + (node.id ? `#${node.id}` : "") + (node.className ? `.${node.className}` : "");
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(() => {
    shifts.push(...observer.takeRecords());
    observer.disconnect();
    resolve(shifts.filter((shift) => !shift.hadRecentInput).map((shift) => ({
      value: shift.value, at: Math.round(shift.startTime),
      moved: shift.sources.map(({node, previousRect: was, currentRect: now}) => `${describe(node)} y ${was.y}->${now.y}`
        + ` x ${was.x}->${now.x} (h ${was.height}->${now.height}, w ${was.width}->${now.width})`
        + (node && node.textContent ? ` "${node.textContent.trim().slice(0, 80)}"` : "")),
    })));
  }, 0)));
})"""


@dataclass(frozen=True)
class LayoutShift:
    """The page's layout shifts so far: their sum (the page's cumulative layout shift while it has had one session
    window, as a page load has) and each shift with what moved, to say why in a failure."""

    total: float
    shifts: list

    def __str__(self):
        return f"CLS {self.total:.4f}: " + "; ".join(
            f"{shift['value']:.4f} at {shift['at']} ms ({', '.join(shift['moved'])})" for shift in self.shifts)


def layout_shift(page):
    """Measure the layout shifts a page has recorded (PerformanceObserver, 'layout-shift', buffered): call it once what
    the page renders late (times, swaps) has been rendered."""
    shifts = page.evaluate(LAYOUT_SHIFTS)
    return LayoutShift(sum(shift["value"] for shift in shifts), shifts)
