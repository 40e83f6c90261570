"""At phone width (375 px): nothing scrolls sideways, and the navbar collapses behind a working toggler."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import assert_fits, open_phone

LONG_NAME = "Wolfeschlegelsteinhausenbergerdorffwelchevoralternwarengewissenhaft"[:64]


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_no_horizontal_scrolling_with_the_longest_name(
    mode, new_context, live_server, submit_name, console_errors, screenshot
):
    console_errors.allow_status(404, 422)
    phone = open_phone(new_context, console_errors, js=mode == "js")
    phone.goto("/")
    assert_fits(phone, "index")
    submit_name(phone, LONG_NAME + "x")
    expect(phone.locator("#name-error")).to_be_visible()
    assert_fits(phone, "index with errors")
    submit_name(phone, LONG_NAME)
    submit_name(phone, LONG_NAME[:-1])
    expect(phone.locator("#greeting-heading")).to_have_text(f"Hello, {LONG_NAME[:-1]}!")
    expect(phone.locator("#flashes .alert")).to_be_visible()
    assert_fits(phone, "greeting")
    screenshot(phone, f"phone-{mode}-greeting", docs=mode == "js")
    phone.locator("#greeting-heading a").click()
    expect(phone.locator("#user-heading")).to_have_text(f"Hello, {LONG_NAME[:-1]}!")
    assert_fits(phone, "user page")
    phone.goto(f"/user/{LONG_NAME}{LONG_NAME}")
    expect(phone.locator("#error-heading")).to_be_visible()
    assert_fits(phone, "not found")


def test_navbar_collapses_behind_a_toggler_that_opens_it(new_context, live_server, console_errors, screenshot):
    phone = open_phone(new_context, console_errors, js=True)
    phone.goto("/")
    toggler = phone.locator(".navbar-toggler")
    home = phone.locator("#navbar-links .nav-link", has_text="Home")
    expect(toggler).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(home).to_be_hidden()
    toggler.click()
    expect(home).to_be_visible()
    expect(toggler).to_have_attribute("aria-expanded", "true")
    screenshot(phone, "phone-js-navbar-open", docs=True)
    assert_fits(phone, "navbar open")
    home.click()
    expect(phone.locator("#greeting-heading")).to_be_focused()
    expect(home).to_be_hidden()
    toggler.press("Enter")
    expect(home).to_be_visible()
    expect(home).to_be_in_viewport()


def test_without_javascript_the_navbar_links_stay_reachable(new_context, live_server, console_errors):
    phone = open_phone(new_context, console_errors, js=False)
    phone.goto("/")
    home = phone.locator("#navbar-links .nav-link", has_text="Home")
    expect(home).to_be_visible()
    expect(phone.locator(".navbar-toggler")).to_be_hidden()
    assert_fits(phone, "navbar without JS")
    for _ in range(3):
        phone.keyboard.press("Tab")
    expect(home).to_be_focused()
    phone.keyboard.press("Enter")
    expect(phone).to_have_url(f"{live_server}/")
