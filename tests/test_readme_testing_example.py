"""The README's "Testing an htmx app" example, as written there, against Flasky: the example stays true."""

from pytest_htmx import assert_fragment, assert_full_page, assert_lint_clean, assert_oob, assert_vary_covers


def test_a_greeting_swaps_in_place(app, htmx_client):
    page = htmx_client.get("/")
    assert_full_page(page)
    assert_lint_clean(page, app)
    swap = htmx_client.submit(page, "#name-form", htmx=True, name="Alice")
    assert_fragment(swap, "name-form")
    assert_oob(swap, "greeting")
    assert_vary_covers(swap, "HX-Request")
