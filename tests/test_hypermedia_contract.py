"""The hypermedia contract, walked: every GET endpoint × (plain, htmx, boosted, history restore) × (en, zh), and every
form × (valid, invalid, expired token) × (plain, htmx) × (en, zh), each held to what its view declares with
@hypermedia.answers (`flask --app flasky hypermedia routes` prints it) and linted; then the walk shown to fail on a
partial whose root lacks its id, a view that forgets Vary, an hx-post to a GET-only route and an undeclared swap."""

import json
from dataclasses import dataclass, field

import pytest
from flask import request, url_for
from jinja2 import ChoiceLoader, DictLoader

import flasky.hypermedia
from flasky import create_app, resource_root
from flasky.extensions import db
from flasky.hypermedia import Contract, contract_of, contracts, rendered
from flasky.main.errors import http_error
from pytest_htmx import assert_fragment, assert_full_page, assert_lint_clean, assert_oob, assert_vary_covers
from tests.helpers import ThreadedServerClient, create_schema, drop_schema, expired_token, html_errors

LANGUAGES = {"en": "en", "zh": "zh-CN"}
KINDS = ("plain", "htmx", "boosted", "history")
# Each request header that changes an answer, which Vary must name so that caches keep the answers apart.
VARYING = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request", "Accept-Language", "Cookie")
# The values each endpoint's rule variables and query strings take in the walk: every entry is one more address.
ADDRESSES = {
    "main.user": [{"name": "Alice"}, {"name": "Nobody"}],
    "directory.index": [{}, {"q": "ali"}, {"role": "nope"}],
    "directory.more": [{"q": "a"}, {"cursor": "not-a-cursor"}],
}
ERRORS = contract_of(http_error)
# The development exchange inspector is walked too (its route, and its panel on every page): off in testing otherwise.
WALKED = {"FLASKY_INSPECTOR": True}


@dataclass(frozen=True)
class Form:
    """A form on the home page to walk: its selector, valid and invalid values, and each case's statuses."""

    selector: str
    valid: dict
    invalid: dict
    statuses: dict = field(default_factory=dict)  # case → (plain status, htmx status)
    sent_by_form: bool = True  # False: one of its fields posts it to the endpoint (hx-post on an input)


FORMS = {
    "main.greet": Form("#name-form", {"name": "Alice"}, {"name": " \t "},
                       {"valid": (303, 200), "invalid": (422, 422), "expired": (400, 400)}),
    # Checks the name as it is typed; it stores nothing, so it checks no CSRF token either.
    "main.validate_name": Form("#name-form", {"name": "Bob"}, {"name": "x" * 10_000},
                               {"valid": (200, 200), "invalid": (200, 200), "expired": (200, 200)},
                               sent_by_form=False),
    # Carries no token: a cross-site switch is refused by its Sec-Fetch-Site or Origin (tests/test_i18n.py).
    "main.set_language": Form("#language-switcher", {"lang": "zh"}, {"lang": "xx"},
                              {"valid": (303, 303), "invalid": (400, 400), "expired": (303, 303)}),
}


def endpoints(methods):
    """List the testing app's endpoints that take one of these methods, in the order its contract lists them."""
    return [row["endpoint"] for row in contracts(create_app("testing", **WALKED))
            if row["endpoint"] and set(row["methods"]) & methods]


def pytest_generate_tests(metafunc):
    """Generate one walk per endpoint, address, request kind and language, and one per form, case and language."""
    if "get_state" in metafunc.fixturenames:
        states = [(endpoint, values, kind, language) for endpoint in endpoints({"GET"})
                  for values in ADDRESSES.get(endpoint, [{}]) for kind in KINDS for language in LANGUAGES]
        metafunc.parametrize("get_state", states, ids=["-".join([endpoint, *map(str, values.values()), kind, language])
                                                      for endpoint, values, kind, language in states])
    if "form_state" in metafunc.fixturenames:
        states = [(endpoint, case, kind, language) for endpoint in endpoints({"POST"})
                  for case in ("valid", "invalid", "expired") for kind in ("plain", "htmx") for language in LANGUAGES]
        metafunc.parametrize("form_state", states, ids=["-".join(state) for state in states])


@pytest.fixture(scope="module")
def walked_app(tmp_path_factory):
    """One testing app on a SQLite file for the whole walk, with Alice and a few names stored."""
    yield from made_app(tmp_path_factory.mktemp("contract"))


