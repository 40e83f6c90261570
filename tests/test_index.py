"""The index page and the name form, in full-page (no JS) and fragment (htmx) modes."""

from datetime import datetime

import pytest

from flasky import greeting

VARY = {"HX-Request", "HX-Boosted", "HX-History-Restore-Request"}


def vary(response):
    return {value.strip() for value in response.headers.get("Vary", "").split(",") if value.strip()}


def test_first_visit_is_a_full_page_with_layout_greeting_form_and_local_time(index):
    assert index.status_code == 200
    assert index.mimetype == "text/html"
    assert VARY <= vary(index)
    soup = index.soup
    assert soup.title.string == "Flasky"
    assert soup.select_one("nav .navbar-brand").get_text() == "Flasky"
    assert soup.select_one("nav .navbar-toggler")["data-bs-target"] == "#navbar-links"
    assert soup.select_one("#navbar-links a.nav-link").get_text() == "Home"
    assert index.text_of("greeting") == "Hello, Stranger!"
    assert soup.select_one("#greeting-status") is None
    assert soup.select_one("label[for=name]").get_text() == "What is your name?"
    assert soup.select_one("#submit")["value"] == "Submit"
    assert soup.select_one("#csrf_token")["value"]
    flashes = soup.select_one("#flashes")
    assert flashes["aria-live"] == "polite" and flashes.get_text(strip=True) == ""


def test_local_time_uses_flask_moment_with_a_no_js_fallback(index):
    local, ago = index.fragment("local-time"), index.fragment("time-ago")
    assert local.select_one(".flask-moment")["data-format"] == "LLL"
    assert ago.select_one(".flask-moment")["data-function"] == "fromNow"
    assert ago.select_one(".flask-moment")["data-refresh"] == "60000"
    assert local.noscript.get_text().endswith("UTC")
    assert ago.noscript.get_text() == "a few seconds ago"


def test_layout_loads_vendored_assets_and_configures_htmx(index, client):
    import json

    soup = index.soup
    sources = [tag["src"] for tag in soup.select("script[src]")] + [tag["href"] for tag in soup.select("link[href]")]
    assert all(src.startswith("/") for src in sources), "no CDN"
    for src in sources:
        with client.get(src) as response:
            assert response.status_code == 200, src
    assert any("htmx-2.0." in src for src in sources)
    config = json.loads(soup.select_one('meta[name="htmx-config"]')["content"])
    assert config["historyRestoreAsHxRequest"] is False
    assert config["allowEval"] is False
    assert "style" not in config["attributesToSettle"], "settling a style attribute would break the CSP"
    assert any(rule["code"] == "[2345].." and rule["swap"] for rule in config["responseHandling"])
    assert soup.body["hx-boost"] == "true"


def test_name_form_posts_with_htmx_and_without(index):
    form = index.soup.select_one("#name-form")
    assert form["method"] == "post" and form["action"] == "/"
    assert form["hx-post"] == "/" and form["hx-target"] == "this" and form["hx-swap"] == "outerHTML"
    field = form.select_one("#name")
    assert field["hx-post"] == "/validate/name"
    assert field["aria-describedby"] == "name-error name-help"
    assert all(index.soup.find(id=described) for described in field["aria-describedby"].split())
    assert field["aria-invalid"] == "false"


@pytest.mark.parametrize(("app_overrides", "language", "help_text"), [
    ({}, "en", "Everyone can see the name you give: it is listed under Visitors and in “Recently greeted”."),
    ({"FLASKY_LIVE_FEED": False}, "en", "Everyone can see the name you give: it is listed under Visitors."),
    ({"FLASKY_DIRECTORY": False}, "en", "Everyone can see the name you give: it shows in “Recently greeted”."),
    ({"FLASKY_DIRECTORY": False, "FLASKY_LIVE_FEED": False}, "en",
     "Everyone can see the name you give, on its own page."),
    ({}, "zh", "你填写的名字所有人都能看到：它会列在“访客”名录里，并显示在“最近的问候”中。"),
    ({"FLASKY_LIVE_FEED": False}, "zh", "你填写的名字所有人都能看到：它会列在“访客”名录里。"),
    ({"FLASKY_DIRECTORY": False}, "zh", "你填写的名字所有人都能看到：它会显示在“最近的问候”中。"),
    ({"FLASKY_DIRECTORY": False, "FLASKY_LIVE_FEED": False}, "zh", "你填写的名字所有人都能在它的页面上看到。"),
], ids=["both", "directory", "live feed", "neither", "both, Chinese", "directory, Chinese", "live feed, Chinese",
        "neither, Chinese"])
