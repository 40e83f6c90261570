"""A hypermedia linter: what in a response's htmx attributes would fail in the browser, found on the server.

    problems = lint(response, app)              # a list of Problem(rule, message, element)
    assert_lint_clean(response, app)            # fails listing every problem
    lint(html, url_map=app.url_map, base_url="/todos")   # an HTML string, without an app
    lint(fragment, app, page=page)              # a fragment, with the page it is swapped into

The rules (each Problem's `rule`):

- "attribute": an `hx-*` (or `data-hx-*`) name that is not one of htmx 2.0's attributes (HTMX_ATTRIBUTES, from
  https://htmx.org/reference/, plus `hx-on:<event>`, `hx-on::<event>` and `hx-on-<event>`), with the nearest real
  name; `hx-on`, `hx-sse` and `hx-ws`, which htmx 2 removed, are flagged too.
- "route": an `hx-get/hx-post/hx-put/hx-patch/hx-delete` URL of this app (a path, or an absolute URL on the app's
  host) that no route matches, or whose route does not accept that method, or that only redirects to its canonical
  URL (a missing trailing slash). Relative URLs are resolved against `base_url` (by default the request's path).
  URLs of other hosts, and empty values (the current URL), are not checked. Needs `app` or `url_map`; without
  either the rule is skipped.
- "target": an `hx-target`, `hx-include`, `hx-indicator` or `hx-disabled-elt` of the form `#id` (or a comma list of
  them) naming an id that is not there. In a full page, "there" is the page. In a fragment it is the fragment plus
  the `page=` it is swapped into; without `page=` a fragment's ids outside itself cannot be known and are not
  flagged. Other selectors (`this`, `closest tr`, `find .x`, `next`, classes) are not checked.
- "oob": an element with `hx-swap-oob` that names no target (no id, and no `strategy:#id`), or, when the page it
  lands in is known (`page=`), one whose target id is not in that page.
- "json": `hx-vals` or `hx-headers` that is not a JSON object; a `js:`/`javascript:` value, and `hx-vars`, need
  eval, which htmx's allowEval=false and a strict Content-Security-Policy forbid.
"""

import difflib
import json
import re
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from .assertions import body_of, is_full_page, oob_targets, soup_for, trimmed

# htmx 2.0's attributes (https://htmx.org/reference/, core and additional); hx-on:* is matched by its prefix.
HTMX_ATTRIBUTES = frozenset({
    "hx-boost", "hx-confirm", "hx-delete", "hx-disable", "hx-disabled-elt", "hx-disinherit", "hx-encoding",
    "hx-ext", "hx-get", "hx-headers", "hx-history", "hx-history-elt", "hx-include", "hx-indicator", "hx-inherit",
    "hx-params", "hx-patch", "hx-post", "hx-preserve", "hx-prompt", "hx-push-url", "hx-put", "hx-replace-url",
    "hx-request", "hx-select", "hx-select-oob", "hx-swap", "hx-swap-oob", "hx-sync", "hx-target", "hx-trigger",
    "hx-validate", "hx-vals", "hx-vars",
})
REMOVED_IN_HTMX_2 = {"hx-on": "hx-on:<event>", "hx-sse": "the sse extension's sse-connect/sse-swap",
                     "hx-ws": "the ws extension's ws-connect/ws-send"}
REQUEST_ATTRIBUTES = {"hx-get": "GET", "hx-post": "POST", "hx-put": "PUT", "hx-patch": "PATCH", "hx-delete": "DELETE"}
SELECTOR_ATTRIBUTES = ("hx-target", "hx-include", "hx-indicator", "hx-disabled-elt")
JSON_ATTRIBUTES = ("hx-vals", "hx-headers")
ID_SELECTOR = re.compile(r"#([\w-]+)")


@dataclass(frozen=True)
class Problem:
    """One thing the linter found: its rule, what is wrong, and the element's start tag."""

    rule: str
    message: str
    element: str

    def __str__(self):
        return f"[{self.rule}] {self.message}: {self.element}"


def attribute_name(name):
    """Return an attribute's htmx name: `data-hx-get` is `hx-get`."""
    return name.removeprefix("data-")


def shown(element, limit=160):
    """Return an element's start tag with all its attributes, cut to `limit` characters."""
    tag = str(element).split(">", 1)[0] + ">"
    return tag if len(tag) <= limit else tag[:limit] + "…>"


