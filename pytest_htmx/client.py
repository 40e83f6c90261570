"""An htmx-aware Flask test client whose responses parse themselves, and soup helpers for any response.

The `htmx_client` fixture is one, for your `app` fixture; or make it your app's test client class::

    app.test_client_class = HtmxClient
    client = app.test_client()
    page = client.get("/")                      # a plain browser request
    page.soup.select_one("#greeting")           # BeautifulSoup of the response (html.parser)
    page.fragment("greeting")                   # the element with this id, or None
    page.text_of("greeting")                    # its white-space-normalised text ('' when absent)
    swap = client.submit(page, "#name-form", name="Bob", htmx=True)   # fill and send a form like htmx would
    client.hx_get("/user/Bob", boosted=True)    # a boosted navigation
    client.hx_request("DELETE", "/todos/1", target="todo-1")           # any method, with HX-Target
    client.sse("/events", max_events=1)         # a bounded read of an event stream (pytest_htmx.sse)

`soup_of(response)` and `text_of(response, id)` take `requests` responses from a real server too.
"""

from functools import cached_property

from bs4 import BeautifulSoup, Tag
from flask.testing import FlaskClient

from .sse import read_sse


def soup_of(response):
    """Parse a response's body as HTML: a Flask test response, or a `requests` one from a real server."""
    body = response.get_data(as_text=True) if hasattr(response, "get_data") else response.text
    return BeautifulSoup(body, "html.parser")


def text_of(page, element_id):
    """Return the white-space-normalised text of the element with this id in a soup or a response ('' when absent)."""
    element = (page if isinstance(page, Tag) else soup_of(page)).find(id=element_id)
    return " ".join(element.get_text().split()) if element else ""


class SoupResponseMixin:
    """Give a test response a parsed `.soup` and a `.fragment(id)` shortcut."""

    @cached_property
    def soup(self):
        """Parse the response body as HTML (once)."""
        return soup_of(self)

    def fragment(self, element_id):
        """Return the element with this id, or None."""
        return self.soup.find(id=element_id)

    def text_of(self, element_id):
        """Return the white-space-normalised text of the element with this id ('' when absent)."""
        return text_of(self.soup, element_id)


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

    def hx_put(self, url, **kwargs):
        """PUT as htmx would (hx-put)."""
        return self.hx_request("PUT", url, **kwargs)

    def hx_patch(self, url, **kwargs):
        """PATCH as htmx would (hx-patch)."""
        return self.hx_request("PATCH", url, **kwargs)

    def hx_delete(self, url, **kwargs):
        """DELETE as htmx would (hx-delete)."""
        return self.hx_request("DELETE", url, **kwargs)

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

    def sse(self, path, *, max_events=None, last_event_id=None, timeout=5.0, **kwargs):
        """Read the event stream at `path` for at most `timeout` seconds or `max_events` events (an SSEStream)."""
        return read_sse(self, path, max_events=max_events, last_event_id=last_event_id, timeout=timeout, **kwargs)
