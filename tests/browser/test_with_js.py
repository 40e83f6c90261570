"""With JavaScript: htmx swaps in place, keeps focus sensible, ticks local times and shows every error."""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import HAS_MARKER, assert_full_page, mark

CHANGED = "Looks like you have changed your name!"
FOCUSED_ID = "() => document.activeElement && document.activeElement.id"
PUBLIC = "Everyone can see the name you give: it is listed under Visitors and in “Recently greeted”."  # the hint


def test_submitting_a_name_swaps_the_greeting_in_place(page, live_server, submit_name, usernames, screenshot):
    page.goto("/")
    mark(page)
    answer = submit_name(page, "Alice")
    assert answer.status == 200
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Alice!")
    expect(page.locator("#greeting-status")).to_have_text("Pleased to meet you!")
    expect(page.locator("#greeting-heading")).to_be_focused()
    expect(page.locator("#name")).to_have_value("")
    assert page.evaluate(HAS_MARKER), "no page load"
    assert page.url == f"{live_server}/"

    # Screen readers only announce changes inside a live region that was already there: it must survive swaps.
    page.locator("#flashes").evaluate("region => { region.flaskyMarker = true; }")
    submit_name(page, "Bob")
    flashes = page.locator("#flashes")
    expect(flashes).to_have_text(CHANGED)
    assert flashes.evaluate("region => region.flaskyMarker === true"), "the live region was kept, only refilled"
    expect(page.get_by_role("status")).to_have_text(CHANGED)
    expect(flashes.locator(".alert")).to_be_visible()
    expect(flashes).to_have_attribute("aria-live", "polite")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Bob!")
    expect(page.locator("#greeting-heading")).to_be_focused()
    assert page.evaluate(HAS_MARKER)
    assert page.url == f"{live_server}/"
    screenshot(page, "js-greeting-with-flash")

    submit_name(page, "Bob")
    expect(page.locator("#greeting-status")).to_have_text("Happy to see you again!")
    expect(flashes).to_have_text("")
    assert usernames() == ["Alice", "Bob"]


def test_enter_in_the_field_submits_the_form(page, live_server, submit_name, usernames):
    page.goto("/")
    mark(page)
    submit_name(page, "Carol", key="Enter")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Carol!")
    assert page.evaluate(HAS_MARKER)
    assert usernames() == ["Carol"]


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Please enter your name."),
        ("   ", "Please enter your name."),
        ("x" * 65, "Names can be at most 64 characters long."),
        ("a/b", "Names cannot contain “/” or be just “.” or “..”."),
        ("..", "Names cannot contain “/” or be just “.” or “..”."),
    ],
)
def test_an_invalid_name_shows_the_error_in_place_and_focuses_the_field(
    page, live_server, submit_name, assert_name_error, console_errors, usernames, name, message
):
    console_errors.allow_status(422)
    page.goto("/")
    mark(page)
    assert_name_error(page, submit_name(page, name), message, name.strip())
    expect(page.get_by_role("textbox", name="What is your name?")).to_be_focused()
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Stranger!")
    assert page.evaluate(HAS_MARKER)
    assert usernames() == []


def test_fixing_an_invalid_name_then_submitting_works(page, live_server, submit_name, console_errors, usernames):
    console_errors.allow_status(422)
    page.goto("/")
    submit_name(page, "")
    expect(page.locator("#name")).to_be_focused()
    submit_name(page, "Dora")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Dora!")
    expect(page.locator("#name-error")).to_have_text("")
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "false")
    assert usernames() == ["Dora"]


def test_inline_validation_shows_and_clears_errors_while_typing(page, live_server, usernames):
    page.goto("/")
    field, error = page.locator("#name"), page.locator("#name-error")
    live = page.locator("[aria-live]:has(> #name-error)")
    live.evaluate("region => { region.flaskyMarker = true; }")
    field.press_sequentially("Ann/", delay=20)
    expect(error).to_have_text("Names cannot contain “/” or be just “.” or “..”.")
    expect(field).to_have_accessible_description("Names cannot contain “/” or be just “.” or “..”. " + PUBLIC)
    assert live.evaluate("region => region.flaskyMarker === true"), "the live region was kept, only refilled"
    expect(error).to_be_visible()
    expect(field).to_have_attribute("aria-invalid", "true")
    expect(field).to_have_class(re.compile(r"\bis-invalid\b"))
    expect(field).to_be_focused()
    field.press("Backspace")
    expect(error).to_have_text("")
    expect(error).to_be_hidden()
    expect(field).to_have_attribute("aria-invalid", "false")
    expect(field).not_to_have_class(re.compile(r"\bis-invalid\b"))
    expect(field).to_have_accessible_description(PUBLIC)
    expect(field).to_have_value("Ann")
    expect(field).to_be_focused()
    assert usernames() == [], "validation stores nothing"


