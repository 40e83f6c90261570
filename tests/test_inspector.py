"""The development exchange inspector: what it records of each request, per tab and per session, in both languages;
and that outside development it does not exist at all (no route, no panel, no hook, no receiver)."""

import pytest
from flask import request_finished
from jinja2 import DictLoader, Environment

from flasky import create_app, hypermedia
from flasky.config import StartupError
from flasky.inspector.recorder import STORE_KEY, TAB_HEADER, _partials
from flasky.inspector.store import Exchange, Store
from tests.test_config import STRONG_KEY

GREET_PARTIALS = [("partials/name-form.html", "fragment"), ("partials/greeting.html", "out of band"),
                  ("partials/flashes.html", "out of band")]
INSPECTOR_MODULES = ("flasky.inspector",)


@pytest.fixture
def dev_app(make_app, tmp_path):
    """A development app (the inspector on by default) on a fresh SQLite file; the rate limit off, as Flask-Limiter's
    one limiter takes the last app's setting and other modules' apps keep theirs."""
    return make_app("development", SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'dev.sqlite'}", create_tables=True,
                    RATELIMIT_ENABLED=False)


@pytest.fixture
def dev_client(dev_app):
    """A client of the development app, as one tab with JavaScript: every request names tab 'tab1'."""
    client = dev_app.test_client()
    client.environ_base["HTTP_X_FLASKY_TAB"] = "tab1"
    return client


def rows(response):
    """Read the exchanges listed in a page or fragment: one dict per row, newest first."""
    found = []
    for row in response.soup.select("#inspector-exchanges tbody tr"):
        cell = {name: row.select_one(f".inspector-{name}") for name in
                ("request", "request-headers", "endpoint", "status", "rendered", "response-headers", "size")}
        found.append({
            "request": cell["request"].get_text(" ", strip=True),
            "request_headers": [code.get_text(strip=True) for code in cell["request-headers"].select("code")],
            "endpoint": cell["endpoint"].get_text(strip=True),
            "status": int(cell["status"].get_text(strip=True)),
            "rendered": [(span.code.get_text(strip=True), span.get_text(strip=True).rpartition("(")[2].rstrip(")"))
                         for span in cell["rendered"].select("span")],
            "response_headers": [code.get_text(strip=True) for code in cell["response-headers"].select("code")],
            "size": cell["size"].get_text(strip=True),
        })
    return found


def tab_rows(client, tab="tab1", page=None):
    """Ask for a tab's exchanges as its panel does (an htmx GET naming the tab)."""
    url = "/dev/exchanges" + (f"?page={page}" if page else "")
    return rows(client.hx_get(url, headers={TAB_HEADER: tab}, target="inspector-exchanges"))


def test_an_htmx_greet_shows_the_view_and_the_partials_it_rendered(dev_client):
    page = dev_client.get("/")
    dev_client.submit(page, "#name-form", name="Bob", htmx=True)
    [greet] = [row for row in tab_rows(dev_client) if row["request"] == "POST /"]
    assert greet["request_headers"] == ["HX-Request: true"]
    assert greet["endpoint"] == "main.greet"
    assert greet["status"] == 200
    assert greet["rendered"] == GREET_PARTIALS
    assert greet["response_headers"] == [f"Vary: {hypermedia.VARY_VALUE}"]
    assert greet["size"].endswith("bytes") and int(greet["size"].split()[0]) > 0


def test_a_plain_flow_without_javascript_shows_on_the_session_s_page(dev_app):
    client = dev_app.test_client()
    page = client.get("/")
    assert client.submit(page, "#name-form", name="Ann").status_code == 303
    client.get("/")
    listed = client.get("/dev/exchanges")
    assert listed.status_code == 200
    assert [(row["request"], row["endpoint"], row["status"]) for row in rows(listed)] == [
        ("GET /", "main.index", 200), ("POST /", "main.greet", 303), ("GET /", "main.index", 200)]
    index, redirect = rows(listed)[:2]
    assert index["rendered"][0] == ("index.html", "page")
    assert {"partials/greeting.html", "partials/name-form.html", "partials/flashes.html"} <= {
        name for name, kind in index["rendered"] if kind == "included"}
    assert redirect["rendered"] == [] and redirect["request_headers"] == []
    assert listed.soup.select_one("#inspector") is None  # the page lists them itself, once
    assert listed.soup.select_one("h1").get_text(strip=True) == "Hypermedia exchanges"


