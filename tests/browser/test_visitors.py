"""The visitors directory in Chromium: search as you type, Back, load more, the role filter, and the no-JS twin."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import insert, select

from flasky.extensions import db
from flasky.models import Role, User
from flasky.text import search_key
from tests.browser.helpers import HAS_MARKER, mark

NAMES = [f"Ann {number:02d}" for number in range(25)] + ["Bob", "张三丰", "Zoë Ångström"]


@pytest.fixture(autouse=True)
def visitors(live_app, fresh_database):
    """Store NAMES, the first the most recently seen; Bob is a Moderator."""
    start = datetime(2026, 1, 1)
    with live_app.app_context():
        roles = dict(db.session.execute(select(Role.name, Role.id)).all())
        db.session.execute(insert(User), [
            {"username": name, "search_key": search_key(name),
             "role_id": roles[Role.MODERATOR if name == "Bob" else Role.USER],
             "first_seen": start - timedelta(days=3), "last_seen": start - timedelta(minutes=number)}
            for number, name in enumerate(NAMES)])
        db.session.commit()
        db.session.remove()


def rows(page):
    """The names the directory shows, in order."""
    return page.locator("#directory-rows li a").all_inner_texts()


def test_typing_filters_in_place_and_the_url_follows(page):
    page.goto("/users")
    expect(page.locator("#directory-count")).to_have_text("28 names")
    mark(page)
    page.locator("#q").press_sequentially("ångs", delay=30)
    expect(page.locator("#directory-rows li a")).to_have_text(["Zoë Ångström"])
    expect(page.locator("#directory-count")).to_have_text("1 name")
    expect(page).to_have_url(re.compile(r"/users\?q=%C3%A5ngs$"))
    assert page.evaluate(HAS_MARKER)
    # moment.js rendered the swapped rows' times ("11 months ago"), as it does the page's.
    expect(page.locator("#directory-rows [data-timestamp]").first).to_have_text(re.compile(r"\bago$"))


def test_back_returns_to_the_previous_query_s_results(page):
    page.goto("/users")
    page.locator("#q").fill("bob")
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    page.locator("#q").fill("张")
    expect(page.locator("#directory-rows li a")).to_have_text(["张三丰"])
    page.go_back()
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    expect(page).to_have_url(re.compile(r"/users\?q=bob$"))
    page.reload()
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    expect(page.locator("#q")).to_have_value("bob")


def test_load_more_appends_the_next_names_in_place(page):
    page.goto("/users")
    expect(page.locator("#directory-rows li")).to_have_count(20)
    mark(page)
    page.locator("#directory-more").get_by_role("link", name="More names").click()
    expect(page.locator("#directory-rows li")).to_have_count(28)
    assert rows(page) == NAMES and page.evaluate(HAS_MARKER)
    expect(page.locator("#directory-more a")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/users$"))


def test_the_role_filter_applies_on_change(page):
    page.goto("/users")
    page.locator("#role").select_option("Moderator")
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    expect(page).to_have_url(re.compile(r"role=Moderator"))


def test_without_js_the_form_and_next_links_give_the_same_rows(page, nojs_page):
    page.goto("/users")
    page.locator("#q").fill("ann")
    expect(page.locator("#directory-count")).to_have_text("25 names")
    page.locator("#directory-more").get_by_role("link", name="More names").click()
    expect(page.locator("#directory-rows li")).to_have_count(25)
    with_js = rows(page)

    nojs_page.goto("/users")
    nojs_page.locator("#q").fill("ann")
    nojs_page.get_by_role("button", name="Search").click()
    expect(nojs_page).to_have_url(re.compile(r"/users\?q=ann"))
    first = rows(nojs_page)
    nojs_page.locator("#directory-more a[rel=next]").click()
    second = rows(nojs_page)
    assert first + second == with_js
    nojs_page.locator("#directory-more a[rel=prev]").click()
    assert rows(nojs_page) == first


def test_a_bad_search_shows_its_message_in_place(page, console_errors):
    console_errors.allow_status(400)
    page.goto("/users")
    page.locator("#q").fill("x" * 65)
    expect(page.locator("#directory-error")).to_have_text("A search can be at most 64 characters long.")


def reach_list(page):
    page.goto("/users")


def reach_results(page):
    page.goto("/users")
    page.locator("#q").fill("ann")
    expect(page).to_have_url(re.compile(r"\?q=ann$"))  # pushed once the rows are in


def reach_empty(page):
    page.goto("/users?q=nobody")


def reach_error(page):
    page.goto("/users?q=" + "x" * 65)


def reach_more(page):
    page.goto("/users")
    page.locator("#directory-more a[rel=next]").click()
    expect(page.locator("#directory-rows li")).to_have_count(28)


STATES = {"list": reach_list, "results": reach_results, "empty": reach_empty, "error": reach_error,
          "more": reach_more}


@pytest.mark.parametrize("locale", ["en-GB", pytest.param("zh-CN", marks=pytest.mark.browser_context_args(
    locale="zh-CN"))])
@pytest.mark.parametrize("state", sorted(STATES))
def test_every_directory_state_passes_axe(page, console_errors, axe, screenshot, state, locale):
    console_errors.allow_status(400)
    STATES[state](page)
    if locale == "zh-CN":
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("#directory-heading")).to_have_text("访客")
    axe(page, f"directory-{state}-{locale}")
    language = "zh" if locale == "zh-CN" else "js"
    screenshot(page, f"{language}-directory-{state}", docs=state == "results")