def made_app(folder, **overrides):
    """Build a testing app on a SQLite file in `folder`, with names stored; drop its tables afterwards."""
    url = f"sqlite:///{folder / 'walk.sqlite'}"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **{**WALKED, **overrides})
    app.test_client_class = ThreadedServerClient  # as under the README's server: the live panel streams
    with app.app_context():
        create_schema()
    client = app.test_client()
    for name in ("Alice", "Alan", "张三"):
        client.submit(client.get("/"), "#name-form", name=name)
    yield app
    with app.app_context():
        drop_schema()
        db.engine.dispose()


@dataclass
class Exchange:
    """One request of the walk and what came of it: the response, and what hypermedia.render() said it rendered."""

    endpoint: str
    kind: str
    app: object
    response: object
    renders: list
    page: object = None  # the full page the answer is swapped into, for the linter's target checks

    @property
    def contract(self):
        """The contract the endpoint's view declared (None when it declared none)."""
        return contract_of(self.app.view_functions[self.endpoint])


def exchange(app, endpoint, kind, language, send, prepare=lambda client: None):
    """Send one request with `send(client, prepare(client))`, recording what render() rendered for it alone."""
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = LANGUAGES[language]
    prepared = prepare(client)
    renders = []

    def record(sender, **rendering):
        renders.append(rendering)

    with rendered.connected_to(record, app):
        response = send(client, prepared)
    return Exchange(endpoint, kind, app, response, renders)


def walk_get(app, endpoint, values, kind, language):
    """Request a GET endpoint as a browser (plain), an htmx swap, a boosted link or a history restore."""
    with app.test_request_context():
        url = url_for(endpoint, **values)
    contract = contract_of(app.view_functions[endpoint])
    target = Contract.target(contract.fragments[0]) if contract and contract.fragments else None
    options = {"plain": None, "htmx": {"target": target}, "boosted": {"boosted": True},
               "history": {"history_restore": True}}[kind]
    if contract is not None and contract.media == "text/event-stream":
        return exchange(app, endpoint, kind, language, lambda client, _: stream_head(client, url, options))
    walked = exchange(app, endpoint, kind, language,
                      lambda client, _: client.get(url) if options is None else client.hx_get(url, **options))
    if kind == "htmx":
        walked.page = app.test_client().get(url, follow_redirects=True)
    return walked


def stream_head(client, url, options):
    """Open an event stream and read its first event; return the response (its body is what was read)."""
    headers = client.htmx_headers(**options) if options is not None else {}
    response = client.get(url, headers=headers, buffered=False)
    first = next(response.response, b"") if response.mimetype == "text/event-stream" else b""
    response.close()
    response.set_data(first or response.get_data())
    return response


def walk_form(app, endpoint, case, kind, language, monkeypatch):
    """Fill and send a form the way a visitor would, with JS (htmx) or without."""
    form = FORMS[endpoint]

    def fetch_page(client):
        return expired_token(client, monkeypatch) if case == "expired" else client.get("/")

    def send(client, page):
        values = form.valid if case in ("valid", "expired") else form.invalid
        if form.sent_by_form:
            return client.submit(page, form.selector, htmx=kind == "htmx", **values)
        data = {field["name"]: field.get("value", "") for field in page.soup.select(f"{form.selector} input[name]")}
        with app.test_request_context():
            url = url_for(endpoint)
        return client.hx_post(url, data=data | values) if kind == "htmx" else client.post(url, data=data | values)

    walked = exchange(app, endpoint, kind, language, send, prepare=fetch_page)
    if kind == "htmx":
        walked.page = app.test_client().get("/")
    return walked


def check(walked, language):
    """Hold one answer to its view's declared contract (or the error handler's), then lint it."""
    __tracebackhide__ = True
    response, contract = walked.response, walked.contract
    assert contract is not None, f"{walked.endpoint} declares no contract: give its view @hypermedia.answers(…)"
    status = response.status_code
    is_error = status >= 400 and bool(walked.renders) and is_error_answer(walked.renders[0])
    assert is_error or status in contract.statuses, (
        f"{walked.endpoint} answered {status}; its contract says {contract.statuses}")
    if contract.media is not None and not is_error:
        if status == 200:
            assert response.mimetype == contract.media, f"{walked.endpoint} answered {response.mimetype}"
        return
    assert_vary_covers(response, *VARYING)
    if 300 <= status < 400:
        assert response.location, f"{walked.endpoint} answered {status} without a Location"
        assert not walked.renders, f"{walked.endpoint} rendered {walked.renders} and then redirected"
        return
    assert len(walked.renders) == 1, (
        f"{walked.endpoint} ({walked.kind}) rendered {len(walked.renders)} times through hypermedia.render(): "
        f"{walked.renders}")
    assert response.headers["Content-Language"] == LANGUAGES[language]
    expected = ERRORS if is_error else contract
    if walked.kind == "htmx":
        check_fragment(walked, expected, is_error)
    else:
        check_page(walked, expected, language)


