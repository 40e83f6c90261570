"""Test helpers for Flasky and its testers: an htmx-aware test client whose responses parse themselves.

Use it as the app's test client class::

    app.test_client_class = HtmxClient
    client = app.test_client()
    page = client.get("/")                      # a plain browser request
    page.soup.select_one("#greeting")           # BeautifulSoup of the response
    swap = client.submit(page, "#name-form", name="Bob", htmx=True)   # fill and send a form like htmx would
    client.hx_get("/user/Bob", boosted=True)    # a boosted navigation
"""

import socket
from functools import cached_property

from bs4 import BeautifulSoup
from flask.testing import FlaskClient


class SoupResponseMixin:
    """Give a test response a parsed `.soup` and a `.fragment(id)` shortcut."""

    @cached_property
    def soup(self):
        """Parse the response body as HTML."""
        return BeautifulSoup(self.get_data(as_text=True), "html.parser")

    def fragment(self, element_id):
        """Return the element with this id, or None."""
        return self.soup.find(id=element_id)

    def text_of(self, element_id):
        """Return the white-space-normalised text of the element with this id ('' when absent)."""
        element = self.fragment(element_id)
        return " ".join(element.get_text().split()) if element else ""


class HtmxClient(FlaskClient):
    """A Flask test client that can send the request headers htmx sends."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.response_wrapper = type("HtmxTestResponse", (SoupResponseMixin, self.response_wrapper), {})

    @staticmethod
    def htmx_headers(*, boosted=False, history_restore=False, target=None, trigger=None, current_url=None):
        """Build the headers of an htmx request."""
        headers = {"HX-Request": "true"}
        if boosted:
            headers["HX-Boosted"] = "true"
        if history_restore:
            headers["HX-History-Restore-Request"] = "true"
        for name, value in (("HX-Target", target), ("HX-Trigger", trigger), ("HX-Current-URL", current_url)):
            if value is not None:
                headers[name] = value
        return headers

    def hx_request(self, method, url, *, boosted=False, history_restore=False, target=None, trigger=None, **kwargs):
        """Send a request as htmx would, merging any extra headers given."""
        headers = self.htmx_headers(boosted=boosted, history_restore=history_restore, target=target, trigger=trigger)
        headers.update(kwargs.pop("headers", {}) or {})
        return self.open(url, method=method, headers=headers, **kwargs)

    def hx_get(self, url, **kwargs):
        """GET as htmx would (hx-get, or with boosted=True a boosted link)."""
        return self.hx_request("GET", url, **kwargs)

    def hx_post(self, url, **kwargs):
        """POST as htmx would (hx-post)."""
        return self.hx_request("POST", url, **kwargs)

    def submit(self, response, form_selector, *, htmx=False, **values):
        """Fill the form found in an earlier response with `values` and send it, via hx-post when htmx=True."""
        form = response.soup.select_one(form_selector)
        if form is None:
            raise AssertionError(f"no form matches {form_selector!r}")
        data = {field["name"]: field.get("value", "") for field in form.select("input[name]")
                if field.get("type") != "submit"}
        data.update(values)
        if htmx:
            return self.hx_post(form.get("hx-post") or form.get("action") or "/", data=data, target=form.get("id"))
        return self.post(form.get("action") or "/", data=data)


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now (for servers a test or benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