def test_local_times_are_visible_after_every_swap_and_keep_ticking(page, live_server, submit_name, console_errors):
    console_errors.allow_status(422)
    page.clock.install(time=datetime.now())
    page.goto("/")
    local, ago = page.locator("#local-time"), page.locator("#time-ago")

    def assert_times_shown(expected_ago):
        expect(local.locator("[data-timestamp]")).to_be_visible()
        expect(local).to_contain_text(re.compile(r"\d{4} \d{1,2}:\d{2}"))
        expect(ago.locator("[data-timestamp]")).to_have_text(expected_ago)

    assert_times_shown("a few seconds ago")
    submit_name(page, "Eve")
    assert_times_shown("a few seconds ago")
    submit_name(page, "")
    assert_times_shown("a few seconds ago")
    page.clock.run_for(timedelta(minutes=3).total_seconds() * 1000)
    assert_times_shown("3 minutes ago")
    submit_name(page, "Eve")
    page.clock.run_for(timedelta(minutes=2).total_seconds() * 1000)
    assert_times_shown("5 minutes ago")


def test_user_page_times_are_visible_after_boosted_navigation(page, live_server, submit_name):
    page.clock.install(time=datetime.now())
    page.goto("/")
    submit_name(page, "Fay")
    page.locator("#greeting-heading a").click()
    expect(page).to_have_url(f"{live_server}/user/Fay")
    first_seen = page.locator("#first-seen")
    expect(first_seen.locator("[data-format]")).to_be_visible()
    expect(first_seen.locator("[data-function=fromNow]")).to_have_text("a few seconds ago")
    page.clock.run_for(timedelta(minutes=2).total_seconds() * 1000)
    expect(first_seen.locator("[data-function=fromNow]")).to_have_text("2 minutes ago")

    page.go_back()
    ago = page.locator("#time-ago [data-function=fromNow]")
    expect(ago).to_have_text("2 minutes ago")
    expect(page.locator("#local-time [data-format]")).to_be_visible()
    page.clock.run_for(timedelta(minutes=2).total_seconds() * 1000)
    expect(ago).to_have_text("4 minutes ago")
    page.go_forward()
    page.clock.run_for(timedelta(minutes=1).total_seconds() * 1000)
    expect(first_seen.locator("[data-function=fromNow]")).to_have_text("5 minutes ago")


def test_boosted_navigation_back_forward_and_reload_always_show_full_pages(page, live_server, submit_name):
    page.goto("/")
    submit_name(page, "Gus")
    submit_name(page, "Hal")
    mark(page)
    page.locator("#greeting-heading a").click()
    expect(page).to_have_url(f"{live_server}/user/Hal")
    assert_full_page(page, "Hello, Hal!")
    expect(page).to_have_title("Hal – Flasky")
    expect(page.locator("#user-heading")).to_be_focused()
    assert page.evaluate(HAS_MARKER), "boosted: no page load"

    page.go_back()
    expect(page).to_have_url(f"{live_server}/")
    assert_full_page(page, "Hello, Hal!")
    expect(page.locator("#name-form")).to_be_visible()
    expect(page.locator("#local-time [data-timestamp]")).to_be_visible()
    expect(page).to_have_title("Flasky")
    expect(page.locator("#flashes"), "a flash is news once: Back does not replay it").to_have_text("")

    page.go_forward()
    expect(page).to_have_url(f"{live_server}/user/Hal")
    assert_full_page(page, "Hello, Hal!")
    expect(page.locator("#first-seen [data-format]")).to_be_visible()

    page.reload()
    assert_full_page(page, "Hello, Hal!")
    expect(page.locator("#user-card")).to_be_visible()

    page.go_back()
    expect(page).to_have_url(f"{live_server}/")
    page.reload()
    assert_full_page(page, "Hello, Hal!")
    expect(page.locator("#name-form")).to_be_visible()
    expect(page.locator("#flashes")).to_have_text("")


@pytest.mark.parametrize("name", ["a b?c#d%e&f", "日本語", "🚀 Rocket"])
def test_boosted_navigation_carries_any_name_in_the_url(page, live_server, submit_name, name):
    page.goto("/")
    submit_name(page, name)
    page.locator("#greeting-heading a").click()
    expect(page.locator("#user-heading")).to_have_text(f"Hello, {name}!")
    page.reload()
    expect(page.locator("#user-heading")).to_have_text(f"Hello, {name}!")
    page.go_back()
    expect(page.locator("#greeting-heading")).to_have_text(f"Hello, {name}!")
    page.go_forward()
    expect(page.locator("#user-heading")).to_have_text(f"Hello, {name}!")


