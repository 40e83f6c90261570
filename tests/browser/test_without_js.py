"""Without JavaScript: plain forms and links, Post/Redirect/Get, error pages and local times as text."""

import re

import pytest
from playwright.sync_api import expect

CHANGED = "Looks like you have changed your name!"


def test_submitting_a_name_redirects_and_greets(nojs_page, live_server, submit_name, usernames, screenshot):
    page = nojs_page
    page.goto("/")
    answer = submit_name(page, "Alice")
    assert answer.status == 303
    assert answer.headers["location"] == "/"
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Alice!")
    expect(page.locator("#greeting-status")).to_have_text("Pleased to meet you!")
    expect(page.locator("#flashes")).to_have_text("")

    submit_name(page, "Bob", key="Enter")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Bob!")
    expect(page.locator("#flashes .alert")).to_have_text(CHANGED)
    expect(page.locator("#flashes .alert")).to_be_visible()
    screenshot(page, "nojs-greeting-with-flash")

    page.reload()
    expect(page.locator("#flashes")).to_have_text("")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Bob!")
    submit_name(page, "Bob")
    expect(page.locator("#greeting-status")).to_have_text("Happy to see you again!")
    assert usernames() == ["Alice", "Bob"]

    # Post/Redirect/Get leaves only GET pages in the history: Back and Forward never resend the form.
    methods = []
    page.on("request", lambda request: methods.append(request.method) if request.is_navigation_request() else None)
    for _ in range(2):
        page.go_back()
        expect(page).to_have_url(f"{live_server}/")
        expect(page.locator("#name-form")).to_be_visible()
    page.go_forward()
    expect(page.locator("#greeting-heading")).to_be_visible()
    assert methods and set(methods) == {"GET"}, methods


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Please enter your name."),
        ("x" * 65, "Names can be at most 64 characters long."),
        ("a/b", "Names cannot contain “/” or be just “.” or “..”."),
    ],
)
def test_an_invalid_name_shows_the_page_with_the_error_and_focuses_the_field(
    nojs_page, live_server, submit_name, assert_name_error, console_errors, usernames, name, message
):
    page = nojs_page
    console_errors.allow_status(422)
    page.goto("/")
    assert_name_error(page, submit_name(page, name), message, name)
    expect(page.locator("nav .navbar-brand")).to_be_visible()
    assert usernames() == []


def test_an_expired_form_shows_the_page_with_a_message(
    nojs_page, live_server, submit_name, expire_csrf_token, console_errors, usernames
):
    page = nojs_page
    console_errors.allow_status(400)
    page.goto("/")
    expire_csrf_token(page)
    answer = submit_name(page, "Kim")
    assert answer.status == 400
    expect(page.locator("#form-error")).to_have_text("This form has expired, please try again.")
    expect(page.locator("#form-error")).to_be_visible()
    expect(page.locator("#name")).to_have_value("Kim")
    assert usernames() == []
    submit_name(page, "Kim")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Kim!")
    assert usernames() == ["Kim"]


def test_user_pages_through_plain_links(nojs_page, live_server, submit_name):
    page = nojs_page
    page.goto("/")
    submit_name(page, "Zoé")
    page.locator("#greeting-heading a").click()
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/user/") + r"Zo(é|%C3%A9)$"))
    expect(page.locator("#user-heading")).to_have_text("Hello, Zoé!")
    expect(page).to_have_title("Zoé – Flasky")
    for row in ("#first-seen", "#last-seen"):
        expect(page.locator(row)).to_have_text(
            re.compile(r"^\d{2} \w+ \d{4}, \d{2}:\d{2} UTC \(a few seconds ago\)$"), use_inner_text=True
        )
        expect(page.locator(f"{row} [data-timestamp]").first).to_be_hidden()
    page.locator("#user-card a", has_text="Back to the greeting").click()
    expect(page).to_have_url(f"{live_server}/")
    page.go_back()
    expect(page.locator("#user-heading")).to_have_text("Hello, Zoé!")
    page.go_forward()
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Zoé!")


def test_local_time_is_shown_as_text(nojs_page, live_server):
    page = nojs_page
    page.goto("/")
    expect(page.locator("#local-time")).to_have_text(
        re.compile(r"^The local date and time is \d{2} \w+ \d{4}, \d{2}:\d{2} UTC\.$"), use_inner_text=True
    )
    expect(page.locator("#time-ago")).to_have_text("That was a few seconds ago.", use_inner_text=True)
    for time in page.locator("main [data-timestamp]").all():
        # Not just unseen: the room its text keeps for moment.js (with JavaScript) would be a blank in the sentence.
        expect(time).to_have_css("display", "none")


@pytest.mark.parametrize(
    "path, status, heading, message",
    [
        ("/user/Nobody", 404, "Page not found", "Nobody called “Nobody” has been here yet."),
        ("/no/such/page", 404, "Page not found", "There is no page at this address."),
        ("/test/explode", 500, "Something went wrong", re.compile(r"^An unexpected error happened")),
    ],
)
def test_error_pages(nojs_page, live_server, console_errors, path, status, heading, message):
    page = nojs_page
    console_errors.allow_status(status)
    answer = page.goto(path)
    assert answer.status == status
    expect(page.locator("#error-heading")).to_have_text(heading)
    expect(page.locator("#error-message")).to_have_text(message)
    expect(page.locator("nav .navbar-brand")).to_be_visible()
    assert "hunter2" not in page.content()
    page.locator("#error a", has_text="Go to the home page").click()
    expect(page).to_have_url(f"{live_server}/")
