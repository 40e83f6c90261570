"""The exchange inspector in the chapter steps: under `flask run --debug` a reader of chapter 4 sees which template
answered each request and why (the htmx headers), with and without JavaScript, in both languages; without --debug
there is none of it."""

import pytest
from flask import template_rendered

from flasky.hypermedia import rendered
from tests.chapters.helpers import (csrf_token, debug_step_app, headers, page_problems, soup, step_app,
                                    upgraded)
from tests.helpers import html_errors

WORDS = {"en": ("Hypermedia exchanges", "fragment", "included"), "zh-CN": ("超媒体交换", "片段", "包含")}
TAB = {"X-Flasky-Tab": "tab1"}


@pytest.fixture(scope="module")
def debug_ch04():
    """Chapter 4's app as `flask --app chapters/ch04 run --debug` builds it."""
    return debug_step_app("ch04")


def rows(response):
    """The inspector table's rows, each as its cells' white-space-normalised text."""
    table = soup(response).find(id="inspector-exchanges")
    return [[" ".join(cell.get_text(" ").split()) for cell in row.find_all("td")] for row in table.select("tbody tr")]


@pytest.mark.parametrize("language", list(WORDS))
def test_chapter_4_under_debug_shows_which_template_answered_an_htmx_greet_and_why(debug_ch04, language):
    client = debug_ch04.test_client()
    page = client.get("/", headers=headers(language))
    assert page_problems(page, language) == []
    heading, fragment, included = WORDS[language]
    assert soup(page).find(id="inspector-heading").get_text(strip=True) == heading
    swap = client.post("/", data={"csrf_token": csrf_token(page), "name": "Alice"},
                       headers={**headers(language, htmx=True), **TAB})
    assert swap.status_code == 200
    listed = client.get("/dev/exchanges", headers={**headers(language, htmx=True), **TAB})
    [greet] = rows(listed)
    assert greet[:4] == ["POST /", "HX-Request: true", "index", "200"]
    assert greet[4] == (f"greeted.html ({fragment}) partials/flashes.html ({included}) "
                        f"partials/greeting.html ({included}) partials/name-form.html ({included})")


@pytest.mark.parametrize("language", list(WORDS))
def test_without_javascript_the_session_s_page_lists_the_post_redirect_get(debug_ch04, language, tmp_path):
    client = debug_ch04.test_client()
    token = csrf_token(client.get("/", headers=headers(language)))
    assert client.post("/", data={"csrf_token": token, "name": "Bob"}, headers=headers(language)).status_code == 303
    client.get("/", headers=headers(language))
    listed = client.get("/dev/exchanges", headers=headers(language))
    assert page_problems(listed, language) == []
    assert [row[:4] for row in rows(listed)] == [["GET /", "—", "index", "200"], ["POST /", "—", "index", "303"],
                                                  ["GET /", "—", "index", "200"]]
    assert rows(listed)[0][4].startswith("index.html (")
    assert html_errors({f"ch04-debug-{language}": client.get("/", headers=headers(language)).text,
                        f"ch04-exchanges-{language}": listed.text}, tmp_path) == []


@pytest.mark.parametrize("step", ["ch04", "ch05", "ch06"])
def test_without_debug_a_step_has_no_inspector(step_environment, step):
    app = upgraded(step, step_environment).app if step != "ch04" else step_app(step)
    client = app.test_client()
    assert client.get("/dev/exchanges").status_code == 404
    assert soup(client.get("/")).find(id="inspector") is None
    assert not app.config.get("FLASKY_INSPECTOR") and "inspector" not in app.blueprints
    assert not [receiver for signal in (rendered, template_rendered) for receiver in signal.receivers_for(app)]
    assert not app.before_request_funcs.get(None)
