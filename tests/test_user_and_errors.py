"""User pages and the error pages: full pages for browsers, flash-region fragments for htmx."""

import logging
from urllib.parse import quote, unquote

import pytest


@pytest.mark.parametrize("name", ["Alice", "Zo\u00e9", "日本語", "محمد", "🚀 Rocket", "a b?c#d%e&f", "...", "O'Brien"])
def test_user_page_for_any_unicode_name(greet, client, name):
    greet(name)
    link = client.get("/").soup.select_one("#greeting a")["href"]
    assert unquote(link) == "/user/" + name
    page = client.get(link)
    assert page.status_code == 200
    assert page.text_of("user-heading") == f"Hello, {name}!"
    assert page.soup.select_one("#first-seen .flask-moment")["data-format"] == "LLL"
    assert page.soup.select_one("#first-seen noscript").get_text().endswith("UTC")
    assert page.soup.select_one("#last-seen .flask-moment[data-function=fromNow]")


@pytest.mark.parametrize("typed", ["Zoe\u0301", " Zo\u00e9 ", "Zo\u00e9"], ids=["decomposed", "padded", "as-stored"])
def test_user_page_looks_names_up_by_the_form_s_own_rule(greet, client, typed):
    greet("Zo\u00e9")
    page = client.get("/user/" + quote(typed))
    assert (page.status_code, page.text_of("user-heading")) == (200, "Hello, Zo\u00e9!")


def test_user_page_shows_first_and_last_seen(greet, client, stored_users, monkeypatch):
    from datetime import datetime

    import flasky.greeting

    monkeypatch.setattr(flasky.greeting, "utcnow", lambda: datetime(2020, 1, 2, 3, 4, 5))
    greet("Alice")
    monkeypatch.setattr(flasky.greeting, "utcnow", lambda: datetime(2021, 6, 7, 8, 9, 10))
    greet("Alice")
    page = client.get("/user/Alice")
    assert page.soup.select_one("#first-seen .flask-moment")["data-timestamp"] == "2020-01-02T03:04:05Z"
    assert page.soup.select_one("#last-seen .flask-moment")["data-timestamp"] == "2021-06-07T08:09:10Z"
    assert page.soup.select_one("#first-seen noscript").get_text() == "02 January 2020, 03:04 UTC"
    [user] = stored_users()
    assert (user.first_seen, user.last_seen) == (datetime(2020, 1, 2, 3, 4, 5), datetime(2021, 6, 7, 8, 9, 10))


def test_user_page_modes(greet, client):
    greet("Alice")
    assert client.hx_get("/user/Alice", boosted=True).soup.html is not None
    assert client.hx_get("/user/Alice", history_restore=True).soup.html is not None
    fragment = client.hx_get("/user/Alice")
    assert fragment.soup.html is None
    assert [tag["id"] for tag in fragment.soup.find_all(recursive=False)] == ["user-card"]


def test_unknown_user_is_a_404_page_in_the_layout(client):
    page = client.get("/user/" + quote("<b>Nobody"))
    assert page.status_code == 404
    assert page.soup.select_one("nav .navbar-brand")
    assert page.text_of("error-heading") == "Page not found"
    assert page.text_of("error-message") == "Nobody called “<b>Nobody” has been here yet."
    assert "<b>Nobody" not in page.get_data(as_text=True)


