"""Safe by default: security headers on every response, a strict CSP the pages obey, cookies, hosts and proxies."""

import pytest
from flask import request


STRONG_KEY = "k" * 48
FORBIDDEN_IN_CSP = ("unsafe-inline", "unsafe-eval", "*", "http:", "https:")


@pytest.fixture
def production(make_app, monkeypatch, tmp_path):
    """Return a factory of production apps on a SQLite file, with environment variables set first."""

    def production(**env):
        monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return make_app("production", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'prod.sqlite'}",
                        create_tables=True)

    return production


def csp_directives(response):
    """Parse the Content-Security-Policy header into {directive: [sources]}."""
    policy = response.headers["Content-Security-Policy"]
    return {name: sources for name, *sources in (part.split() for part in policy.split(";") if part.strip())}


@pytest.mark.parametrize("url, status", [("/", 200), ("/static/app.css", 200), ("/flask-moment.js", 200),
                                         ("/no/such/page", 404), ("/healthz", 200)])
def test_every_response_carries_the_security_headers(client, url, status):
    with client.get(url) as response:
        assert response.status_code == status
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "camera=()" in response.headers["Permissions-Policy"]
        assert "Strict-Transport-Security" not in response.headers, "no HSTS over plain HTTP"
        directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"] and directives["style-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["object-src"] == ["'none'"]
    assert not any(word in source for sources in directives.values() for source in sources for word in FORBIDDEN_IN_CSP)


def test_hsts_only_over_tls(client):
    assert client.get("/", base_url="https://localhost").headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in client.get("/").headers


def test_errors_from_htmx_requests_carry_the_headers_too(client):
    response = client.hx_get("/user/Nobody")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def inline_code(soup):
    """List what a strict CSP would block in a document: inline scripts and styles, event-handler attributes."""
    found = [f"<script> without src: {tag}" for tag in soup.find_all("script") if not tag.get("src")]
    found += [f"<style>: {tag}" for tag in soup.find_all("style")]
    for tag in soup.find_all(True):
        for attribute in tag.attrs:
            if attribute == "style" or attribute.startswith(("on", "hx-on", "data-hx-on")):
                found.append(f"{attribute} on <{tag.name}>")
    return found


def test_no_page_or_fragment_holds_inline_code(greet, client):
    documents = [client.get("/"), greet("<b onclick=x>", htmx=True), greet("Alice", htmx=True), client.get("/"),
                 client.get("/user/Alice"), client.hx_get("/user/Alice"), client.get("/nowhere"),
                 client.hx_get("/nowhere"), client.hx_post("/validate/name", data={"name": ""})]
    for response in documents:
        assert inline_code(response.soup) == [], response.request.path


def test_timestamps_start_hidden_by_class_and_are_shown_by_script(client, app):
    page = client.get("/")
    spans = page.soup.select(".flask-moment")
    assert spans and all(not span.has_attr("style") for span in spans)
    with client.get("/static/app.css") as css:
        assert ".flask-moment {\n  visibility: hidden;" in css.get_data(as_text=True)  # keeping their room
    script = client.get("/flask-moment.js").get_data(as_text=True)
    assert "elem.classList.remove('flask-moment')" in script


def test_htmx_is_configured_for_the_csp(index):
    import json

    config = json.loads(index.soup.select_one('meta[name="htmx-config"]')["content"])
    assert config["allowEval"] is False and config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False


def test_an_https_post_passes_flask_wtfs_strict_referrer_check_under_our_referrer_policy(app, client, usernames):
    # The name form checks its token per form; CSRFProtect adds Flask-WTF's HTTPS referrer check (SSL_STRICT).
    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    assert app.config["WTF_CSRF_SSL_STRICT"] is True
    page = client.get("/", base_url="https://flasky.test")
    data = {"csrf_token": page.soup.select_one("#csrf_token")["value"], "name": "Alice"}
    # strict-origin-when-cross-origin sends our own origin's full URL, which the check wants.
    same_origin = client.post("/", base_url="https://flasky.test", data=data, headers={"Referer": "https://flasky.test/"})
    assert same_origin.status_code == 303
    # Cross-origin, the policy sends only the origin: a different host, refused.
    other = client.post("/", base_url="https://flasky.test", data=data, headers={"Referer": "https://evil.test/"})
    assert other.status_code == 400
    assert other.text_of("error-message") == "The referrer does not match the host."
    assert usernames() == ["Alice"]


def session_cookie(response):
    """Return the Set-Cookie header of the session cookie, split into lower-cased attributes."""
    [header] = [value for value in response.headers.getlist("Set-Cookie") if value.startswith("session=")]
    return {part.strip().split("=")[0].lower() for part in header.split(";")[1:]}, header