def test_the_name_form_says_where_the_name_shows(client, language, help_text):
    for page in (client.get("/", headers={"Accept-Language": language}),
                 client.post("/validate/name", data={"name": ""}, headers={"Accept-Language": language})):
        assert page.text_of("name-help") == help_text
        assert page.soup.select_one("#name-form #name")["aria-describedby"] == "name-error name-help"


@pytest.mark.parametrize(
    "headers, fragment",
    [
        ({}, False),
        ({"HX-Request": "true"}, True),
        ({"HX-Request": "true", "HX-Boosted": "true"}, False),
        ({"HX-Request": "true", "HX-History-Restore-Request": "true"}, False),
        ({"HX-History-Restore-Request": "true"}, False),
        ({"HX-Request": "TRUE"}, False),
        ({"HX-Request": "1"}, False),
        ({"HX-Request": ""}, False),
    ],
)
def test_get_answers_fragment_only_for_plain_htmx_swaps(client, headers, fragment):
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert VARY <= vary(response)
    assert (response.soup.html is None) is fragment
    assert response.fragment("name-form") is not None


def test_plain_post_of_a_new_name_stores_it_and_redirects_with_303(greet, client, usernames):
    response = greet("Alice")
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert usernames() == ["Alice"]
    page = client.get("/")
    assert page.text_of("greeting-heading") == "Hello, Alice!"
    assert page.text_of("greeting-status") == "Pleased to meet you!"
    assert page.soup.select_one("#greeting a")["href"] == "/user/Alice"
    assert page.text_of("flashes") == ""


def test_plain_post_of_a_known_name_says_happy_to_see_you_again(greet, client, usernames):
    greet("Alice")
    client.delete_cookie("session")
    fresh = client.get("/")
    client.submit(fresh, "#name-form", name="Alice")
    page = client.get("/")
    assert page.text_of("greeting-status") == "Happy to see you again!"
    assert page.text_of("flashes") == ""
    assert usernames() == ["Alice"]


def test_changing_the_name_flashes_once(greet, client):
    greet("Alice")
    greet("Bob")
    page = client.get("/")
    assert page.text_of("flashes") == "Looks like you have changed your name!"
    assert page.text_of("greeting-heading") == "Hello, Bob!"
    assert client.get("/").text_of("flashes") == ""


def test_htmx_post_answers_fresh_form_with_greeting_and_flashes_out_of_band(greet, usernames):
    greet("Alice", htmx=True)
    response = greet("Bob", htmx=True)
    assert response.status_code == 200
    assert "Location" not in response.headers
    assert VARY <= vary(response)
    soup = response.soup
    assert soup.html is None, "a fragment, not a page"
    top = [tag for tag in soup.find_all(recursive=False)]
    assert [tag["id"] for tag in top] == ["name-form", "greeting", "flashes"]
    assert "hx-swap-oob" not in top[0].attrs
    assert soup.select_one("#name")["value"] == ""
    assert soup.select_one("#greeting")["hx-swap-oob"] == "true"
    assert soup.select_one("#greeting h1").has_attr("autofocus")
    assert response.text_of("greeting") == "Hello, Bob! Pleased to meet you!"
    flashes = soup.select_one("#flashes")
    assert flashes["hx-swap-oob"] == "innerHTML" and flashes["aria-live"] == "polite"
    assert response.text_of("flashes") == "Looks like you have changed your name!"
    assert usernames() == ["Alice", "Bob"]


def test_htmx_post_clears_an_old_flash(greet):
    greet("Alice", htmx=True)
    greet("Bob", htmx=True)
    response = greet("Bob", htmx=True)
    assert response.text_of("flashes") == ""
    assert response.text_of("greeting-status") == "Happy to see you again!"


