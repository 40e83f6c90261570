"""Nothing moves once a page has shown (cumulative layout shift 0, Lighthouse's CLS): what renders late, the local
times and "… ago" that moment.js writes after the page has loaded, has its room kept from the first paint on, on a
phone (412 px, Lighthouse's mobile width) and on a desktop, in English and in Chinese.

The room kept is the server's text: a UTC time, and "… ago" as of the page's render. The pages run in UTC here, as
Lighthouse's Chromium on a UTC machine does; elsewhere a local time can be a digit or a month name longer than the
UTC one (9:02 PM in UTC is 10:02 PM in Paris), and the line moves by that much (docs/performance.md).
"""

import time
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from flasky.greeting import remember
from flasky.models import User, utcnow
from flasky.extensions import db
from tests.browser.helpers import layout_shift

VIEWPORTS = {"phone": {"width": 412, "height": 823}, "desktop": {"width": 1350, "height": 940}}
LOCALES = {"en": "en-GB", "zh": "zh-CN"}  # Chromium asks for the locale's language (Accept-Language)
TAGS = {"en": "en", "zh": "zh-CN"}
# Names greeted now (the live panel's "a few seconds ago") and names seen minutes, hours, days and months ago.
GREETED = ["Alice", "张三丰", "Wolfeschlegelsteinhausenbergerdorff"]
SEEN_AGO = {"Bob": timedelta(minutes=7), "李小龙": timedelta(hours=5), "Zoë Ångström": timedelta(days=3),
            "Carol": timedelta(days=95)}
# moment.js's page code (/flask-moment.js) is held back this long, so that the browser paints the page before the times
# are written, as it does on a slow phone (Lighthouse's); on a fast machine it may write them before the first paint,
# when nothing can be seen to move.
LATE_SECONDS = 0.3
PAGES = ["/", "/users", "/user/Alice", "/user/Zoë Ångström", "/user/nobody-here"]


@pytest.fixture(autouse=True)
def visitors(live_app, fresh_database):
    """Greet GREETED now, and store SEEN_AGO's names as first seen a year ago and last seen that long ago."""
    now = utcnow()
    with live_app.test_request_context():
        for name in GREETED:
            remember(name)
        db.session.add_all(User(username=name, first_seen=now - timedelta(days=400), last_seen=now - ago)
                           for name, ago in SEEN_AGO.items())
        db.session.commit()
        db.session.remove()


def late(route):
    """Answer a request LATE_SECONDS late."""
    time.sleep(LATE_SECONDS)
    route.continue_()


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_nothing_moves_once_shown(path, language, viewport, browser, browser_context_args, console_errors,
                                  request):
    if path.startswith("/user/nobody"):
        console_errors.allow_status(404)
    context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS[viewport], "locale": LOCALES[language],
                                     "timezone_id": "UTC"})
    context.set_default_timeout(5_000)
    request.addfinalizer(context.close)
    page = console_errors.watch(context.new_page())
    page.route("**/flask-moment.js", late)
    page.goto(path)
    expect(page.locator("html")).to_have_attribute("lang", TAGS[language])
    expect(page.locator(".flask-moment")).to_have_count(0)  # moment.js has written every time
    shift = layout_shift(page)
    assert shift.total == 0, str(shift)
