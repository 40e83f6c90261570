"""Assertions on hypermedia responses whose failure messages show what was there.

Each takes a response (a Flask test response, a `requests` response from a real server), and most also an HTML
string or a BeautifulSoup; each raises AssertionError with the status, the top-level elements, the ids present and
the body's first 300 characters (or the headers present), and returns what it found::

    from pytest_htmx import (assert_error_fragment, assert_fragment, assert_full_page, assert_hx_headers, assert_oob,
                             assert_sse_wiring, assert_vary_covers)

    swap = htmx_client.hx_post("/todos", data={"title": "Milk"})
    assert_fragment(swap, "todo-list")          # no <html>; the first element not swapped out of band is #todo-list
    assert_oob(swap, "todo-count")              # an element swapped out of band into #todo-count
    assert_hx_headers(swap, push_url="/todos", reswap=None)    # None: the header must be absent
    assert_vary_covers(swap, "HX-Request")      # caches keep the fragment and the page apart
    assert_full_page(htmx_client.get("/todos")) # a plain request gets the whole page
    assert_error_fragment(htmx_client.hx_post("/todos", data={}), 422, "todo-form")
    assert_sse_wiring(page, htmx_client.sse("/events", max_events=3))   # the page's sse-swap names are sent

Fragments are parsed with html.parser, which keeps a lone <tr> and adds no <html>/<body> around it.
"""

import json

from bs4 import BeautifulSoup, Doctype, Tag

TRIM = 300

# assert_hx_headers' keywords and the response headers they name (htmx 2's response headers).
HX_RESPONSE_HEADERS = {
    "location": "HX-Location",
    "push_url": "HX-Push-Url",
    "redirect": "HX-Redirect",
    "refresh": "HX-Refresh",
    "replace_url": "HX-Replace-Url",
    "reswap": "HX-Reswap",
    "retarget": "HX-Retarget",
    "reselect": "HX-Reselect",
    "trigger": "HX-Trigger",
    "trigger_after_settle": "HX-Trigger-After-Settle",
    "trigger_after_swap": "HX-Trigger-After-Swap",
}
TRIGGER_HEADERS = {"HX-Trigger", "HX-Trigger-After-Settle", "HX-Trigger-After-Swap"}
UNSET = object()


def body_of(page):
    """Return the HTML text of a response, a soup or a string."""
    if isinstance(page, str):
        return page
    if isinstance(page, Tag):
        return str(page)
    return page.get_data(as_text=True) if hasattr(page, "get_data") else page.text


def soup_for(page):
    """Return a soup of a response (its cached `.soup` when it has one), a soup or an HTML string."""
    if isinstance(page, Tag):
        return page
    if isinstance(page, str):
        return BeautifulSoup(page, "html.parser")
    soup = getattr(page, "soup", None)
    return soup if isinstance(soup, Tag) else BeautifulSoup(body_of(page), "html.parser")


def trimmed(text, limit=TRIM):
    """Return text cut to `limit` characters, saying how much was left out."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text) - limit} more characters)"


def is_full_page(soup):
    """Tell whether a parsed body is a whole document (a doctype, <html> or <body>) rather than a fragment."""
    return (any(isinstance(node, Doctype) for node in soup.contents)
            or soup.find("html") is not None or soup.find("body") is not None)


def top_level(soup):
    """Return the elements at the top of a parsed body."""
    return [node for node in soup.contents if isinstance(node, Tag)]


def start_tag(element):
    """Return an element's tag with its id and hx-swap-oob, as `<tr id="todo-1" hx-swap-oob="true">`."""
    shown = "".join(f' {name}="{element[name]}"' for name in ("id", "hx-swap-oob") if element.has_attr(name))
    return f"<{element.name}{shown}>"


def describe(page):
    """Say what a response holds: its status, top-level elements, ids and the start of its body."""
    soup = soup_for(page)
    ids = [element["id"] for element in soup.find_all(id=True)]
    status = getattr(page, "status_code", None)
    lines = [f"status: {status}"] if status is not None else []
    lines += [f"a {'full page' if is_full_page(soup) else 'fragment'}; top-level elements: "
              f"{', '.join(start_tag(element) for element in top_level(soup)) or 'none'}",
              f"ids present: {', '.join(ids[:40]) or 'none'}{' …' if len(ids) > 40 else ''}",
              f"body: {trimmed(body_of(page))!r}"]
    return "\n".join(lines)


