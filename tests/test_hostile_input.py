"""Hostile and unlucky requests (beyond the name rules of test_forms): clear answers, nothing stored or reflected."""

from urllib.parse import unquote

import pytest
from itsdangerous import URLSafeTimedSerializer

NASTY_NAME = '"><b hx-get="." hx-trigger="load" onmouseover=\'x\'>&amp;'


@pytest.mark.parametrize("htmx", [False, True])
def test_a_two_megabyte_body_is_a_413_and_nothing_is_stored(client, index, usernames, htmx):
    token = index.soup.select_one("#csrf_token")["value"]
    data = {"csrf_token": token, "name": "x" * (2 * 1024 * 1024)}
    response = client.hx_post("/", data=data) if htmx else client.post("/", data=data)
    assert response.status_code == 413
    if htmx:
        assert response.headers["HX-Reswap"] == "none"
        assert response.text_of("flashes").startswith("Too much data:")
    else:
        assert response.text_of("error-heading") == "Too much data"
    assert usernames() == []


def test_html_and_htmx_attributes_in_a_name_stay_text_in_fragments_links_and_titles(greet, client, usernames):
    swap = greet(NASTY_NAME, htmx=True)
    assert swap.status_code == 200
    assert usernames() == [NASTY_NAME]
    for response in (swap, client.get("/"), client.hx_get(swap.soup.select_one("#greeting a")["href"])):
        assert not response.soup.select("b, [onmouseover], [hx-trigger=load]"), response.request.path
    link = swap.soup.select_one("#greeting a")
    assert link.get_text() == NASTY_NAME
    assert unquote(link["href"]) == "/user/" + NASTY_NAME and '"' not in link["href"]
    page = client.get(link["href"])
    assert page.soup.title.get_text() == f"{NASTY_NAME} – Flasky"
    assert page.text_of("user-heading") == f"Hello, {NASTY_NAME}!"


def test_an_invalid_nasty_name_is_kept_as_an_attribute_value_only(greet, usernames):
    response = greet(NASTY_NAME + "x" * 64, htmx=True)
    assert response.status_code == 422
    assert response.soup.select_one("#name")["value"] == NASTY_NAME + "x" * 64
    assert not response.soup.select("b, [onmouseover], [hx-trigger=load]")
    assert usernames() == []


# Code points an HTML document may not hold, typed into a field; each is written back as U+FFFD.
FORBIDDEN = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ufdd0", "\ufffe", "\U0010ffff"]


def forbidden_code_points(text):
    """Return the code points of a response that HTML forbids (templating.FORBIDDEN_IN_HTML, spelled out again)."""
    return [char for char in text if char in "".join(FORBIDDEN) or 0x7f <= ord(char) <= 0x9f or ord(char) < 0x20
            and char not in "\t\n\x0c\r"]


@pytest.mark.parametrize("char", FORBIDDEN, ids=[f"U+{ord(char):04X}" for char in FORBIDDEN])
def test_a_forbidden_code_point_typed_into_a_field_comes_back_as_a_replacement_character(client, greet, usernames,
                                                                                       char):
    typed = f"An{char}n"
    fields = {"#name": [greet(typed), greet(typed, htmx=True), client.post("/validate/name", data={"name": typed})],
              "#q": [client.get("/users", query_string={"q": typed})]}
    fragment = client.hx_get("/users", query_string={"q": typed}, headers={"HX-Target": "directory-rows"})
    for field, responses in fields.items():
        for response in responses:
            assert response.soup.select_one(field)["value"] == "An\ufffdn"
            assert forbidden_code_points(response.get_data(as_text=True)) == []
    assert fragment.status_code == 400 and forbidden_code_points(fragment.get_data(as_text=True)) == []
    assert usernames() == []


