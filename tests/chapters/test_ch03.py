"""chapters/ch03: a layout, a partial that is both part of the page and the htmx swap, error pages, local times."""

import re

import pytest

from tests.chapters.helpers import fragment_ids, headers, page_problems, served_assets, soup, text_of

STEP = "ch03"
WORDS = {
    "en": {"stranger": "Hello, Stranger!", "miguel": "Hello, Miguel!", "404": "Page not found",
           "500": "Something went wrong", "time": "The local date and time is"},
    "zh-CN": {"stranger": "你好，陌生人！", "miguel": "你好，Miguel！", "404": "找不到页面", "500": "出了点问题",
              "time": "本地日期和时间："},
}


def test_the_home_page(client, language):
    response = client.get("/", headers=headers(language))
    assert page_problems(response, language) == []
    assert text_of(response, "greeting") == WORDS[language]["stranger"]
    assert text_of(response, "local-time").startswith(WORDS[language]["time"])


@pytest.mark.parametrize(("language", "shape", "ago"), [
    ("en", r"[A-Z][a-z]+ \d{1,2}, \d{4} \d{1,2}:\d{2} [AP]M", "a few seconds ago"),
    ("zh-CN", r"\d{4}年\d{1,2}月\d{1,2}日(凌晨|早上|上午|中午|下午|晚上)\d{1,2}点\d{2}分", "几秒前"),
])
def test_each_time_holds_text_of_moment_s_shape_until_moment_writes_it(client, language, shape, ago):
    local, since = soup(client.get("/", headers=headers(language))).select("#local-time .flask-moment, "
                                                                            "#time-ago .flask-moment")
    assert re.fullmatch(shape, local.get_text()), local.get_text()  # moment's "LLL", in UTC
    assert since.get_text() == ago


def test_times_are_flask_moment_s_without_the_inline_style_the_csp_refuses(client):
    times = soup(client.get("/")).select("#local-time .flask-moment, #time-ago .flask-moment")
    assert [(span["data-function"], span.get("style")) for span in times] == [("format", None), ("fromNow", None)]


@pytest.mark.parametrize(("language", "locale_script"), [("en", False), ("zh-CN", True)])
def test_moment_js_gets_its_chinese_locale_only_on_chinese_pages(client, language, locale_script):
    scripts = [script["src"] for script in soup(client.get("/", headers=headers(language))).find_all("script")]
    assert ("/static/vendor/moment-2.31.0/locale/zh-cn.js" in scripts) is locale_script
    assert scripts[-2:] == ["/flask-moment.js", "/chapters/static/chapters.js"]


def test_flask_moment_s_code_is_a_script_file(client):
    response = client.get("/flask-moment.js")
    assert response.mimetype == "text/javascript"
    assert "function flask_moment_render_all" in response.get_data(as_text=True)


def test_every_script_and_stylesheet_is_served(client, language):
    statuses = served_assets(client, client.get("/", headers=headers(language)))
    assert set(statuses.values()) == {200}


def test_the_user_page_includes_the_partial_htmx_gets_alone(client, language):
    page = client.get("/user/Miguel", headers=headers(language))
    assert page_problems(page, language) == []
    swap = client.get("/user/Miguel", headers=headers(language, htmx=True))
    assert fragment_ids(swap) == ["greeting"]
    assert text_of(swap, "greeting") == text_of(page, "greeting") == WORDS[language]["miguel"]
    assert {"HX-Request", "Accept-Language"} <= set(swap.vary)


def test_links_are_built_with_url_for_and_swap_the_greeting(client):
    links = soup(client.get("/")).find(id="friends").find_all("a")
    assert [(link["href"], link["hx-get"], link["hx-target"], link["hx-push-url"]) for link in links] == [
        ("/user/Miguel", "/user/Miguel", "#greeting", "true"),
        ("/user/%E6%9D%8E%E9%9B%B7", "/user/%E6%9D%8E%E9%9B%B7", "#greeting", "true")]


def test_an_unknown_address_gets_the_404_page(client, language):
    response = client.get("/no/such/page", headers=headers(language))
    assert response.status_code == 404
    assert page_problems(response, language) == []
    assert text_of(response, "error") == WORDS[language]["404"]


def test_a_failure_gets_the_500_page_not_a_stack_trace(app, language):
    with app.test_request_context("/", headers=headers(language)):
        response = app.handle_exception(RuntimeError("boom"))
    assert response.status_code == 500
    assert text_of(response, "error") == WORDS[language]["500"]
    assert "boom" not in response.get_data(as_text=True)
