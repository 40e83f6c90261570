"""The visitors directory in Chromium: search as you type, Back, load more, the role filter, and the no-JS twin."""

import re
from urllib.parse import parse_qs, urlsplit
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
    expect(page.locator("#q")).to_have_value("bob")
    page.go_back()
    expect(page.locator("#directory-rows li")).to_have_count(20)
    expect(page.locator("#q")).to_have_value("")
    page.go_forward()
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    expect(page.locator("#q")).to_have_value("bob")
    page.reload()
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    expect(page.locator("#q")).to_have_value("bob")


def test_load_more_appends_the_next_names_in_place(page):
    page.goto("/users")
    expect(page.locator("#directory-rows li")).to_have_count(20)
    mark(page)
    page.locator("#directory-more").get_by_role("link", name="Next names").click()
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
    page.locator("#directory-more").get_by_role("link", name="Next names").click()
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


def searches(page):
    """Record the directory searches the page asks for: their q values, in order."""
    asked = []
    page.on("request", lambda request: asked.append(parse_qs(urlsplit(request.url).query).get("q", [""])[0])
            if urlsplit(request.url).path == "/users" and request.headers.get("hx-request") else None)
    return asked


def compose(page, pinyin, text):
    """Type text through an input method, as a Chinese visitor does: the pinyin composed letter by letter while the
    candidate list is open, then the chosen characters committed (Chromium's DevTools protocol; Playwright's
    typing never composes)."""
    session = page.context.new_cdp_session(page)
    for end in range(1, len(pinyin) + 1):
        session.send("Input.imeSetComposition", {"text": pinyin[:end], "selectionStart": end, "selectionEnd": end})
        page.wait_for_timeout(60)
    page.wait_for_timeout(500)  # past the search's 300 ms pause: a composing field must still not have searched
    session.send("Input.insertText", {"text": text})


def test_typing_through_a_chinese_input_method_searches_only_what_is_committed(page):
    page.goto("/users")
    asked = searches(page)
    page.locator("#q").focus()
    compose(page, "zhang", "张")
    expect(page.locator("#directory-rows li a")).to_have_text(["张三丰"])
    expect(page).to_have_url(re.compile(r"/users\?q=%E5%BC%A0$"))
    assert asked == ["张"], "no search for the pinyin while it was composed"
    page.go_back()
    expect(page).to_have_url(re.compile(r"/users$")), "no ?q=zhang in the history"
    expect(page.locator("#directory-rows li")).to_have_count(20)


def test_inline_validation_waits_for_the_input_method_too(page):
    page.goto("/")
    checks = []
    page.on("request", lambda request: checks.append(request.post_data)
            if urlsplit(request.url).path == "/validate/name" else None)
    page.locator("#name").focus()
    compose(page, "zhang/", "张/")
    expect(page.locator("#name-error")).to_have_text("Names cannot contain “/” or be just “.” or “..”.")
    assert len(checks) == 1 and "%E5%BC%A0%2F" in checks[0], "one check, of the committed text"


@pytest.mark.parametrize("leave", ["boosted", "full"])
def test_back_shows_the_search_box_and_role_with_the_rows_they_filter(page, base_url, leave):
    page.goto("/users")
    page.locator("#q").press_sequentially("ann", delay=30)
    expect(page.locator("#directory-count")).to_have_text("25 names")
    page.locator("#role").select_option("User")
    expect(page).to_have_url(re.compile(r"/users\?q=ann&role=User$"))
    page.locator("#directory-more").get_by_role("link", name="Next names").click()
    expect(page.locator("#directory-rows li")).to_have_count(25)
    if leave == "boosted":
        page.locator("nav .nav-link", has_text="Home").click()
    else:
        page.goto(base_url + "/")
    expect(page.locator("#name")).to_be_visible()
    page.go_back()
    expect(page).to_have_url(re.compile(r"/users\?q=ann&role=User$"))
    expect(page.locator("#q")).to_have_value("ann")
    expect(page.locator("#role")).to_have_value("User")
    expect(page.locator("#directory-rows li")).to_have_count(25 if leave == "boosted" else 20)
    # The controls go on from there: a search from the restored box keeps its role.
    page.locator("#q").press("End")
    page.locator("#q").press_sequentially(" 0", delay=30)
    expect(page).to_have_url(re.compile(r"/users\?q=ann\+0&role=User$"))
    expect(page.locator("#directory-rows li")).to_have_count(10)


def test_the_language_switch_comes_back_to_the_search_as_it_is_now(page, base_url):
    page.goto("/users")
    page.locator("#q").press_sequentially("bob", delay=30)
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])
    page.locator("#language-switcher button").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_url(f"{base_url}/users?q=bob")
    expect(page.locator("#q")).to_have_value("bob")
    expect(page.locator("#directory-rows li a")).to_have_text(["Bob"])


def test_times_a_swap_brings_are_written_before_the_swap_is_painted(page):
    page.goto("/users")
    page.evaluate("""() => {
        window.blankTimes = [];
        document.addEventListener("htmx:afterSwap", () => window.blankTimes.push(
            [...document.querySelectorAll("#directory-rows [data-timestamp]")]
                .filter(time => getComputedStyle(time).visibility === "hidden" || time.textContent === "").length));
    }""")
    page.locator("#q").press_sequentially("ann", delay=30)
    expect(page.locator("#directory-count")).to_have_text("25 names")
    blank = page.evaluate("() => window.blankTimes")
    assert blank and set(blank) == {0}, "every time written by the end of the swap"