MALFORMED_HTMX_HEADERS = [
    {"HX-Request": "TRUE"},
    {"HX-Request": " true"},
    {"HX-Request": "true, true"},
    {"HX-Request": "yes"},
    {"HX-Request": "<script>alert(1)</script>"},
    {"HX-Request": "x" * 4000},
    {"HX-Boosted": "true", "HX-Target": "<script>alert(1)</script>"},
    {"HX-History-Restore-Request": "<img src=x>", "HX-Current-URL": "javascript:alert(1)"},
]


@pytest.mark.parametrize("headers", MALFORMED_HTMX_HEADERS)
def test_malformed_htmx_headers_get_the_full_page_with_nothing_reflected(client, headers):
    response = client.get("/", headers=headers)
    assert response.status_code == 200
    assert response.soup.html is not None, "only HX-Request: true (exactly) asks for a fragment"
    body = response.get_data(as_text=True)
    for value in headers.values():
        assert len(value) < 12 or value not in body


def test_garbage_in_the_other_htmx_headers_of_a_swap_is_not_reflected(client):
    headers = {"HX-Target": "<script>alert(1)</script>", "HX-Trigger": '"><img src=x>',
               "HX-Current-URL": "javascript:alert(1)", "HX-Boosted": "maybe"}
    response = client.hx_get("/", headers=headers)
    assert response.status_code == 200
    assert response.soup.html is None
    body = response.get_data(as_text=True)
    assert all(value not in body for value in headers.values())


def forged_cookies(app):
    """Session cookies an attacker could send: junk, unsigned JSON, and one signed with another key."""
    other_key = URLSafeTimedSerializer("not-our-secret-key-at-all-000000000", salt="cookie-session",
                                       signer_kwargs={"key_derivation": "hmac", "digest_method": "sha1"})
    ours = app.session_interface.get_signing_serializer(app)
    valid_shape = ours.dumps({"name": "Admin", "known": True})
    return {
        "junk": "}{not a cookie",
        "unsigned": '{"name": "Admin", "known": true}',
        "other-key": other_key.dumps({"name": "Admin", "known": True}),
        "tampered": valid_shape[:-3] + ("AAA" if not valid_shape.endswith("AAA") else "BBB"),
        "huge": "x" * 4000,
    }


@pytest.mark.parametrize("kind", ["junk", "unsigned", "other-key", "tampered", "huge"])
def test_a_forged_session_cookie_is_ignored_and_a_new_session_starts(app, client, usernames, kind):
    client.set_cookie("session", forged_cookies(app)[kind])
    page = client.get("/")
    assert page.status_code == 200
    assert page.text_of("greeting-heading") == "Hello, Stranger!"
    assert any(value.startswith("session=") for value in page.headers.getlist("Set-Cookie")), "a new session"
    response = client.submit(page, "#name-form", htmx=True, name="Alice")
    assert response.status_code == 200
    assert usernames() == ["Alice"]


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    "method, url, allowed",
    [
        ("DELETE", "/user/Alice", {"GET", "HEAD", "OPTIONS"}),
        ("POST", "/user/Alice", {"GET", "HEAD", "OPTIONS"}),
        ("GET", "/validate/name", {"POST", "OPTIONS"}),
        ("PATCH", "/healthz", {"GET", "HEAD", "OPTIONS"}),
        ("TRACE", "/", {"GET", "HEAD", "OPTIONS", "POST"}),
    ],
)
def test_wrong_methods_are_405s_that_name_the_allowed_ones(client, usernames, htmx, method, url, allowed):
    response = client.hx_request(method, url) if htmx else client.open(url, method=method)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    assert (response.soup.html is None) is htmx
    assert usernames() == []


@pytest.mark.parametrize("path", ["/user/%00", "/user/Ann%0D%0ABob", "/user/" + "x" * 10_000, "/user/%E2%80%AEevil",
                                  "/user/%FF%FE", "/user/Ann%EF%BF%BE"])
def test_odd_user_urls_are_plain_404s(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert response.text_of("error-heading") == "Page not found"
    body = response.get_data(as_text=True)
    assert "\x00" not in body and "\u202e" not in body and "\ufffe" not in body