def lint(response, app=None, *, url_map=None, base_url=None, page=None):
    """Return the problems of a response's (or HTML string's, or soup's) htmx attributes, in document order."""
    soup = soup_for(response)
    url_map = url_map if url_map is not None else getattr(app, "url_map", None)
    server_name = (app.config.get("SERVER_NAME") if app is not None else None) or "localhost"
    if base_url is None:
        request = getattr(response, "request", None)
        base_url = getattr(request, "path", None) or "/"
    known_ids = {element["id"] for element in soup.find_all(id=True)}
    full_page = is_full_page(soup)
    page_ids = None
    if page is not None:
        page_ids = {element["id"] for element in soup_for(page).find_all(id=True)}
    problems = []
    for element in soup.find_all(True):
        for name, value in element.attrs.items():
            name = attribute_name(name)
            if not name.startswith("hx-"):
                continue
            value = " ".join(value) if isinstance(value, list) else value
            problems += _attribute_problems(element, name, value)
            if name in REQUEST_ATTRIBUTES and url_map is not None:
                problems += _route_problems(element, name, value, url_map, server_name, base_url)
            if name in SELECTOR_ATTRIBUTES:
                problems += _target_problems(element, name, value, known_ids, full_page, page_ids)
            if name in JSON_ATTRIBUTES or name == "hx-vars":
                problems += _json_problems(element, name, value)
    for target, element in oob_targets(soup).items():
        if page_ids is not None and target not in page_ids:
            problems.append(Problem("oob", f"hx-swap-oob targets #{target}, which the page does not have",
                                    shown(element)))
    problems += [Problem("oob", "hx-swap-oob names no target: the element has no id and the value no #id",
                         shown(element)) for element in soup.find_all(attrs={"hx-swap-oob": True})
                 if not element.get("id") and ":" not in element["hx-swap-oob"]]
    return problems


def _attribute_problems(element, name, value):
    if name in HTMX_ATTRIBUTES or name.startswith(("hx-on:", "hx-on-")):
        return []
    if name in REMOVED_IN_HTMX_2:
        return [Problem("attribute", f"{name} was removed in htmx 2: use {REMOVED_IN_HTMX_2[name]}", shown(element))]
    nearest = difflib.get_close_matches(name, sorted(HTMX_ATTRIBUTES), n=1)
    hint = f" (did you mean {nearest[0]}?)" if nearest else ""
    return [Problem("attribute", f"{name} is not an htmx 2 attribute{hint}", shown(element))]


def _route_problems(element, name, value, url_map, server_name, base_url):
    method = REQUEST_ATTRIBUTES[name]
    if not value.strip():
        return []  # htmx requests the current URL
    url = urlsplit(urljoin(base_url, value.strip()))
    if url.scheme not in ("", "http", "https") or url.netloc not in ("", server_name):
        return []
    try:
        url_map.bind(server_name).match(url.path or "/", method=method)
    except RequestRedirect as redirect:
        return [Problem("route", f"{name}={value!r} only redirects to {redirect.new_url}", shown(element))]
    except MethodNotAllowed as error:
        allowed = ", ".join(sorted(error.valid_methods or ()))
        return [Problem("route", f"{name}={value!r}: its route does not accept {method} (it accepts {allowed})",
                        shown(element))]
    except NotFound:
        return [Problem("route", f"{name}={value!r}: no route matches {url.path}", shown(element))]
    return []


def _target_problems(element, name, value, known_ids, full_page, page_ids):
    if full_page:
        there, where = known_ids, "the page"
    elif page_ids is not None:
        there, where = known_ids | page_ids, "the fragment or the page"
    else:
        return []  # a fragment's targets may be in the page it lands in: unknowable without page=
    wanted = [part.strip() for part in value.split(",")]
    missing = [part[1:] for part in wanted if ID_SELECTOR.fullmatch(part) and part[1:] not in there]
    return [Problem("target", f"{name}={value!r}: {where} has no element with id {missing_id!r}", shown(element))
            for missing_id in missing]


def _json_problems(element, name, value):
    if name == "hx-vars" or value.lstrip().startswith(("js:", "javascript:")):
        return [Problem("json", f"{name}={value!r} is evaluated as JavaScript: it needs eval, which allowEval=false "
                                f"and a strict Content-Security-Policy forbid", shown(element))]
    try:
        parsed = json.loads(value)
    except ValueError as error:
        return [Problem("json", f"{name}={value!r} is not valid JSON ({error})", shown(element))]
    if not isinstance(parsed, dict):
        return [Problem("json", f"{name}={value!r} is JSON but not an object", shown(element))]
    return []


def assert_lint_clean(response, app=None, **options):
    """Assert the linter finds no problem in the response (same options as lint()), listing each one it finds."""
    __tracebackhide__ = True
    problems = lint(response, app, **options)
    if problems:
        raise AssertionError(f"{len(problems)} hypermedia problem{'s' * (len(problems) != 1)}:\n"
                             + "\n".join(f"  {problem}" for problem in problems)
                             + f"\nbody: {trimmed(body_of(response))!r}")