def test_plain_post_of_an_invalid_name_shows_the_full_page_with_errors_and_422(greet, usernames):
    response = greet("   ")
    assert response.status_code == 422
    assert response.soup.html is not None
    field = response.soup.select_one("#name")
    assert "is-invalid" in field["class"]
    assert field["aria-invalid"] == "true"
    assert field.has_attr("autofocus")
    assert response.text_of("name-error") == "Please enter your name."
    assert usernames() == []


def test_htmx_post_of_an_invalid_name_swaps_the_form_with_errors_and_422(greet, usernames):
    response = greet("<b>" + "x" * 70 + "</b>", htmx=True)
    assert response.status_code == 422
    assert response.soup.html is None
    assert [tag["id"] for tag in response.soup.find_all(recursive=False)] == ["name-form"]
    assert response.text_of("name-error") == "Names can be at most 64 characters long."
    assert response.soup.select_one("#name")["value"] == "<b>" + "x" * 70 + "</b>", "the typed name is kept"
    assert "<b>" not in response.get_data(as_text=True)
    assert usernames() == []


def test_names_are_normalised_to_nfc_and_trimmed(greet, usernames):
    greet("  Zoe\u0301  ")
    greet("Zo\u00e9")
    assert usernames() == ["Zo\u00e9"]


def test_html_in_a_name_is_escaped_everywhere(greet, client, usernames):
    name = '<script>alert(1)<img src=x onerror=alert(2) hx-get="." a=\'b\'>'
    assert len(name) <= 64
    greet(name)
    page = client.get("/")
    html = page.get_data(as_text=True)
    assert "<script>alert" not in html and "<img" not in html
    assert page.soup.select_one("#greeting a").get_text() == name
    user_page = client.get(page.soup.select_one("#greeting a")["href"])
    assert user_page.status_code == 200
    assert user_page.soup.title.get_text() == f"{name} – Flasky"
    assert "<script>alert" not in user_page.get_data(as_text=True)


def test_a_fresh_page_after_htmx_post_shows_the_remembered_greeting(greet, client):
    greet("Alice", htmx=True)
    page = client.get("/")
    assert page.soup.html is not None
    assert page.text_of("greeting") == "Hello, Alice! Pleased to meet you!"
    assert page.text_of("flashes") == ""


@pytest.mark.parametrize("htmx", [False, True])
def test_ten_thousand_characters_get_a_clear_message(greet, usernames, htmx):
    response = greet("é" * 10_000, htmx=htmx)
    assert response.status_code == 422
    assert response.text_of("name-error") == "Names can be at most 64 characters long."
    assert usernames() == []


@pytest.mark.parametrize("htmx", [False, True])
def test_a_body_over_the_limit_gets_a_413(greet, usernames, htmx):
    response = greet("x" * 100_000, htmx=htmx)
    assert response.status_code == 413
    assert "Too much data" in response.get_data(as_text=True)
    assert usernames() == []


def test_a_returning_visitor_resubmitting_their_name_gets_no_new_session_cookie(greet, stored_users, monkeypatch):
    greet("Alice", htmx=True)
    greet("Alice", htmx=True)  # the session now says "known"
    later = datetime(2030, 1, 1, 12, 0)
    monkeypatch.setattr(greeting, "utcnow", lambda: later)
    response = greet("Alice", htmx=True)
    assert response.text_of("greeting-status") == "Happy to see you again!"
    assert "Set-Cookie" not in response.headers, "nothing changed in the session, so nothing to re-sign"
    assert stored_users()[0].last_seen == later, "the visit is still recorded"


def test_layout_asset_urls_follow_the_url_prefix_they_are_served_under(client):
    plain = client.get("/").soup
    prefixed = client.get("/", base_url="http://localhost/flasky/").soup
    assert plain.select_one("link[rel=stylesheet]")["href"].startswith("/static/")
    assert prefixed.select_one("link[rel=stylesheet]")["href"].startswith("/flasky/static/")
    again = client.get("/").soup
    assert again.select_one("link[rel=stylesheet]")["href"].startswith("/static/"), "each prefix keeps its own markup"
