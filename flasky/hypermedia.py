"""Page-or-fragment rendering in one place, so every view answers htmx swaps and plain requests alike."""

from dataclasses import dataclass
from pathlib import PurePosixPath

from blinker import Namespace
from flask import current_app, render_template, request
from flask_htmx import make_response
from jinja2.utils import htmlsafe_json_dumps

from .extensions import htmx

# htmx settings, read from <meta name="htmx-config">: full pages on history restore, no eval or inline
# scripts, no injected styles, and 4xx/5xx answers swapped too (ours are fragments meant to be shown).
HTMX_CONFIG = {
    "historyRestoreAsHxRequest": False,
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "selfRequestsOnly": True,
    # Settling copies attributes with setAttribute; a style attribute set that way breaks the CSP (style-src 'self').
    "attributesToSettle": ["class", "width", "height"],
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[2345]..", "swap": True, "error": False},
    ],
}

# Everything that changes what a view returns for the same URL, so caches keep the variants apart: the htmx
# headers, and the language (Accept-Language, or the switcher's cookie).
VARY_HEADERS = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "Accept-Language", "Cookie")
VARY_VALUE = ", ".join(VARY_HEADERS)

# Sent by render() with what it chose (page, or fragment and out-of-band partials): the contract tests and the
# development exchange inspector listen; with no receiver, sending costs a dictionary lookup.
rendered = Namespace().signal("hypermedia-rendered")


def wants_fragment():
    """Tell whether to answer with a fragment: an htmx swap that is neither boosted nor a history restore."""
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


@dataclass(frozen=True)
class Contract:
    """What one view answers: its full page, the fragments it swaps (each into the id its partial is named after),
    the partials it adds out of band, its statuses, and the media type of an answer that is not HTML."""

    page: str | None = None
    fragments: tuple[str, ...] = ()
    oob: tuple[str, ...] = ()
    statuses: tuple[int, ...] = (200,)
    media: str | None = None

    @staticmethod
    def target(partial):
        """Name the element id a partial replaces: its file name without the extension."""
        return PurePosixPath(partial).stem

    def as_dict(self):
        """Give the contract as plain data, targets spelt out: what `flask hypermedia routes --json` prints."""
        return {"page": self.page, "fragments": {self.target(name): name for name in self.fragments},
                "oob": {self.target(name): name for name in self.oob}, "statuses": list(self.statuses),
                "media": self.media}


def answers(page=None, *, fragments=(), oob=(), statuses=(200,), media=None):
    """Declare a view's contract, which `flask hypermedia routes` lists and the contract tests hold it to."""
    contract = Contract(page, tuple(fragments), tuple(oob), tuple(statuses), media)

    def declare(view):
        view.hypermedia_contract = contract
        return view

    return declare


def contract_of(view):
    """Return the contract a view (or error handler) declared, or None."""
    return getattr(view, "hypermedia_contract", None)


def contracts(app):
    """List the app's contract: each URL rule (static files aside) with its methods and declared contract (None when
    its view declared none), then each error handler that declared one."""
    rows = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        if rule.endpoint != "static":
            methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
            rows.append({"endpoint": rule.endpoint, "methods": methods, "rule": rule.rule,
                         "contract": contract_of(app.view_functions[rule.endpoint])})
    handlers = {handler for by_code in app.error_handler_spec.get(None, {}).values() for handler in by_code.values()}
    for handler in sorted(handlers, key=lambda handler: handler.__qualname__):
        if contract_of(handler) is not None:
            rows.append({"endpoint": None, "methods": [], "rule": None, "handler": f"{handler.__module__}."
                         f"{handler.__qualname__}", "contract": contract_of(handler)})
    return rows


def render(page, fragment=None, *, oob=(), status=200, headers=None, reswap=None, push_url=None, **context):
    """Render the full page, or for an htmx swap the fragment plus out-of-band partials (and HX-Reswap,
    HX-Push-Url)."""
    if wants_fragment():
        _announce(fragment=fragment, oob=tuple(oob), status=status)
        body = render_template("fragment-response.html", fragment=fragment, oob_partials=oob, **context)
        return make_response(body, status, headers or {}, reswap=reswap, push_url=push_url)
    _announce(page=page, status=status)
    return make_response(render_template(page, **context), status, headers or {})


def _announce(page=None, fragment=None, oob=(), status=200):
    """Tell the receivers of `rendered`, if any, what render() chose to answer."""
    if rendered.receivers:
        rendered.send(current_app._get_current_object(), page=page, fragment=fragment, oob=oob, status=status)


def add_vary(response):
    """Mark view responses as varying on the htmx headers, and as private to this visitor unless a view says otherwise."""
    if request.endpoint != "static":
        if "Vary" in response.headers:
            response.vary.update(VARY_HEADERS)
        else:
            response.headers["Vary"] = VARY_VALUE
        response.headers.setdefault("Cache-Control", "private, no-cache")
    return response


def init_app(app):
    """Register the response hook and the htmx settings on the app."""
    app.after_request(add_vary)
    # Serialised once; the template's autoescaping turns its quotes into &#34; inside the attribute.
    app.add_template_global(str(htmlsafe_json_dumps(HTMX_CONFIG, dumps=app.json.dumps)), "htmx_config")
