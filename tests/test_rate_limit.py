"""Rate limiting of the name form: a flood from one client gets a friendly 429 with Retry-After, others go on."""

import pytest

from flasky import create_app
from flasky.ratelimit import no_limit_applies

LIMITED = "Too many requests: You are sending that faster than we can take it. Please wait a moment and try again."


@pytest.fixture
def app_overrides():
    """Turn the limiter on (the testing config has it off) with a small limit."""
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_NAME_FORM": "3 per minute"}


def test_testing_config_has_the_limiter_off_and_the_others_on(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    for name in ("RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "RATELIMIT_NAME_FORM"):
        monkeypatch.delenv(name, raising=False)  # the defaults, whatever the shell has set
    assert create_app("testing").config["RATELIMIT_ENABLED"] is False
    assert create_app("development").config["RATELIMIT_ENABLED"] is True
    production = create_app("production")
    assert production.config["RATELIMIT_ENABLED"] is True
    assert production.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert production.config["RATELIMIT_NAME_FORM"] == "20 per minute; 200 per hour"
    monkeypatch.setenv("RATELIMIT_ENABLED", "false")
    monkeypatch.setenv("RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("RATELIMIT_NAME_FORM", "5 per second")
    config = create_app("development").config
    assert (config["RATELIMIT_ENABLED"], config["RATELIMIT_STORAGE_URI"]) == (False, "redis://127.0.0.1:6379/0")
    assert config["RATELIMIT_NAME_FORM"] == "5 per second"


@pytest.mark.parametrize("htmx", [False, True])
def test_a_flood_of_posts_gets_a_friendly_429_with_retry_after(client, index, usernames, htmx):
    answers = [client.submit(index, "#name-form", htmx=htmx, name=f"User {n}") for n in range(5)]
    assert [answer.status_code for answer in answers] == [200 if htmx else 303] * 3 + [429] * 2
    limited = answers[-1]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    if htmx:
        assert limited.headers["HX-Reswap"] == "none"
        assert limited.text_of("flashes") == LIMITED
    else:
        assert limited.text_of("error-heading") == "Too many requests"
        assert "3 per 1 minute" not in limited.get_data(as_text=True)
    assert usernames() == ["User 0", "User 1", "User 2"]
    assert client.get("/").status_code == 200, "reading the page is not limited"


def test_the_limit_is_per_client_address(app, index, client):
    for _ in range(3):
        client.submit(index, "#name-form", name="Alice")
    assert client.submit(index, "#name-form", name="Alice").status_code == 429
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    assert other.submit(other.get("/"), "#name-form", name="Bob").status_code == 303


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_NAME_FORM": "1 per minute",
                                            "PROXY_FIX_X_FOR": 1}])
def test_behind_a_proxy_the_limit_follows_x_forwarded_for(client, index):
    def post_from(address):
        data = {"csrf_token": index.soup.select_one("#csrf_token")["value"], "name": "Alice"}
        return client.post("/", data=data, headers={"X-Forwarded-For": address}).status_code

    assert [post_from("198.51.100.1"), post_from("198.51.100.1"), post_from("198.51.100.2")] == [303, 429, 303]


@pytest.fixture
def forget_default_limits(monkeypatch):
    """Drop the default limits after the test: Flask-Limiter keeps them on its process-wide extension object."""
    from flasky.extensions import limiter

    monkeypatch.setattr(limiter.limit_manager, "_default_limits", list(limiter.limit_manager._default_limits))


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "1 per minute"}])
def test_healthz_is_never_rate_limited(forget_default_limits, client):
    assert [client.get("/healthz").status_code for _ in range(5)] == [200] * 5
    assert [client.get("/").status_code for _ in range(2)] == [200, 429], "the default limit does apply elsewhere"


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": True}, {"RATELIMIT_ENABLED": True,
                                                                          "RATELIMIT_DEFAULT": "100 per minute"}],
                         ids=["view-limits-only", "with-a-default-limit"])
def test_the_limiter_skips_only_requests_that_no_limit_applies_to(forget_default_limits, app, app_overrides):
    app_wide = "RATELIMIT_DEFAULT" in app_overrides
    for method, url, skipped in [("GET", "/", not app_wide), ("GET", "/no/such/page", not app_wide),
                                 ("POST", "/", False)]:
        with app.test_request_context(url, method=method):
            assert no_limit_applies() is skipped, (method, url)