def test_production_session_cookie_is_secure_httponly_and_lax(production):
    attributes, header = session_cookie(production().test_client().get("/", base_url="https://flasky.test"))
    assert {"secure", "httponly", "samesite"} <= attributes
    assert "SameSite=Lax" in header


def test_production_session_cookie_secure_can_be_switched_off_for_plain_http(production):
    app = production(FLASK_SESSION_COOKIE_SECURE="false")
    assert app.config["SESSION_COOKIE_SECURE"] is False
    attributes, _ = session_cookie(app.test_client().get("/"))
    assert "secure" not in attributes and "httponly" in attributes


def test_trusted_hosts_come_from_the_environment(production):
    app = production(TRUSTED_HOSTS="flasky.test, .example.org")
    assert app.config["TRUSTED_HOSTS"] == ["flasky.test", ".example.org"]
    client = app.test_client()
    assert client.get("/", base_url="http://flasky.test").status_code == 200
    assert client.get("/", base_url="http://www.example.org").status_code == 200
    assert client.get("/healthz", base_url="http://flasky.test").status_code == 200


@pytest.mark.parametrize("htmx", [False, True])
def test_a_foreign_host_gets_our_400_page_without_the_host_echoed(production, htmx):
    client = production(TRUSTED_HOSTS="flasky.test").test_client()
    headers = {"Host": "evil<script>.test", **({"HX-Request": "true"} if htmx else {})}
    response = client.get("/", headers=headers)
    assert response.status_code == 400
    assert "evil" not in response.get_data(as_text=True)
    expected = "This site is not served under that host name."
    if htmx:
        assert response.text_of("flashes") == f"Bad request: {expected}"
    else:
        assert response.text_of("error-message") == expected
        assert response.soup.select_one("#error a")["href"] == "/"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_without_trusted_hosts_any_host_is_answered(production):
    app = production()
    assert app.config["TRUSTED_HOSTS"] is None
    assert app.test_client().get("/", base_url="http://any.example").status_code == 200


def test_forwarded_headers_are_ignored_unless_proxy_fix_is_configured(production):
    forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    direct = production().test_client().get("/", headers=forwarded)
    assert "Strict-Transport-Security" not in direct.headers
    app = production(PROXY_FIX_X_FOR="1", PROXY_FIX_X_PROTO="1")
    seen = {}
    app.before_request(lambda: seen.update(addr=request.remote_addr, secure=request.is_secure))
    behind_proxy = app.test_client().get("/", headers=forwarded)
    assert behind_proxy.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert seen == {"addr": "203.0.113.9", "secure": True}


@pytest.mark.parametrize("url", ["/static/../pyproject.toml", "/static/%2e%2e/pyproject.toml",
                                 "/static/..%2fpyproject.toml", "/static/vendor/../../flasky/config.py",
                                 "/static/%2fetc%2fpasswd", "/static//etc/passwd", "/static/app.css%00.js"])
def test_path_traversal_under_static_is_a_404(client, url):
    # Werkzeug merges doubled slashes with a redirect that stays under /static/.
    with client.get(url, follow_redirects=True) as response:
        assert response.status_code == 404
        assert response.request.path.startswith("/static/")
        assert "SECRET_KEY" not in response.get_data(as_text=True)
        assert "root:" not in response.get_data(as_text=True)


def test_static_files_are_cached_with_validators_and_html_is_private(client):
    with client.get("/static/app.css") as first:
        assert first.headers["ETag"] and first.headers["Last-Modified"]
        assert "private" not in first.headers.get("Cache-Control", "")
    with client.get("/static/app.css", headers={"If-None-Match": first.headers["ETag"]}) as again:
        assert again.status_code == 304
    page = client.get("/")
    assert {"private", "no-cache"} <= {part.strip() for part in page.headers["Cache-Control"].split(",")}


def test_forwarded_prefixes_get_their_own_asset_urls_without_growing_the_caches_forever(production):
    from flasky.assets import STATIC_DIGESTS, STATIC_URLS
    from flasky.caching import CACHE_LIMIT, RENDERED_ONCE

    app = production(PROXY_FIX_X_PREFIX="1")
    client = app.test_client()
    for number in range(CACHE_LIMIT + 20):
        page = client.get("/", headers={"X-Forwarded-Prefix": f"/p{number}"})
        assert page.soup.select_one("link[rel=stylesheet]")["href"].startswith(f"/p{number}/static/")
    assert len(app.extensions[STATIC_URLS]) <= CACHE_LIMIT
    assert len(app.extensions[RENDERED_ONCE]) <= CACHE_LIMIT
    # Each file is hashed once, however many prefixes filled the URL cache.
    assert set(app.extensions[STATIC_DIGESTS]) == {filename for _, filename in app.extensions[STATIC_URLS]}