def fail(message, page=None):
    """Raise AssertionError with the message and, when given, what the page holds."""
    raise AssertionError(message if page is None else f"{message}\n{describe(page)}")


def assert_fragment(response, root_id=None):
    """Assert the response is a fragment, not a page, with at least one element; with root_id, that its first
    element outside the out-of-band ones has that id. Return that element (None for out-of-band swaps only)."""
    __tracebackhide__ = True
    soup = soup_for(response)
    if is_full_page(soup):
        fail("expected a fragment, got a full page", response)
    if not top_level(soup):
        fail("expected a fragment, found no element", response)
    swapped = [element for element in top_level(soup) if not element.has_attr("hx-swap-oob")]
    if root_id is not None and not swapped:
        fail(f"expected the fragment's root to be #{root_id}, found no element outside the out-of-band ones",
             response)
    if root_id is not None and swapped[0].get("id") != root_id:
        fail(f"expected the fragment's root to be #{root_id}, it is {start_tag(swapped[0])}", response)
    return swapped[0] if swapped else None


def assert_full_page(response):
    """Assert the response is a whole page (a doctype, <html> or <body>); return its soup."""
    __tracebackhide__ = True
    soup = soup_for(response)
    if not is_full_page(soup):
        fail("expected a full page, got a fragment", response)
    return soup


def oob_targets(soup):
    """Map each out-of-band swap's target id to its element: the element's own id, or the #id after a swap style."""
    targets = {}
    for element in soup.find_all(attrs={"hx-swap-oob": True}):
        _, _, selector = element["hx-swap-oob"].partition(":")
        target = selector.strip()[1:] if selector.strip().startswith("#") else element.get("id")
        if target:
            targets[target] = element
    return targets


def assert_oob(response, *ids, exact=False):
    """Assert the response swaps an element out of band into each of these ids (with exact=True, into no other);
    return the elements by id."""
    __tracebackhide__ = True
    if not ids:
        raise TypeError("assert_oob() needs the ids it expects swapped out of band")
    targets = oob_targets(soup_for(response))
    missing = [element_id for element_id in ids if element_id not in targets]
    extra = sorted(set(targets) - set(ids)) if exact else []
    if missing or extra:
        present = ", ".join(f"#{target} ({start_tag(element)})" for target, element in targets.items()) or "none"
        problem = "; ".join(filter(None, [missing and f"no out-of-band swap into {', '.join('#' + i for i in missing)}",
                                          extra and f"unexpected out-of-band swaps into "
                                                    f"{', '.join('#' + i for i in extra)}"]))
        fail(f"{problem}\nout-of-band swaps present: {present}", response)
    return {element_id: targets[element_id] for element_id in ids}


def hx_headers(response):
    """Return the HX-* response headers, by name."""
    return {name: value for name, value in response.headers.items() if name.lower().startswith("hx-")}


def trigger_matches(value, expected):
    """Tell whether an HX-Trigger value sends `expected`: an event name (of a JSON object's keys or a comma list),
    or a dict equal to the JSON object."""
    try:
        sent = json.loads(value)
    except ValueError:
        sent = None
    if isinstance(expected, dict):
        return sent == expected
    if isinstance(sent, dict):
        return expected in sent
    return expected in [name.strip() for name in value.split(",")]