def test_every_page_has_the_collapsed_panel_without_inline_script(dev_client):
    dev_client.get("/healthz")
    page = dev_client.get("/")
    panel = page.soup.select_one("aside#inspector")
    assert panel["data-script"].startswith("/static/inspector.js?v=")
    assert panel.select_one("details#inspector-details").get("open") is None
    assert [row["request"] for row in rows(page)] == ["GET /healthz"]  # as of the page: the session's so far
    feed = panel.select_one("#inspector-feed")
    assert feed["hx-get"].startswith("/dev/exchanges?page=") and feed["hx-target"] == "#inspector-exchanges"
    assert feed.select("a") == []  # no boosted link inherits the feed's hx-target
    assert all(script.get("src") for script in page.soup.select("script"))
    assert page.soup.select("[style]") == []
    assert dev_client.get("/user/nobody").soup.select_one("aside#inspector") is not None  # error pages too


def test_a_tab_claims_the_page_it_loaded(dev_app):
    client = dev_app.test_client()
    page = client.get("/")  # a full page load carries no tab header: it is recorded without a tab
    page_id = page.soup.select_one("#inspector-feed")["hx-get"].partition("page=")[2]
    assert tab_rows(client, "tab1") == []
    assert [row["request"] for row in tab_rows(client, "tab1", page=page_id)] == ["GET /"]
    assert tab_rows(client, "tab2", page=page_id) == []  # claimed once


def test_tabs_are_kept_apart_and_the_session_page_has_both(dev_app):
    client = dev_app.test_client()
    client.hx_get("/?from=one", headers={TAB_HEADER: "one"})
    client.hx_get("/?from=two", headers={TAB_HEADER: "two"})
    assert [row["request"] for row in tab_rows(client, "one")] == ["GET /?from=one"]
    assert [row["request"] for row in tab_rows(client, "two")] == ["GET /?from=two"]
    assert [row["request"] for row in rows(client.get("/dev/exchanges"))] == ["GET /?from=two", "GET /?from=one"]
    other = dev_app.test_client()  # another visitor, even naming the same tab, sees none of them
    assert tab_rows(other, "one") == [] and rows(other.get("/dev/exchanges")) == []


def test_a_tab_keeps_its_last_twenty_exchanges(dev_client):
    for number in range(25):
        dev_client.hx_get(f"/?n={number}")
    assert [row["request"] for row in tab_rows(dev_client)] == [f"GET /?n={number}" for number in range(24, 4, -1)]


def test_a_long_address_is_kept_cut(dev_client):
    dev_client.hx_get("/?q=" + "x" * 2000)
    [row] = tab_rows(dev_client)
    assert len(row["request"]) == len("GET ") + 500 and row["request"].endswith("x…")


def test_a_page_s_partials_are_found_through_its_includes_and_a_missing_one_is_no_failure():
    env = Environment(loader=DictLoader({
        "page.html": '{% extends "layout.html" %}{% include "partials/gone.html" ignore missing %}',
        "layout.html": '{% include "partials/a.html" %}{% include "partials/inspector-exchanges.html" %}',
        "partials/a.html": '{% include "partials/b.html" %}', "partials/b.html": ""}))
    assert _partials(env, "page.html", set()) == {"partials/a.html", "partials/b.html", "partials/gone.html"}


def test_the_store_keeps_a_bounded_number_of_tabs():
    store = Store(per_tab=2, max_tabs=3)
    for tab in "abcd":
        store.add("session", tab, Exchange(tab, "GET", f"/{tab}", (), None, 200, (), (), 0))
    assert [store.tab("session", tab) != [] for tab in "abcd"] == [False, True, True, True]


@pytest.mark.parametrize("url, endpoint, rendered, size", [
    ("/flask-moment.js", "main.moment_js", [], "bytes"),
    ("/healthz", "health.healthz", [], "bytes"),
    ("/no/such/page", "—", [("errors/error.html", "page")], "bytes"),
])
def test_answers_not_from_a_view_s_render_get_a_row_too(dev_client, url, endpoint, rendered, size):
    dev_client.get(url)
    [row] = tab_rows(dev_client)
    assert (row["request"], row["endpoint"], row["rendered"][:1]) == (f"GET {url}", endpoint, rendered)
    assert row["size"].endswith(size)