def test_back_after_the_history_cache_is_lost_still_shows_a_full_page(page, live_server, submit_name):
    page.goto("/")
    submit_name(page, "Ida")
    page.locator("#greeting-heading a").click()
    expect(page).to_have_url(f"{live_server}/user/Ida")
    page.evaluate("() => sessionStorage.removeItem('htmx-history-cache')")
    with page.expect_response(lambda r: r.request.headers.get("hx-history-restore-request") == "true") as answer:
        page.go_back()
    assert answer.value.status == 200
    expect(page).to_have_url(f"{live_server}/")
    expect(page).to_have_title("Flasky")
    assert_full_page(page, "Hello, Ida!")
    expect(page.locator("#name-form")).to_be_visible()
    expect(page.locator("#local-time [data-timestamp]")).to_be_visible()


def test_back_from_a_full_page_load_shows_the_full_swapped_page(page, live_server, submit_name):
    page.goto("/")
    submit_name(page, "Ivy")
    page.goto("/user/Ivy")
    assert_full_page(page, "Hello, Ivy!")
    page.go_back()
    expect(page).to_have_url(f"{live_server}/")
    assert_full_page(page, "Hello, Ivy!")
    expect(page.locator("#name-form")).to_be_visible()
    page.go_forward()
    assert_full_page(page, "Hello, Ivy!")
    expect(page.locator("#user-card")).to_be_visible()


def test_home_link_navigates_boosted_and_focuses_the_heading(page, live_server, submit_name):
    page.goto("/")
    submit_name(page, "Jo")
    page.locator("#greeting-heading a").click()
    expect(page).to_have_url(f"{live_server}/user/Jo")
    mark(page)
    page.locator("#user-card a", has_text="Back to the greeting").click()
    expect(page).to_have_url(f"{live_server}/")
    assert_full_page(page, "Hello, Jo!")
    expect(page.locator("#greeting-heading")).to_be_focused()
    expect(page.locator("nav .nav-link", has_text="Home")).to_have_attribute("aria-current", "page")
    assert page.evaluate(HAS_MARKER)


def test_an_expired_form_shows_a_message_and_works_again(
    page, live_server, submit_name, expire_csrf_token, console_errors, usernames
):
    console_errors.allow_status(400)
    page.goto("/")
    mark(page)
    expire_csrf_token(page)
    answer = submit_name(page, "Kim")
    assert answer.status == 400
    expect(page.locator("#form-error")).to_have_text("This form has expired, please try again.")
    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Kim")
    expect(page.locator("#name")).to_be_focused()
    assert usernames() == []
    submit_name(page, "Kim")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Kim!")
    expect(page.locator("#form-error")).to_have_count(0)
    assert page.evaluate(HAS_MARKER)
    assert usernames() == ["Kim"]


@pytest.mark.parametrize(
    "path, status, message",
    [
        ("/no/such/page", 404, "Page not found: There is no page at this address."),
        ("/test/explode", 500, re.compile(r"^Something went wrong: .* \(incident [0-9a-f]{8}\)$")),
    ],
)
def test_an_error_during_an_htmx_request_shows_a_message(
    page, live_server, submit_name, console_errors, usernames, path, status, message
):
    console_errors.allow_status(status)
    page.goto("/")
    mark(page)
    # The form's request reaches a URL that fails, as a server error or a vanished route would.
    page.route(f"{live_server}/", lambda route: route.continue_(url=f"{live_server}{path}")
               if route.request.method == "POST" else route.continue_())
    answer = submit_name(page, "Lou")
    assert answer.status == status
    alert = page.locator("#flashes .alert-danger")
    expect(alert).to_have_text(message)
    expect(alert).to_be_visible()
    expect(page.locator("#name-form")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Lou")
    expect(page.locator("#name-form")).not_to_have_attribute("aria-busy", "true")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Stranger!")
    assert "hunter2" not in page.content()
    assert page.evaluate(HAS_MARKER)


def test_an_unreachable_server_shows_a_message(page, live_server, console_errors):
    # Chromium and htmx both log the failed request: expected here, and nothing else is.
    console_errors.allow(r"net::ERR_FAILED|^htmx:(afterRequest|sendError)\b")
    page.goto("/")
    page.route(f"{live_server}/", lambda route: route.abort() if route.request.method == "POST" else route.continue_())
    page.locator("#name").fill("Max")
    page.locator("#submit").click()
    alert = page.locator("#flashes .alert-danger")
    expect(alert).to_have_text("The server could not be reached. Please check your connection and try again.")
    expect(page.locator("#name-form")).not_to_have_attribute("aria-busy", "true")
    page.unroute(f"{live_server}/")
    page.locator("#submit").click()
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Max!")
    expect(alert).to_have_count(0)
