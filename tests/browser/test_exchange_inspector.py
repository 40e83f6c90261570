"""The development exchange inspector in Chromium: the panel follows htmx swaps, keeps open across boosted pages and
lists the session's exchanges without JavaScript; no console errors, axe-clean, valid HTML (the Nu checker)."""

import re

import pytest
from playwright.sync_api import expect

from flasky import create_app
from flasky.extensions import db as _db
from flasky.live.hub import Hub
from tests.browser.helpers import PHONE, assert_fits, serve
from tests.helpers import create_schema, html_errors

GREET_ROW = ["POST /", "HX-Request: true", "main.greet", "200",
             "partials/name-form.html (fragment) partials/greeting.html (out of band) "
             "partials/flashes.html (out of band)"]


@pytest.fixture
def live_feed():
    """Whether the development app has its live panel: off, so that no poll adds rows while a test reads them."""
    return False


@pytest.fixture
def dev_server(tmp_path, live_feed):
    """The development configuration (the inspector on, debug on) on a fresh SQLite file, served on 127.0.0.1; the
    rate limit off: Flask-Limiter's one limiter takes the last app's setting, and the session's testing app
    (live_app) must keep its own."""
    app = create_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.sqlite'}",
                     FLASKY_LIVE_FEED=live_feed, FLASKY_MAIL_WORKER=False, RATELIMIT_ENABLED=False)
    assert app.debug and app.config["FLASKY_INSPECTOR"]
    with app.app_context():
        create_schema()
    yield from serve(app)
    if (hub := app.extensions.get(Hub.KEY)) is not None:
        hub.close()
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()


def cells(row):
    """Read one row of the inspector's table, its cells' text with white space collapsed."""
    return [re.sub(r"\s+", " ", text).strip() for text in row.locator("td").all_text_contents()]


def test_the_panel_follows_an_htmx_greet_and_keeps_open_across_pages(page, dev_server, submit_name, axe):
    page.goto(dev_server + "/")
    rows = page.locator("#inspector-exchanges tbody tr")
    expect(rows).to_have_count(1)  # the page's own load, claimed by this tab once its script named it
    assert cells(rows.first)[:3] == ["GET /", "—", "main.index"]
    expect(page.locator("#inspector-details")).not_to_have_attribute("open", "")
    page.locator("#inspector-details summary").click()
    axe(page, "inspector open")

    submit_name(page, "Bob")
    expect(rows).to_have_count(2)
    expect(rows.first.locator(".inspector-request")).to_have_text("POST /")
    assert cells(rows.first)[:5] == GREET_ROW
    expect(page.locator("#greeting")).to_contain_text("Bob")
    axe(page, "inspector after an htmx greet")

    page.get_by_role("link", name="Visitors").click()  # boosted: a new panel, which asks for the tab's list itself
    expect(page.locator("main h1")).to_have_text("Visitors")
    expect(page.locator("#inspector-details")).to_have_attribute("open", "")
    expect(rows.first.locator(".inspector-request")).to_have_text("GET /users")
    expect(rows.first.locator(".inspector-request-headers")).to_have_text(re.compile("HX-Boosted: true"))
    expect(rows).to_have_count(3)
    axe(page, "inspector after a boosted navigation")

    page.go_back()  # htmx restores its snapshot of the home page, whose panel then asks for the tab's list again
    expect(page.locator("#name-form")).to_be_visible()
    expect(page.locator("#inspector-details")).to_have_attribute("open", "")
    expect(rows).to_have_count(3)
    expect(rows.first.locator(".inspector-request")).to_have_text("GET /users")


@pytest.mark.parametrize("live_feed", [True])
def test_the_panel_works_beside_the_live_panel_and_fits_a_phone(page, dev_server, submit_name, axe):
    page.set_viewport_size(PHONE)
    page.goto(dev_server + "/")
    expect(page.locator("#live-greetings")).to_be_visible()
    page.locator("#inspector-details summary").click()
    submit_name(page, "Bob")
    expect(page.locator("#recent-greetings")).to_contain_text("Bob")
    rows = page.locator("#inspector-exchanges tbody tr")
    expect(rows.filter(has_text="main.greet")).to_have_count(1)
    assert_fits(page, "the inspector open on a phone")
    axe(page, "the inspector beside the live panel")


def greet_without_javascript(nojs_page, dev_server):
    """Greet Ann with a plain form (PRG), then open the session's page of exchanges from the panel's link."""
    nojs_page.goto(dev_server + "/")
    nojs_page.locator("#name").fill("Ann")
    nojs_page.locator("#submit").click()
    expect(nojs_page.locator("#greeting")).to_contain_text("Ann")
    nojs_page.locator("#inspector-details summary").click()
    nojs_page.get_by_role("link", name="All exchanges of this session, on a page of their own").click()
    expect(nojs_page.locator("main h1")).to_have_text("Hypermedia exchanges")


def test_without_javascript_the_session_s_page_lists_the_plain_flow(nojs_page, dev_server, axe):
    greet_without_javascript(nojs_page, dev_server)
    rows = nojs_page.locator("#inspector-exchanges tbody tr")
    assert [cells(row)[:4] for row in rows.all()] == [
        ["GET /", "—", "main.index", "200"], ["POST /", "—", "main.greet", "303"],
        ["GET /", "—", "main.index", "200"]]
    axe(nojs_page, "the session's exchanges without JavaScript")


def test_the_panel_and_the_page_of_exchanges_are_valid_html(page, nojs_page, dev_server, submit_name, tmp_path):
    page.goto(dev_server + "/")
    submit_name(page, "Bob")
    expect(page.locator("#inspector-exchanges tbody tr")).to_have_count(2)
    greet_without_javascript(nojs_page, dev_server)
    assert html_errors({"home-after-an-htmx-greet": page.content(), "exchanges-page": nojs_page.content()},
                       tmp_path) == []
