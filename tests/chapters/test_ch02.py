"""chapters/ch02: two routes, the first page-or-fragment decision, a hook, in English and Chinese."""

import pytest

from tests.chapters.helpers import HTMX, fragment_ids, headers, page_problems, served_assets, soup, text_of

STEP = "ch02"
GREETINGS = {
    ("/", "en"): "Hello World!",
    ("/", "zh-CN"): "你好，世界！",
    ("/user/Miguel", "en"): "Hello, Miguel!",
    ("/user/Miguel", "zh-CN"): "你好，Miguel！",
    ("/user/李雷", "zh-CN"): "你好，李雷！",
}


@pytest.mark.parametrize(("path", "language"), GREETINGS)
def test_a_browser_gets_the_whole_page(client, path, language):
    response = client.get(path, headers=headers(language))
    assert response.status_code == 200
    assert page_problems(response, language) == []
    assert text_of(response, "greeting") == GREETINGS[path, language]


@pytest.mark.parametrize(("path", "language"), GREETINGS)
def test_htmx_gets_only_the_greeting(client, path, language):
    response = client.get(path, headers=headers(language, htmx=True))
    assert fragment_ids(response) == ["greeting"]
    assert text_of(response, "greeting") == GREETINGS[path, language]


def test_a_boosted_request_gets_the_page(client):
    response = client.get("/user/Miguel", headers={**HTMX, "HX-Boosted": "true"})
    assert soup(response).find("html") is not None


def test_titles_and_descriptions_speak_the_visitor_s_language(client):
    english, chinese = (soup(client.get("/user/Miguel", headers=headers(language))) for language in ("en", "zh-CN"))
    assert english.title.string == "Miguel · Chapter 2"
    assert chinese.title.string == "Miguel · 第 2 章"
    assert chinese.find("meta", attrs={"name": "description"})["content"].startswith("《Flask Web 开发》第 2 章")


def test_the_hook_makes_caches_keep_page_fragment_and_language_apart(client, language):
    response = client.get("/user/Miguel", headers=headers(language))
    assert {"HX-Request", "HX-Boosted", "Accept-Language"} <= set(response.vary)


def test_a_name_is_text_never_markup(client):
    response = client.get("/user/<img src=x onerror=alert(1)>", headers=HTMX)
    assert soup(response).find("img") is None
    assert text_of(response, "greeting") == "Hello, <img src=x onerror=alert(1)>!"


def test_the_links_swap_the_greeting_in_place_and_work_without_javascript(client):
    links = soup(client.get("/")).find(id="friends").find_all("a")
    assert [(link["href"], link["hx-get"], link["hx-target"]) for link in links] == [
        ("/user/Miguel", "/user/Miguel", "#greeting"),
        ("/user/%E6%9D%8E%E9%9B%B7", "/user/%E6%9D%8E%E9%9B%B7", "#greeting")]


def test_every_script_and_stylesheet_is_served_from_the_repository(client):
    statuses = served_assets(client, client.get("/"))
    assert len(statuses) == 3 and set(statuses.values()) == {200}
