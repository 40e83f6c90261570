"""A newcomer's tests of the to-do app, through pytest-htmx only (copied in as test_todo.py)."""

from pytest_htmx import (assert_error_fragment, assert_fragment, assert_full_page, assert_hx_headers,
                         assert_lint_clean, assert_oob, assert_sse_wiring, assert_vary_covers)


def add(htmx_client, title):
    return htmx_client.hx_post("/todos", data={"title": title}, target="todo-list")


def test_the_list_is_a_page_for_a_browser_and_a_fragment_for_htmx(htmx_client, app):
    page = htmx_client.get("/todos")
    assert_full_page(page)
    assert_lint_clean(page, app)
    assert_vary_covers(page, "HX-Request", "HX-Boosted")
    assert_full_page(htmx_client.hx_get("/todos", boosted=True))
    swap = htmx_client.hx_get("/todos")
    assert_fragment(swap, "todo-list")
    assert_vary_covers(swap, "HX-Request")


def test_adding_appends_the_item_and_moves_the_count_out_of_band(htmx_client, app):
    page = htmx_client.get("/todos")
    swap = add(htmx_client, "Milk")
    assert_fragment(swap, "todo-1")
    assert_oob(swap, "todo-count", exact=True)
    assert swap.text_of("todo-count") == "1"
    assert_hx_headers(swap, trigger="todo-added", push_url=None)
    assert_hx_headers(swap, trigger={"todo-added": {"id": 1}})
    assert_lint_clean(swap, app, page=page)


def test_an_empty_title_answers_the_form_with_its_error(htmx_client):
    swap = add(htmx_client, " ")
    assert_error_fragment(swap, 422, "todo-form")
    assert swap.soup.select_one(".error").get_text() == "A to-do needs a title."


def test_a_browser_without_javascript_adds_and_is_sent_back_to_the_list(htmx_client):
    answer = htmx_client.post("/todos", data={"title": "Bread"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/todos"
    assert htmx_client.get("/todos").text_of("todo-list").startswith("Bread")


def test_inline_edit_swaps_the_item_for_its_form_and_back(htmx_client, app):
    page = htmx_client.get("/todos")
    add(htmx_client, "Milk")
    editor = htmx_client.hx_get("/todos/1/edit", target="todo-1")
    assert_fragment(editor, "todo-1")
    assert_lint_clean(editor, app, page=page)
    saved = htmx_client.hx_put("/todos/1", data={"title": "Oat milk"})
    assert_fragment(saved, "todo-1")
    assert saved.text_of("todo-1").startswith("Oat milk")


def test_deleting_removes_the_item_and_moves_the_count(htmx_client, app):
    add(htmx_client, "Milk")
    page = htmx_client.get("/todos")
    assert_lint_clean(page, app)
    gone = htmx_client.hx_delete("/todos/1", target="todo-1")
    assert gone.status_code == 200
    assert_oob(gone, "todo-count")
    assert gone.text_of("todo-count") == "0"


def test_the_page_listens_for_what_the_stream_sends(htmx_client):
    page = htmx_client.get("/todos")
    stream = htmx_client.sse("/events", max_events=1, last_event_id="7", timeout=5)
    assert stream.status_code == 200 and stream.retry == 3000 and stream.comments == ["ping"]
    [event] = stream.events
    assert (event.id, event.data) == ("8", "0")
    assert_sse_wiring(page, stream)
