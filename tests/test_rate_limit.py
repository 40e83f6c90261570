"""Rate limiting of the name form: a flood from one client gets a friendly 429 with Retry-After, others go on; the
counts live in the REDIS_URL all processes share, or in each one's memory while it is down."""

import logging

import pytest
from sqlalchemy import select

from flasky import create_app
from flasky.config import StartupError
from flasky.extensions import db, limiter
from flasky.models import User
from flasky.ratelimit import STORAGE_RECOVERED, no_limit_applies
from tests.helpers import wait_until

LIMITED = "Too many requests: You are sending that faster than we can take it. Please wait a moment and try again."


@pytest.fixture
def app_overrides():
    """Turn the limiter on (the testing config has it off) with a small limit."""
    return {"RATELIMIT_ENABLED": True, "RATELIMIT_NAME_FORM": "3 per minute"}


def test_testing_config_has_the_limiter_off_and_the_others_on(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    for name in ("RATELIMIT_ENABLED", "RATELIMIT_STORAGE_URI", "RATELIMIT_NAME_FORM", "REDIS_URL"):
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


REDIS = "redis://:secret@10.0.0.5:6379/0"
SENTINEL = "redis+sentinel://10.0.0.6:26379/flasky"
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


@pytest.mark.parametrize("env, expected_uri, expected_options", [
    ({}, "memory://", None),
    ({"REDIS_URL": REDIS}, REDIS, TIMEOUTS),
    ({"REDIS_URL": REDIS, "REDIS_TIMEOUT": "0.1"}, REDIS, {"socket_connect_timeout": 0.1, "socket_timeout": 0.1}),
    ({"REDIS_URL": REDIS, "RATELIMIT_STORAGE_URI": SENTINEL}, SENTINEL, TIMEOUTS),
    ({"REDIS_URL": REDIS, "RATELIMIT_STORAGE_URI": "memory://"}, "memory://", None),
    ({"FLASK_REDIS_URL": REDIS}, REDIS, TIMEOUTS),
], ids=["neither", "redis-url", "redis-timeout", "explicit-storage-wins", "explicit-memory-wins", "flask-prefixed"])
def test_the_limits_are_counted_in_redis_url_unless_ratelimit_storage_uri_says_otherwise(monkeypatch, env,
                                                                                          expected_uri,
                                                                                          expected_options):
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    for name in ("RATELIMIT_STORAGE_URI", "RATELIMIT_STORAGE_OPTIONS", "REDIS_URL", "REDIS_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    config = create_app("production").config
    assert config["RATELIMIT_STORAGE_URI"] == expected_uri
    assert config.get("RATELIMIT_STORAGE_OPTIONS") == expected_options
    assert config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    assert not config.get("RATELIMIT_IN_MEMORY_FALLBACK"), "no limit on every route while the storage is down"


@pytest.mark.parametrize("env, message", [
    ({"REDIS_URL": "localhost:6379"}, "REDIS_URL is not a storage the rate limits can use: unknown storage scheme : a "
                                      "'localhost' URL (give one like redis://host:6379/0)"),
    ({"REDIS_URL": "redis://h:1/0", "RATELIMIT_STORAGE_URI": "http://user:secret@h/"},
     "RATELIMIT_STORAGE_URI is not a storage the rate limits can use: unknown storage scheme : a 'http' URL (give one "
     "like redis://host:6379/0)"),
], ids=["redis-url-without-scheme", "storage-uri-of-the-web"])
def test_a_storage_the_limiter_cannot_use_refuses_to_start_in_one_line_without_the_url(monkeypatch, env, message):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(StartupError) as refused:
        create_app("development")
    assert refused.value.format_message() == message


@pytest.mark.parametrize("value", ["0", "-1", "soon"])
def test_a_redis_timeout_that_is_no_time_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("REDIS_TIMEOUT", value)
    with pytest.raises(StartupError, match="REDIS_TIMEOUT"):
        create_app("testing")


@pytest.fixture
def limiter_state(monkeypatch):
    """Put back whether Flask-Limiter (one object per process) counts in its fallback, whatever the test left."""
    monkeypatch.setattr(limiter, "_storage_dead", False)


def limiter_lines(caplog):
    return [(record.levelname, record.getMessage()) for record in caplog.records if record.name == "flask-limiter"]


def redis_count(redis_server):
    """The name form's count in Redis for the test client's address (0 when Redis holds none)."""
    keys = redis_server.cli("--scan", "--pattern", "*127.0.0.1/main.greet/3/1/minute").split()
    return int(redis_server.cli("get", keys[0])) if keys else 0


FALLING_BACK = ("WARNING", "Rate limit storage unreachable - falling back to in-memory storage")


def test_a_redis_outage_counts_per_process_says_so_once_and_recovers_by_itself(make_app, tmp_path, redis_server,
                                                                                limiter_state, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'flasky.sqlite'}", create_tables=True,
                   RATELIMIT_ENABLED=True, RATELIMIT_NAME_FORM="3 per minute", REDIS_URL=redis_server.url)
    client = app.test_client()
    page = client.get("/")

    def post(name):
        return client.submit(page, "#name-form", name=name)

    def health():
        answer = client.get("/healthz")
        assert answer.status_code == 200, "the app still serves"
        return answer.json["ratelimit"]

    assert [post(f"Up {n}").status_code for n in range(2)] == [303, 303]
    assert (redis_count(redis_server), health()) == (2, {"storage": "redis", "shared": True, "status": "ok"})

    redis_server.stop()
    assert health() == {"storage": "redis", "shared": False, "status": "fallback"}, "one PING tells"
    answers = [post(f"Down {n}") for n in range(5)]
    assert [answer.status_code for answer in answers] == [303, 303, 303, 429, 429], "counted afresh in memory"
    assert answers[-1].text_of("error-heading") == "Too many requests"
    assert health() == {"storage": "redis", "shared": False, "status": "fallback"}
    assert limiter_lines(caplog) == [FALLING_BACK]
    with app.app_context():
        assert db.session.scalars(select(User.username).order_by(User.id)).all() == [
            "Up 0", "Up 1", "Down 0", "Down 1", "Down 2"]

    redis_server.start()
    assert wait_until(lambda: post("Back").status_code and STORAGE_RECOVERED in caplog.text, 40, 0.5)
    assert health() == {"storage": "redis", "shared": True, "status": "ok"}
    before = redis_count(redis_server)
    assert post("Shared").status_code in {303, 429} and redis_count(redis_server) == before + 1, "counted in Redis"
    assert limiter_lines(caplog) == [FALLING_BACK, ("INFO", STORAGE_RECOVERED)]
    assert "Traceback" not in caplog.text