def assert_hx_headers(response, **expected):
    """Assert htmx's response headers: each keyword (push_url, reswap, trigger, redirect, retarget, location, ...)
    equal to its value, or absent when None; a trigger may be an event name or a dict of the JSON sent."""
    __tracebackhide__ = True
    unknown = sorted(set(expected) - set(HX_RESPONSE_HEADERS))
    if unknown:
        raise TypeError(f"assert_hx_headers() does not know {', '.join(unknown)}; it knows "
                        f"{', '.join(sorted(HX_RESPONSE_HEADERS))}")
    problems = []
    for keyword, wanted in expected.items():
        name = HX_RESPONSE_HEADERS[keyword]
        value = response.headers.get(name)
        if wanted is None:
            if value is not None:
                problems.append(f"{name}: expected absent, got {value!r}")
        elif value is None:
            problems.append(f"{name}: expected {wanted!r}, absent")
        elif name in TRIGGER_HEADERS and not trigger_matches(value, wanted):
            problems.append(f"{name}: expected it to send {wanted!r}, got {value!r}")
        elif name not in TRIGGER_HEADERS and value != (str(wanted).lower() if isinstance(wanted, bool) else wanted):
            problems.append(f"{name}: expected {wanted!r}, got {value!r}")
    if problems:
        present = ", ".join(f"{name}: {value}" for name, value in hx_headers(response).items()) or "none"
        fail("\n".join(problems) + f"\nHX-* headers present: {present}\nstatus: {response.status_code}")


def listed(response, name):
    """Return the comma-separated values of a response header, over all its lines (Werkzeug or requests)."""
    headers = response.headers
    lines = headers.getlist(name) if hasattr(headers, "getlist") else [headers.get(name) or ""]
    return [value.strip() for line in lines for value in line.split(",") if value.strip()]


def assert_vary_covers(response, *headers):
    """Assert the Vary header names each of these request headers (HX-Request when none is given), so caches keep
    the answers they change apart."""
    __tracebackhide__ = True
    vary = listed(response, "Vary")
    covered = {value.lower() for value in vary}
    missing = [header for header in headers or ("HX-Request",) if "*" not in covered and header.lower() not in covered]
    if missing:
        fail(f"Vary does not cover {', '.join(missing)}\nVary: {', '.join(vary) or 'absent'}"
             f"\nstatus: {response.status_code}")


def assert_error_fragment(response, status, root_id=None):
    """Assert an error answer to an htmx request: this status, and a fragment rooted at root_id (when given) that
    htmx can swap in; return its root element."""
    __tracebackhide__ = True
    if response.status_code != status:
        fail(f"expected status {status}, got {response.status_code}", response)
    return assert_fragment(response, root_id)


def sse_listeners(soup):
    """Map each event name a page listens for (sse-swap, hx-trigger="sse:name") to its elements."""
    listeners = {}
    for element in soup.find_all(True):
        names = [name.strip() for name in element.get("sse-swap", element.get("data-sse-swap", "")).split(",")]
        trigger = element.get("hx-trigger", element.get("data-hx-trigger", ""))
        names += [spec.split()[0][4:] for spec in trigger.split(",") if spec.strip().startswith("sse:")]
        for name in filter(None, names):
            listeners.setdefault(name, []).append(element)
    return listeners


def event_names(events):
    """Return the event names of an SSEStream, of SSEEvents, or of names."""
    events = getattr(events, "events", events)
    return [getattr(event, "event", event) for event in events]


def assert_sse_wiring(page, events):
    """Assert each event name the page listens for (sse-swap, hx-trigger="sse:...") is one the stream sends, and
    that an sse-connect element encloses each listener; return the names listened for."""
    __tracebackhide__ = True
    listeners = sse_listeners(soup_for(page))
    sent = list(dict.fromkeys(event_names(events)))
    if not listeners:
        fail("the page listens for no server-sent event (no sse-swap or hx-trigger=\"sse:...\")", page)
    unheard = [name for name in listeners if name not in sent]
    unconnected = sorted({start_tag(element) for elements in listeners.values() for element in elements
                          if element.find_parent(attrs={"sse-connect": True}) is None
                          and not element.has_attr("sse-connect")})
    if unheard or unconnected:
        problems = [f"the page listens for {', '.join(unheard)}, which the stream did not send"] if unheard else []
        problems += [f"no sse-connect encloses {', '.join(unconnected)}"] if unconnected else []
        fail("\n".join(problems) + f"\nthe page listens for: {', '.join(listeners)}"
             f"\nthe stream sent: {', '.join(sent) or 'no event'}")
    return list(listeners)