def test_unknown_url_is_a_404_page(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404
    assert page.text_of("error-message") == "There is no page at this address."
    assert page.soup.title.get_text() == "Page not found – Flasky"


def test_errors_during_htmx_requests_are_fragments_for_the_flash_region(client):
    response = client.hx_get("/user/Nobody")
    assert response.status_code == 404
    assert response.headers["HX-Reswap"] == "none"
    assert response.soup.html is None
    flashes = response.fragment("flashes")
    assert flashes["hx-swap-oob"] == "innerHTML"
    assert response.text_of("flashes") == "Page not found: Nobody called “Nobody” has been here yet."


def test_boosted_navigation_to_a_missing_page_gets_the_full_error_page(client):
    response = client.hx_get("/user/Nobody", boosted=True)
    assert response.status_code == 404
    assert "HX-Reswap" not in response.headers
    assert response.soup.html is not None


@pytest.mark.parametrize("htmx", [False, True])
def test_wrong_method_is_a_405_that_names_the_allowed_ones(client, htmx):
    response = client.hx_request("PUT", "/") if htmx else client.put("/")
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert "Method not allowed" in response.get_data(as_text=True)
    assert (response.soup.html is None) is htmx


@pytest.mark.parametrize("htmx", [False, True])
def test_malformed_request_is_a_400_page(client, htmx):
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    response = client.hx_request("POST", "/", headers=headers, data=b"name=%ZZ&csrf_token=") if htmx \
        else client.post("/", headers=headers, data=b"name=%ZZ&csrf_token=")
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("htmx", [False, True])
def test_server_errors_show_an_incident_id_and_log_it(errors_reach_handlers, app, client, caplog, htmx):
    def explode():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/explode", "explode", explode)
    response = client.hx_get("/explode") if htmx else client.get("/explode")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "hunter2" not in body and "Traceback" not in body
    # One ERROR line (a development app earlier in the run may have left DEBUG on, adding a traceback record).
    incident = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(incident) == 1
    incident_id = incident[0].args[0]
    if htmx:
        assert response.headers["HX-Reswap"] == "none"
        assert f"(incident {incident_id})" in response.text_of("flashes")
    else:
        assert response.text_of("error-heading") == "Something went wrong"
        assert response.text_of("incident") == incident_id


def test_favicon_and_flask_moment_script_are_served(index, client):
    icon = index.soup.select_one('link[rel="icon"]')["href"]
    assert icon.startswith("/static/")
    with client.get(icon) as response:
        assert response.status_code == 200
    script = client.get("/flask-moment.js")
    assert script.status_code == 200
    assert script.mimetype == "text/javascript"
    assert "function flask_moment_render_all" in script.get_data(as_text=True)
    assert "max-age=3600" in script.headers["Cache-Control"]


def test_static_urls_carry_a_content_hash_and_are_cached_long_with_validators(index, client, app):
    import hashlib
    from pathlib import Path

    href = index.soup.select_one('script[src*="app.js"]')["src"]
    path, _, version = href.partition("?v=")
    assert path == "/static/app.js"
    assert version == hashlib.sha256(Path(app.static_folder, "app.js").read_bytes()).hexdigest()[:12]
    with client.get(href) as response:
        assert response.status_code == 200
        assert response.cache_control.max_age == 365 * 24 * 3600
        etag = response.headers["ETag"]
        assert response.headers["Last-Modified"]
    with client.get(href, headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304
    assert "max-age" not in index.headers["Cache-Control"], "pages themselves are not kept"


def test_vendored_text_has_a_gzip_sibling_identical_to_it(app):
    import gzip
    from pathlib import Path

    siblings = sorted(Path(app.static_folder, "vendor").rglob("*.gz"))
    assert len(siblings) == 6  # htmx, its SSE extension, two of Bootstrap, moment and its zh-cn locale
    for sibling in siblings:
        assert gzip.decompress(sibling.read_bytes()) == sibling.with_suffix("").read_bytes(), sibling


def test_static_text_goes_gzip_compressed_to_clients_that_accept_it(index, client, app):
    import gzip
    from pathlib import Path

    href = index.soup.select_one('link[rel="stylesheet"][href*="bootstrap"]')["href"]
    original = Path(app.static_folder, href.split("?")[0].removeprefix("/static/")).read_bytes()
    with client.get(href, headers={"Accept-Encoding": "gzip, deflate, br"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Encoding"] == "gzip"
        assert response.mimetype == "text/css"
        assert "Accept-Encoding" in response.headers["Vary"]
        assert response.cache_control.max_age == 365 * 24 * 3600
        assert gzip.decompress(response.get_data()) == original
        assert len(response.get_data()) < len(original) / 4
        etag = response.headers["ETag"]
    with client.get(href, headers={"Accept-Encoding": "gzip", "If-None-Match": etag}) as again:
        assert again.status_code == 304
    for refused in ({}, {"Accept-Encoding": "gzip;q=0, br"}):
        with client.get(href, headers=refused) as plain:
            assert "Content-Encoding" not in plain.headers
            assert "Accept-Encoding" in plain.headers["Vary"]
            assert plain.get_data() == original
            assert plain.headers["ETag"] != etag


def test_pages_and_files_without_a_sibling_are_sent_as_they_are(client):
    page = client.get("/", headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in page.headers
    with client.get("/static/app.js", headers={"Accept-Encoding": "gzip"}) as script:
        assert script.status_code == 200
        assert "Content-Encoding" not in script.headers
    with client.get("/static/nope.css.gz", headers={"Accept-Encoding": "gzip"}) as missing:
        assert missing.status_code == 404


def test_every_kind_of_page_has_its_own_title_and_meta_description(greet, client):
    greet("Alice")
    pages = [client.get(url) for url in ("/", "/user/Alice", "/no/such/page", "/user/Nobody")]
    heads = [(page.soup.title.get_text(), page.soup.select_one('meta[name="description"]')["content"]) for page in pages]
    assert all(title and description for title, description in heads)
    assert len({title for title, _ in heads}) == 3 and len({description for _, description in heads}) == 4
    assert heads[1] == ("Alice – Flasky", "When Flasky first and last saw Alice.")
    assert heads[3][1] == "Nobody called “Nobody” has been here yet."
