"""Each step in Chromium with JavaScript: htmx swaps in place (no page load), local times render, no console error
(so no script or style the CSP refuses). Each test serves the step it drives (tests/chapters/ has their other tests)."""

from contextlib import contextmanager

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import HAS_MARKER, layout_shift, mark, serve
from tests.browser.test_layout_shift import LOCALES, TAGS, VIEWPORTS, late
from tests.chapters.helpers import debug_step_app, forget_names, step_app, upgraded

served = contextmanager(serve)


def test_ch02_a_link_swaps_the_greeting_in_place_and_back_and_reload_show_whole_pages(page):
    with served(step_app("ch02")) as url:
        page.goto(url + "/")
        mark(page)
        page.get_by_role("link", name="Miguel").click()
        expect(page.locator("#greeting")).to_have_text("Hello, Miguel!")
        assert page.url == url + "/user/Miguel" and page.evaluate(HAS_MARKER)
        page.go_back()
        expect(page.locator("#greeting")).to_have_text("Hello World!")
        page.go_forward()
        page.reload()  # the address htmx pushed: the whole page, not the bare fragment
        expect(page.locator("#greeting")).to_have_text("Hello, Miguel!")
        expect(page.locator("#friends")).to_be_visible()


@pytest.mark.browser_context_args(locale="zh-CN")  # Chromium then sends Accept-Language: zh-CN
def test_ch03_times_render_in_chinese_and_the_partial_swaps_in(page):
    with served(step_app("ch03")) as url:
        page.goto(url + "/")
        expect(page.locator("#local-time")).to_contain_text("年")  # moment's zh-cn "LLL": 2026年12月5日…
        expect(page.locator("#time-ago")).to_contain_text("前")  # "几秒前"
        mark(page)
        page.get_by_role("link", name="李雷").click()
        expect(page.locator("#greeting")).to_have_text("你好，李雷！")
        assert page.evaluate(HAS_MARKER)


def test_ch04_the_form_swaps_in_place_with_its_errors_then_the_greeting_and_the_flash(page, console_errors):
    console_errors.allow_status(422, 400)  # the empty name's and the stale token's, swapped in as htmx is told to
    with served(step_app("ch04")) as url:
        page.goto(url + "/")
        mark(page)
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#name-error")).to_have_text("Please enter your name.")
        expect(page.get_by_label("What is your name?")).to_be_focused()
        page.get_by_label("What is your name?").fill("Alice")
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#greeting")).to_have_text("Hello, Alice!")
        page.get_by_label("What is your name?").fill("Bob")
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#flashes")).to_have_text("Looks like you have changed your name!")
        page.locator("#csrf_token").evaluate("field => { field.value = 'stale'; }")
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#form-expired")).to_have_text("This form has expired, please try again.")
        assert page.url == url + "/" and page.evaluate(HAS_MARKER)


@pytest.mark.parametrize("name", ["ch05", "ch06"])
def test_ch05_and_ch06_remember_a_name_and_ch06_mails_the_admin(page, step_environment, smtp_sink, name):
    module = upgraded(name, step_environment)
    smtp_sink.mailbox.messages.clear()
    with served(module.app) as url:
        try:
            page.goto(url + "/")
            for known in ("Pleased to meet you!", "Happy to see you again!"):
                page.get_by_label("What is your name?").fill("Carol")
                page.get_by_role("button", name="Submit").click()
                expect(page.locator("#known")).to_have_text(known)
        finally:
            forget_names(module)
    mails = 1 if name == "ch06" else 0
    assert len(smtp_sink.mailbox.wait_for(mails, timeout=5)) == mails


@pytest.mark.parametrize("step", ["ch03", "ch04", "ch05", "ch06"])
@pytest.mark.parametrize("language", LOCALES)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_nothing_moves_once_a_step_s_page_has_shown(step, language, viewport, browser, browser_context_args,
                                                     console_errors, step_environment, request):
    app = upgraded(step, step_environment).app if step in ("ch05", "ch06") else step_app(step)
    context = browser.new_context(**{**browser_context_args, "viewport": VIEWPORTS[viewport],
                                     "locale": LOCALES[language], "timezone_id": "UTC"})
    context.set_default_timeout(5_000)
    request.addfinalizer(context.close)
    page = console_errors.watch(context.new_page())
    page.route("**/flask-moment.js", late)
    with served(app) as url:
        page.goto(url + "/")
        expect(page.locator("html")).to_have_attribute("lang", TAGS[language])
        expect(page.locator(".flask-moment")).to_have_count(0)  # moment.js has written every time
        shift = layout_shift(page)
        context.close()  # before the server stops: a request still running (the favicon's) would be reset, an error
    assert shift.total == 0, str(shift)


def test_ch04_under_debug_the_inspector_lists_the_htmx_greet_as_it_happens(page, axe):
    with served(debug_step_app("ch04")) as url:
        page.goto(url + "/")
        rows = page.locator("#inspector-exchanges tbody tr")
        expect(rows).to_have_count(1)  # the page's own load, claimed by this tab
        page.locator("#inspector-details summary").click()
        page.get_by_label("What is your name?").fill("Alice")
        page.get_by_role("button", name="Submit").click()
        expect(page.locator("#greeting")).to_have_text("Hello, Alice!")
        expect(rows).to_have_count(2)
        expect(rows.first).to_contain_text("POST /")
        expect(rows.first).to_contain_text("HX-Request: true")
        expect(rows.first.locator(".inspector-fragment")).to_have_text("greeted.html (fragment)")
        axe(page, "chapter 4 with the inspector open")