def is_error_answer(rendering):
    """Tell whether render() was rendering the error handler's answer: its page, or its message out of band alone."""
    return rendering["page"] == ERRORS.page or (rendering["page"] is None and rendering["fragment"] is None
                                                 and rendering["oob"] == ERRORS.oob)


def check_fragment(walked, contract, is_error):
    """An htmx swap: the declared fragment, rooted at the id its partial is named after, and only declared oob."""
    __tracebackhide__ = True
    response, [rendering] = walked.response, walked.renders
    if is_error:
        assert response.headers.get("HX-Reswap") == "none", "an htmx error answer must not replace what asked"
    else:
        assert rendering["fragment"] in contract.fragments, (
            f"{walked.endpoint} swapped {rendering['fragment']}; its contract says {contract.fragments}")
        assert_fragment(response, Contract.target(rendering["fragment"]))
    undeclared = set(rendering["oob"]) - set(contract.oob)
    assert not undeclared, f"{walked.endpoint} added {sorted(undeclared)} out of band, undeclared"
    if rendering["oob"]:
        assert_oob(response, *map(Contract.target, rendering["oob"]), exact=True)
    assert_lint_clean(response, walked.app, page=walked.page)


def check_page(walked, contract, language):
    """A browser's, a boosted link's or a history restore's answer: the declared page, whole, titled, described."""
    __tracebackhide__ = True
    response, [rendering] = walked.response, walked.renders
    assert rendering["page"] == contract.page, (
        f"{walked.endpoint} ({walked.kind}) rendered {rendering}; its contract's page is {contract.page}")
    soup = assert_full_page(response)
    assert soup.title and soup.title.get_text(strip=True), "a page needs its own <title>"
    description = soup.find("meta", attrs={"name": "description"})
    assert description and description.get("content", "").strip(), "a page needs its meta description"
    assert soup.html["lang"] == LANGUAGES[language]
    assert_lint_clean(response, walked.app)


def test_every_get_endpoint_keeps_its_contract(walked_app, get_state):
    endpoint, values, kind, language = get_state
    check(walk_get(walked_app, endpoint, values, kind, language), language)


def test_every_form_keeps_its_contract(walked_app, form_state, monkeypatch):
    endpoint, case, kind, language = form_state
    assert endpoint in FORMS, f"{endpoint} takes a POST: add its form to FORMS, with valid and invalid values"
    walked = walk_form(walked_app, endpoint, case, kind, language, monkeypatch)
    plain, htmx = FORMS[endpoint].statuses[case]
    assert walked.response.status_code == (htmx if kind == "htmx" else plain)
    check(walked, language)


def test_every_page_of_the_walk_is_valid_html(walked_app, tmp_path):
    pages = {}
    for endpoint in endpoints({"GET"}):
        for values in ADDRESSES.get(endpoint, [{}]):
            for language in LANGUAGES:
                walked = walk_get(walked_app, endpoint, values, "plain", language)
                if walked.renders:  # a page or an error page; not a redirect, a script or an event stream
                    pages["-".join([endpoint, *map(str, values.values()), language])] = walked.response.text
    assert len(pages) >= 16
    assert html_errors(pages, tmp_path) == []


