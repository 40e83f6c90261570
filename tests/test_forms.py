"""What a name may be: the rules of NameForm, inline validation, and CSRF failures explained in place."""

import pytest
from bs4 import BeautifulSoup

from flasky.main.forms import NameForm
from tests.helpers import expired_token

NAME_RULES = [
    # (submitted, accepted as, or the error shown)
    ("Alice", "Alice", None),
    ("  Alice \t", "Alice", None),
    ("Zoe\u0301", "Zo\u00e9", None),
    ("日本語の名前", "日本語の名前", None),
    ("محمد", "محمد", None),
    ("Ünïcødé 🚀", "Ünïcødé 🚀", None),
    ("👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧", None),
    ("x" * 64, "x" * 64, None),
    ("O'Brien & <Sons>", "O'Brien & <Sons>", None),
    ("...", "...", None),
    ("", None, "Please enter your name."),
    ("   \t ", None, "Please enter your name."),
    ("\u3000\u00a0", None, "Please enter your name."),
    ("x" * 65, None, "Names can be at most 64 characters long."),
    ("Ann\r\nBcc: x@example.com", None, "Names cannot contain control characters or line breaks."),
    ("Ann\x00", None, "Names cannot contain control characters or line breaks."),
    ("Ann\x1b[31m", None, "Names cannot contain control characters or line breaks."),
    ("Ann\u2028Bob", None, "Names cannot contain control characters or line breaks."),
    ("Ann\ufffe", None, "Names cannot contain control characters or line breaks."),
    ("\ufdd0", None, "Names cannot contain control characters or line breaks."),
    ("\u202eevil", None, "Names cannot contain characters that change the text direction."),
    ("\u200b\u200b", None, "Please enter a name with at least one visible character."),
    ("\u200d", None, "Please enter a name with at least one visible character."),
    ("\u0301", None, "Please enter a name with at least one visible character."),
    ("Bo\u200bb", None, "Names cannot contain invisible formatting characters."),
    ("AC/DC", None, "Names cannot contain “/” or be just “.” or “..”."),
    ("..", None, "Names cannot contain “/” or be just “.” or “..”."),
]


@pytest.mark.parametrize("submitted, stored, error", NAME_RULES)
def test_name_rules_on_submit(greet, usernames, submitted, stored, error):
    response = greet(submitted, htmx=True)
    if error is None:
        assert response.status_code == 200
        assert response.text_of("name-error") == ""
        assert usernames() == [stored]
        assert response.soup.select_one("#greeting a").get_text() == stored
    else:
        assert response.status_code == 422
        assert response.text_of("name-error") == error
        assert response.soup.select_one("#name")["aria-invalid"] == "true"
        assert usernames() == []


@pytest.mark.parametrize("submitted, stored, error", NAME_RULES)
def test_inline_validation_shows_or_clears_the_error_without_storing(client, usernames, submitted, stored, error):
    response = client.hx_post("/validate/name", data={"name": submitted}, target="name-error")
    assert response.status_code == 200
    top = response.soup.find_all(recursive=False)
    assert [tag["id"] for tag in top] == ["name-error"]
    assert response.text_of("name-error") == (error or "")
    assert ("d-block" in top[0]["class"]) is (error is not None)
    assert top[0]["data-field"] == "name"
    assert usernames() == []


def test_inline_validation_without_htmx_answers_the_full_page(client):
    response = client.post("/validate/name", data={"name": "x" * 65})
    assert response.status_code == 200
    assert response.soup.html is not None
    assert response.text_of("name-error") == "Names can be at most 64 characters long."


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize(
    "case, message",
    [
        ("expired", "This form has expired, please try again."),
        ("missing", "This form was sent without its security token, please try again."),
        ("garbage", "This form's security token is not valid, please try again."),
        ("other-session", "Your session changed since this form was loaded, please try again."),
        ("no-session", "Your session changed since this form was loaded, please try again."),
    ],
)
def test_a_failed_csrf_check_is_explained_in_place_and_keeps_the_name(app, client, usernames, monkeypatch, htmx, case, message):
    page = expired_token(client, monkeypatch) if case == "expired" else client.get("/")
    values = {"name": "Alice"}
    if case == "missing":
        values["csrf_token"] = ""
    elif case == "garbage":
        values["csrf_token"] = "not-a-token"
    elif case == "other-session":
        values["csrf_token"] = app.test_client().get("/").soup.select_one("#csrf_token")["value"]
    elif case == "no-session":
        client.delete_cookie("session")
    response = client.submit(page, "#name-form", htmx=htmx, **values)
    assert response.status_code == 400
    assert response.text_of("form-error") == message
    assert response.soup.select_one("#name")["value"] == "Alice"
    assert (response.soup.html is None) is htmx
    assert usernames() == []
    retry = client.submit(response, "#name-form", htmx=htmx)
    assert retry.status_code == (200 if htmx else 303), "the fresh token in the answer works"
    assert usernames() == ["Alice"]


# How partials/name-form.html's <input id="name"> differs from WTForms' rendering of the field, on purpose.
WTFORMS_ONLY = {"maxlength", "required"}
PARTIAL_ONLY = {"aria-required": "true", "aria-describedby": "name-error name-help"}


def input_attributes(html):
    """Parse one <input> and return its attributes as plain strings."""
    tag = BeautifulSoup(html, "html.parser").input
    return {name: " ".join(value) if isinstance(value, list) else value for name, value in tag.attrs.items()}


@pytest.mark.parametrize("value", ["", "Alice", 'O\'Brien & "<Sons>"', "x" * 65], ids=["empty", "name", "html", "too-long"])
def test_the_written_out_name_input_matches_wtforms_rendering_but_for_the_named_differences(app, client, value):
    page = client.post("/validate/name", data={"name": value})  # the full page, the value filled in
    ours = input_attributes(str(page.soup.select_one("#name-form #name")))
    with app.test_request_context():
        form = NameForm(meta={"csrf": False}, data={"name": value or None})
        theirs = input_attributes(str(form.name()))
        submit = input_attributes(str(form.submit()))
    assert WTFORMS_ONLY <= theirs.keys() and not WTFORMS_ONLY & ours.keys()
    assert {name: ours[name] for name in PARTIAL_ONLY} == PARTIAL_ONLY
    assert {name: ours.get(name) for name in theirs.keys() - WTFORMS_ONLY} == {
        name: theirs[name] for name in theirs.keys() - WTFORMS_ONLY}
    ours_submit = input_attributes(str(page.soup.select_one("#name-form #submit")))
    assert {name: ours_submit.get(name) for name in submit} == submit