def test_a_stream_is_recorded_without_being_read(dev_client, dev_app):
    dev_app.config["FLASKY_LIVE_MAX_EVENTS"] = 1
    dev_client.sse("/greetings/stream", max_events=1)
    [row] = tab_rows(dev_client)
    assert (row["request"], row["endpoint"], row["size"]) == ("GET /greetings/stream", "live.greetings_stream",
                                                              "streamed")


def test_static_files_and_the_inspector_s_own_requests_are_left_out(dev_client):
    with dev_client.get("/static/app.js"):
        pass
    dev_client.get("/dev/exchanges")
    assert tab_rows(dev_client) == []


@pytest.mark.parametrize("accept, title, words", [
    ("en", "Hypermedia exchanges – Flasky", ["Request", "htmx request headers", "View", "Status", "Rendered",
                                             "htmx and Vary response headers", "Size"]),
    ("zh-CN", "超媒体交换 – Flasky", ["请求", "htmx 请求首部", "视图", "状态", "渲染的模板", "htmx 与 Vary 响应首部",
                                     "大小"]),
])
def test_the_panel_and_the_page_speak_the_visitor_s_language(dev_client, accept, title, words):
    dev_client.environ_base["HTTP_ACCEPT_LANGUAGE"] = accept
    dev_client.hx_get("/")
    page = dev_client.get("/")
    assert page.soup.select_one("#inspector-heading").get_text(strip=True) == title.partition(" – ")[0]
    assert [th.get_text(strip=True) for th in page.soup.select("#inspector thead th")] == words
    listed = dev_client.get("/dev/exchanges")
    assert listed.soup.title.get_text() == title
    description = listed.soup.select_one("meta[name=description]")["content"]
    assert description != page.soup.select_one("meta[name=description]")["content"]
    assert ("本会话" in description) == (accept == "zh-CN")
    assert [kind for _, kind in rows(listed)[0]["rendered"]][:2] == (
        ["page", "included"] if accept == "en" else ["页面", "包含"])


def inspector_parts(app):
    """Everything of the inspector an app carries: blueprint, routes, store, hooks and signal receivers."""
    hooks = [hook for funcs in (*app.before_request_funcs.values(), *app.after_request_funcs.values())
             for hook in funcs]
    receivers = [*hypermedia.rendered.receivers_for(app), *request_finished.receivers_for(app)]
    return {
        "blueprint": "inspector" in app.blueprints,
        "routes": [rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/dev")],
        "store": STORE_KEY in app.extensions,
        "hooks": [hook for hook in [*hooks, *receivers] if hook.__module__.startswith(INSPECTOR_MODULES)],
    }


def test_development_has_it_all(dev_app):
    parts = inspector_parts(dev_app)
    assert parts["blueprint"] and parts["routes"] == ["/dev/exchanges"] and parts["store"]
    assert {hook.__name__ for hook in parts["hooks"]} == {"ensure_session_key", "note_rendered", "record"}


@pytest.mark.parametrize("config_name, overrides", [
    ("testing", {}),
    ("production", {}),
    ("development", {"FLASKY_INSPECTOR": False}),
])
def test_outside_development_it_does_not_exist(monkeypatch, make_app, config_name, overrides):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.delenv("FLASKY_INSPECTOR", raising=False)
    app = make_app(config_name, **overrides)
    assert inspector_parts(app) == {"blueprint": False, "routes": [], "store": False, "hooks": []}
    missing = app.test_client().get("/dev/exchanges")
    assert missing.status_code == 404
    assert missing.soup.select_one("#inspector") is None and "inspector" not in missing.text


def test_the_environment_turns_it_off_in_development_never_on_in_testing(monkeypatch):
    monkeypatch.setenv("FLASKY_INSPECTOR", "false")
    assert create_app("development").config["FLASKY_INSPECTOR"] is False
    monkeypatch.delenv("FLASKY_INSPECTOR")
    assert create_app("development").config["FLASKY_INSPECTOR"] is True
    monkeypatch.setenv("FLASKY_INSPECTOR", "true")
    assert create_app("testing").config["FLASKY_INSPECTOR"] is False  # whatever the environment says


@pytest.mark.parametrize("how", ["FLASKY_INSPECTOR", "FLASK_FLASKY_INSPECTOR", "override"])
def test_production_refuses_to_start_with_it_on(monkeypatch, how):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    if how != "override":
        monkeypatch.setenv(how, "true")
    with pytest.raises(StartupError, match="FLASKY_INSPECTOR must be off in production"):
        create_app("production", **({"FLASKY_INSPECTOR": True} if how == "override" else {}))