def test_the_walk_covers_every_route_and_every_route_declares_its_contract():
    app = create_app("testing", **WALKED)
    rows = contracts(app)
    routes = {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"}
    assert {row["endpoint"] for row in rows if row["endpoint"]} == routes
    assert [row["endpoint"] for row in rows if row["contract"] is None] == []
    walked = {*endpoints({"GET"}), *endpoints({"POST"})}
    assert walked == routes


# --- The walk fails on a broken contract -------------------------------------------------------------------------

USER_CARD = "partials/user-card.html"


@pytest.fixture
def broken_app(tmp_path):
    """Build an app whose partials are overridden by the given templates (and hooks already patched)."""
    made = []

    def build(templates=None):
        generator = made_app(tmp_path)
        app = next(generator)
        made.append(generator)
        if templates:
            app.jinja_loader = ChoiceLoader([DictLoader(templates), app.jinja_loader])
        return app

    yield build
    for generator in made:
        next(generator, None)


def user_card(edit):
    """Return the user card partial's source with one edit made."""
    source = (resource_root() / USER_CARD).read_text()
    old, new = edit
    assert old in source
    return source.replace(old, new, 1)


def test_the_walk_fails_on_a_partial_whose_root_lacks_its_id(broken_app):
    app = broken_app({USER_CARD: user_card(('id="user-card"', ""))})
    with pytest.raises(AssertionError, match="expected the fragment's root to be #user-card"):
        check(walk_get(app, "main.user", {"name": "Alice"}, "htmx", "en"), "en")


def test_the_walk_fails_on_a_view_that_forgets_vary(broken_app, monkeypatch):
    original = flasky.hypermedia.add_vary
    monkeypatch.setattr(flasky.hypermedia, "add_vary",
                        lambda response: response if request.endpoint == "main.user" else original(response))
    app = broken_app()
    check(walk_get(app, "main.index", {}, "plain", "en"), "en")  # the others still vary
    with pytest.raises(AssertionError, match="Vary does not cover HX-Request"):
        check(walk_get(app, "main.user", {"name": "Alice"}, "plain", "en"), "en")


def test_the_walk_fails_on_an_hx_post_to_a_get_only_route(broken_app):
    app = broken_app({USER_CARD: user_card(
        ("</", '<button type="button" hx-post="{{ url_for(\'main.user\', name=user.username) }}">Again</button></'))})
    for kind in ("htmx", "plain"):
        with pytest.raises(AssertionError, match=r"hx-post=.*its route does not accept POST \(it accepts GET"):
            check(walk_get(app, "main.user", {"name": "Alice"}, kind, "en"), "en")


def test_the_walk_fails_on_an_undeclared_fragment_or_oob_partial(broken_app, monkeypatch):
    app = broken_app()
    user_view = app.view_functions["main.user"]
    monkeypatch.setattr(user_view, "hypermedia_contract", Contract("user.html", ("partials/flashes.html",)))
    with pytest.raises(AssertionError, match=r"swapped partials/user-card.html; its contract says"):
        check(walk_get(app, "main.user", {"name": "Alice"}, "htmx", "en"), "en")
    monkeypatch.setattr(user_view, "hypermedia_contract", Contract("index.html", ("partials/user-card.html",)))
    with pytest.raises(AssertionError, match=r"its contract's page is index.html"):
        check(walk_get(app, "main.user", {"name": "Alice"}, "plain", "en"), "en")


# --- flask hypermedia routes ------------------------------------------------------------------------------------

def test_the_routes_command_prints_each_endpoint_s_contract(app):
    result = app.test_cli_runner().invoke(args=["hypermedia", "routes"])
    assert result.exit_code == 0, result.output
    assert "main.greet  POST  /\n    page: index.html\n    fragments: #name-form ← partials/name-form.html\n" \
           "    out of band: #greeting ← partials/greeting.html, #flashes ← partials/flashes.html\n" \
           "    statuses: 200 303 400 422\n" in result.output
    assert "main.user  GET  /user/<name>\n    page: user.html\n    fragments: #user-card ← partials/user-card.html\n" \
           in result.output
    assert "health.healthz  GET  /healthz\n    media type: application/json\n    statuses: 200 503\n" in result.output
    assert "Errors (flasky.main.errors.http_error)\n    page: errors/error.html\n" in result.output


def test_the_routes_command_speaks_the_terminal_s_language(app, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    result = app.test_cli_runner().invoke(args=["hypermedia", "routes"])
    assert "main.user  GET  /user/<name>\n    页面: user.html\n    片段: #user-card ← partials/user-card.html\n" \
           in result.output
    assert "错误 (flasky.main.errors.http_error)" in result.output
    assert "带外" in result.output and "状态码" in result.output and "媒体类型" in result.output


def test_the_routes_command_gives_the_contract_as_json(app):
    result = app.test_cli_runner().invoke(args=["hypermedia", "routes", "--json"])
    rows = json.loads(result.output)
    greet = next(row for row in rows if row["endpoint"] == "main.greet")
    assert greet == {"endpoint": "main.greet", "methods": ["POST"], "rule": "/", "contract": {
        "page": "index.html", "fragments": {"name-form": "partials/name-form.html"},
        "oob": {"greeting": "partials/greeting.html", "flashes": "partials/flashes.html"},
        "statuses": [200, 303, 400, 422], "media": None}}
    assert {row["endpoint"] for row in rows if row["endpoint"]} == (
        {rule.endpoint for rule in app.url_map.iter_rules()} - {"static"})


def test_the_routes_command_fails_on_an_undeclared_view(app):
    app.add_url_rule("/undeclared", "undeclared", lambda: "plain text")
    result = app.test_cli_runner().invoke(args=["hypermedia", "routes"])
    assert result.exit_code == 1
    assert "undeclared  GET  /undeclared\n    no contract declared\n" in result.output
