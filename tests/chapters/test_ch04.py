"""chapters/ch04: the name form with Flask-WTF, without JavaScript (PRG) and with htmx (a swap in place)."""

import pytest

from tests.chapters.helpers import fragment_ids, headers, page_problems, post_name, soup, text_of

STEP = "ch04"
WORDS = {
    "en": {"hello": "Hello, Alice!", "stranger": "Hello, Stranger!", "label": "What is your name?",
           "changed": "Looks like you have changed your name!", "expired": "This form has expired, please try again.",
           "empty": "Please enter your name.", "long": "A name is at most 64 characters long.",
           "html": "A name cannot contain < or >."},
    "zh-CN": {"hello": "你好，Alice！", "stranger": "你好，陌生人！", "label": "你叫什么名字？",
              "changed": "看起来你换了名字！", "expired": "表单已过期，请再试一次。", "empty": "请输入你的名字。",
              "long": "名字最多 64 个字符。", "html": "名字不能包含 < 或 >。"},
}
BAD_NAMES = {"": "empty", "   ": "empty", "x" * 65: "long", "<b>Bob</b>": "html"}


def test_the_page_shows_the_form(client, language):
    response = client.get("/", headers=headers(language))
    assert page_problems(response, language) == []
    assert text_of(response, "greeting") == WORDS[language]["stranger"]
    form = soup(response).find(id="name-form")
    assert (form["method"], form["action"], form["hx-post"]) == ("post", "/", "/")
    assert form.find("label", attrs={"for": "name"}).get_text(strip=True) == WORDS[language]["label"]


def test_without_javascript_a_name_is_posted_then_redirected_then_greeted(client, language):
    response = post_name(client, "  Alice ", language)
    assert (response.status_code, response.location) == (303, "/")
    page = client.get("/", headers=headers(language))
    assert text_of(page, "greeting") == WORDS[language]["hello"]
    assert text_of(page, "flashes") == ""


def test_without_javascript_a_changed_name_is_flashed_on_the_next_page(client, language):
    post_name(client, "Alice", language)
    assert post_name(client, "Bob", language).status_code == 303
    page = client.get("/", headers=headers(language))
    assert text_of(page, "flashes") == WORDS[language]["changed"]
    assert text_of(client.get("/", headers=headers(language)), "flashes") == ""  # shown once


def test_with_htmx_the_form_is_swapped_and_greeting_and_flash_come_out_of_band(client, language):
    post_name(client, "Bob", language, htmx=True)
    response = post_name(client, "Alice", language, htmx=True)
    assert response.status_code == 200
    assert fragment_ids(response) == ["name-form", "greeting", "flashes"]
    page = soup(response)
    swapped_out_of_band = [page.find(id=element_id).get("hx-swap-oob") for element_id in fragment_ids(response)]
    assert swapped_out_of_band == [None, "true", "true"]
    assert page.find(id="name")["value"] == ""  # a fresh form
    assert text_of(response, "greeting") == WORDS[language]["hello"]
    assert text_of(response, "flashes") == WORDS[language]["changed"]
    assert "HX-Request" in response.vary


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("name", BAD_NAMES, ids=BAD_NAMES.values())
def test_a_bad_name_is_a_422_with_the_message_beside_the_field(client, language, name, htmx):
    response = post_name(client, name, language, htmx=htmx)
    assert response.status_code == 422
    if htmx:
        assert fragment_ids(response) == ["name-form"]
    else:
        assert page_problems(response, language) == []
    field = soup(response).find(id="name")
    assert (field["aria-invalid"], field["aria-describedby"], "is-invalid" in field["class"]) == (
        "true", "name-error", True)
    assert text_of(response, "name-error") == WORDS[language][BAD_NAMES[name]]
    assert client.get("/", headers=headers(language)).status_code == 200
    assert text_of(client.get("/"), "greeting") == WORDS["en"]["stranger"]  # nothing was kept


def test_a_name_of_64_characters_is_fine(client):
    assert post_name(client, "x" * 64).status_code == 303


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_post_without_a_valid_csrf_token_is_a_400_that_explains_itself(client, language, htmx):
    response = client.post("/", data={"name": "Alice", "csrf_token": "stale"}, headers=headers(language, htmx))
    assert response.status_code == 400
    assert text_of(response, "form-expired") == WORDS[language]["expired"]
    assert soup(response).find(id="name")["value"] == "Alice"  # kept, to send again
