"""pytest-htmx (pytest_htmx/): the plugin's wiring, each assertion's pass and failure message, each linter rule, the
SSE client; a second app (tests/todo_app/) tested through the plugin only, as a newcomer would; Flasky's own pages
linted."""

import ast
import os
import shutil
import textwrap
import threading
import time
from pathlib import Path

import pytest
import requests
from flask import Flask, Response
from requests.structures import CaseInsensitiveDict

import pytest_htmx
from pytest_htmx import (HtmxClient, assert_error_fragment, assert_fragment, assert_full_page,
                         assert_hx_headers, assert_lint_clean, assert_oob, assert_sse_wiring, assert_vary_covers, lint,
                         parse_sse)

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parent.parent
TODO_APP = Path(__file__).resolve().parent / "todo_app"
PLUGIN = ("-p", "pytest_htmx.plugin")


@pytest.fixture
def isolated(pytester, monkeypatch):
    """A pytester whose runs load no installed plugin by themselves (`-p pytest_htmx.plugin` loads this one) and
    import this checkout's pytest_htmx, in-process or in a subprocess."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    return pytester


# The plugin's wiring.

def test_the_package_lists_its_public_names_and_loads_each_on_first_use():
    assert sorted(dir(pytest_htmx)) == sorted(pytest_htmx.__all__)
    for name in pytest_htmx.__all__:
        assert getattr(pytest_htmx, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        pytest_htmx.nothing  # noqa: B018


def test_the_package_imports_nothing_of_flasky_and_the_plugin_module_only_pytest():
    imported = {}
    for path in sorted((ROOT / "pytest_htmx").glob("*.py")):
        names = imported[path.name] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and not node.level:  # relative imports stay inside
                names.add(node.module)
    assert {"flask.testing", "bs4", "werkzeug.routing"} <= set().union(*imported.values()), "the scan sees imports"
    assert [name for names in imported.values() for name in names if name.partition(".")[0] == "flasky"] == []
    assert imported["plugin.py"] == {"pytest"}


def test_the_guide_documents_every_public_name():
    guide = (ROOT / "docs" / "testing-htmx.md").read_text(encoding="utf-8")
    assert [name for name in [*pytest_htmx.__all__, "htmx_client", "htmx_server"] if f"`{name}" not in guide] == []


def test_the_plugin_imports_nothing_heavy_until_a_test_asks_for_the_client(isolated):
    isolated.makeconftest("""
        import pytest

        @pytest.fixture
        def app():
            from flask import Flask
            return Flask("probe")
    """)
    isolated.makepyfile(test_probe="""
        import sys

        HEAVY = {"flask", "werkzeug", "bs4", "jinja2"}

        def test_a_run_that_does_not_use_the_plugin():
            assert not HEAVY & set(sys.modules), sorted(HEAVY & set(sys.modules))

        def test_the_client_loads_them(htmx_client):
            assert HEAVY <= set(sys.modules)
    """)
    result = isolated.runpytest_subprocess(*PLUGIN, "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_htmx_client_without_an_app_fixture_says_what_to_define(isolated):
    isolated.makepyfile("def test_x(htmx_client):\n    pass\n")
    result = isolated.runpytest(*PLUGIN)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*def htmx_client(app):*", "E*fixture 'app' not found",
                                 "*- pytest-htmx -*", "htmx_client needs an `app` fixture returning your Flask app;*"])


def test_a_conftest_fixture_named_htmx_client_wins_over_the_plugin_s(isolated):
    isolated.makeconftest("""
        import pytest

        @pytest.fixture
        def htmx_client():
            return "mine"
    """)
    isolated.makepyfile("def test_x(htmx_client):\n    assert htmx_client == 'mine'\n")
    isolated.runpytest(*PLUGIN).assert_outcomes(passed=1)


def test_the_client_is_the_app_s_own_client_class_when_that_is_an_htmx_client(isolated):
    isolated.makeconftest("""
        import pytest
        from flask import Flask
        from flask.testing import FlaskClient
        from pytest_htmx import HtmxClient

        class Mine(HtmxClient):
            pass

        @pytest.fixture(params=[Mine, FlaskClient, None])
        def app(request):
            app = Flask("probe")
            app.test_client_class = request.param
            return app
    """)
    isolated.makepyfile("""
        from pytest_htmx import HtmxClient

        def test_x(htmx_client, app):
            expected = app.test_client_class if getattr(app.test_client_class, "__name__", "") == "Mine" else HtmxClient
            assert type(htmx_client) is expected
    """)
    isolated.runpytest(*PLUGIN).assert_outcomes(passed=3)


def test_the_entry_point_loads_the_plugin_and_no_htmx_turns_it_off(isolated, monkeypatch, tmp_path):
    """Install the entry point as the wheel declares it (a dist-info folder on the path), then run with and without
    `-p no:htmx`."""
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD")
    site = tmp_path / "site"
    info = site / "pytest_htmx_probe-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pytest-htmx-probe\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[pytest11]\nhtmx = pytest_htmx.plugin\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), os.environ["PYTHONPATH"]]))
    isolated.makeconftest("import pytest\n\n@pytest.fixture\ndef app():\n    from flask import Flask\n"
                          "    return Flask('probe')\n")
    isolated.makepyfile("def test_x(htmx_client):\n    assert htmx_client.get('/').status_code == 404\n")
    isolated.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=1)
    off = isolated.runpytest_subprocess("-p", "no:cacheprovider", "-p", "no:htmx")
    off.assert_outcomes(errors=1)
    off.stdout.fnmatch_lines(["E*fixture 'htmx_client' not found"])


# The assertions: each one's pass, and its failure message showing what was there.

FRAGMENT = '<li id="todo-1">Milk</li><span id="todo-count" hx-swap-oob="true">1</span>'
PAGE = '<!doctype html><html><head><title>t</title></head><body><ul id="todo-list"></ul></body></html>'
ROW = '<tr id="row-1"><td>Bob</td></tr>'
SSE_PAGE = ('<div hx-ext="sse" sse-connect="/events"><span id="count" sse-swap="count,total">0</span>'
            '<p hx-get="/todos" hx-trigger="sse:changed, click">x</p></div>')


def response(body="", status=200, **headers):
    return Response(body, status, {name.replace("_", "-"): value for name, value in headers.items()})


def requests_response(body, **headers):
    """Build a `requests` response, as a real server's answer reaches a test."""
    answer = requests.Response()
    answer.status_code, answer._content, answer.encoding = 200, body.encode(), "utf-8"
    answer.headers = CaseInsensitiveDict(headers)
    return answer


@pytest.mark.parametrize("check", [
    lambda: assert_fragment(FRAGMENT, "todo-1"),
    lambda: assert_fragment(response(FRAGMENT), "todo-1"),
    lambda: assert_fragment(ROW, "row-1"),
    lambda: assert_fragment("\n  <!-- a comment -->\n" + ROW),
    lambda: assert_fragment('<span id="c" hx-swap-oob="true">1</span>'),
    lambda: assert_full_page(PAGE),
    lambda: assert_full_page(requests_response(PAGE)),
    lambda: assert_oob(FRAGMENT, "todo-count"),
    lambda: assert_oob(FRAGMENT, "todo-count", exact=True),
    lambda: assert_oob('<li id="a"></li><ul hx-swap-oob="beforeend:#log"><li>x</li></ul>', "log"),
    lambda: assert_hx_headers(response(HX_Push_Url="/a", HX_Reswap="outerHTML"), push_url="/a", reswap="outerHTML",
                              redirect=None),
    lambda: assert_hx_headers(response(HX_Trigger='{"added": {"id": 1}, "saved": null}'), trigger="added"),
    lambda: assert_hx_headers(response(HX_Trigger='{"added": {"id": 1}}'), trigger={"added": {"id": 1}}),
    lambda: assert_hx_headers(response(HX_Trigger="added, saved"), trigger="saved"),
    lambda: assert_hx_headers(response(HX_Refresh="true"), refresh=True),
    lambda: assert_vary_covers(response(Vary="HX-Request, Cookie")),
    lambda: assert_vary_covers(response(Vary="hx-request, HX-Boosted"), "HX-Request", "HX-Boosted"),
    lambda: assert_vary_covers(response(Vary="*"), "HX-Boosted"),
    lambda: assert_vary_covers(requests_response("", Vary="HX-Request, HX-Boosted"), "HX-Boosted"),
    lambda: assert_error_fragment(response('<form id="f"></form>', 422), 422, "f"),
    lambda: assert_sse_wiring(SSE_PAGE, ["count", "total", "changed"]),
    lambda: assert_sse_wiring(SSE_PAGE, parse_sse("event: count\ndata: 1\n\nevent: total\ndata: 2\n\n"
                                                  "event: changed\ndata: x\n\n")),
])
def test_each_assertion_passes_on_what_it_expects(check):
    check()


@pytest.mark.parametrize("check, expected", [
    (lambda: assert_fragment(response(PAGE), "todo-list"),
     ["expected a fragment, got a full page", "status: 200", "ids present: todo-list", "body: '<!doctype html>"]),
    (lambda: assert_fragment(FRAGMENT, "todo-count"),
     ['expected the fragment\'s root to be #todo-count, it is <li id="todo-1">',
      'top-level elements: <li id="todo-1">, <span id="todo-count" hx-swap-oob="true">',
      "ids present: todo-1, todo-count"]),
    (lambda: assert_fragment('<span id="c" hx-swap-oob="true">1</span>', "c"),
     ["expected the fragment's root to be #c, found no element outside the out-of-band ones"]),
    (lambda: assert_fragment(" "), ["expected a fragment, found no element", "top-level elements: none",
                                    "ids present: none"]),
    (lambda: assert_full_page(FRAGMENT), ["expected a full page, got a fragment", "body: '<li id=\"todo-1\">Milk"]),
    (lambda: assert_full_page("<p>" + "x" * 500 + "</p>"), ["body: '<p>xxx", "… (207 more characters)"]),
    (lambda: assert_oob(FRAGMENT, "todo-count", "flashes"),
     ["no out-of-band swap into #flashes",
      'out-of-band swaps present: #todo-count (<span id="todo-count" hx-swap-oob="true">)']),
    (lambda: assert_oob(FRAGMENT + '<p id="x" hx-swap-oob="true"></p>', "todo-count", exact=True),
     ["unexpected out-of-band swaps into #x"]),
    (lambda: assert_oob(ROW, "todo-count"), ["no out-of-band swap into #todo-count", "out-of-band swaps present: none"]),
    (lambda: assert_hx_headers(response(HX_Push_Url="/a", HX_Retarget="#x"), push_url="/b"),
     ["HX-Push-Url: expected '/b', got '/a'", "HX-* headers present: HX-Push-Url: /a, HX-Retarget: #x"]),
    (lambda: assert_hx_headers(response(HX_Reswap="innerHTML"), reswap=None),
     ["HX-Reswap: expected absent, got 'innerHTML'"]),
    (lambda: assert_hx_headers(response(), redirect="/login"),
     ["HX-Redirect: expected '/login', absent", "HX-* headers present: none", "status: 200"]),
    (lambda: assert_hx_headers(response(HX_Trigger='{"added": {"id": 2}}'), trigger={"added": {"id": 1}}),
     ["HX-Trigger: expected it to send {'added': {'id': 1}}, got '{\"added\": {\"id\": 2}}'"]),
    (lambda: assert_hx_headers(response(HX_Trigger="added"), trigger="saved"),
     ["HX-Trigger: expected it to send 'saved', got 'added'"]),
    (lambda: assert_vary_covers(response(Vary="HX-Request, Cookie"), "HX-Request", "HX-Boosted"),
     ["Vary does not cover HX-Boosted", "Vary: HX-Request, Cookie"]),
    (lambda: assert_vary_covers(response()), ["Vary does not cover HX-Request", "Vary: absent"]),
    (lambda: assert_error_fragment(response('<form id="f"></form>'), 422, "f"),
     ["expected status 422, got 200", 'top-level elements: <form id="f">']),
    (lambda: assert_error_fragment(response(PAGE, 422), 422, "f"), ["expected a fragment, got a full page"]),
    (lambda: assert_sse_wiring(SSE_PAGE, ["count", "changed"]),
     ["the page listens for total, which the stream did not send", "the page listens for: count, total, changed",
      "the stream sent: count, changed"]),
    (lambda: assert_sse_wiring('<span id="n" sse-swap="count"></span>', ["count"]),
     ['no sse-connect encloses <span id="n">']),
    (lambda: assert_sse_wiring("<p>no stream</p>", []), ["the page listens for no server-sent event"]),
    (lambda: assert_sse_wiring(SSE_PAGE, parse_sse(": ping\n\n")), ["the stream sent: no event"]),
])
def test_each_assertion_s_failure_shows_what_was_there(check, expected):
    with pytest.raises(AssertionError) as failure:
        check()
    for words in expected:
        assert words in str(failure.value)


def test_the_assertions_refuse_calls_that_would_check_nothing():
    with pytest.raises(TypeError, match="needs the ids"):
        assert_oob(FRAGMENT)
    with pytest.raises(TypeError, match="does not know pushurl; it knows location, push_url"):
        assert_hx_headers(response(), pushurl="/a")


def test_a_user_sees_the_message_under_their_own_line_not_the_plugin_s(isolated):
    isolated.makepyfile("""
        from flask import Response
        from pytest_htmx import assert_fragment

        def test_x():
            assert_fragment(Response('<li id="todo-1">Milk</li>'), "todo-list")
    """)
    result = isolated.runpytest(*PLUGIN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([">*assert_fragment(Response(*", "E*AssertionError: expected the fragment's root to "
                                 "be #todo-list, it is <li id=\"todo-1\">", "E*ids present: todo-1"])
    assert "def assert_fragment" not in result.stdout.str(), "__tracebackhide__ keeps the plugin's frames out"


# The linter: each rule's failing example, and what it leaves alone.

def lint_app():
    app = Flask("lint")
    app.add_url_rule("/todos", "todos", methods=["GET", "POST"])
    app.add_url_rule("/todos/<int:todo_id>", "todo", methods=["PUT", "DELETE"])
    app.add_url_rule("/users/", "users")
    return app


def page(body):
    return f'<!doctype html><html><body><div id="main">{body}</div></body></html>'


@pytest.mark.parametrize("html, options, expected", [
    (page('<p hx-tagret="#main"></p>'), {}, "[attribute] hx-tagret is not an htmx 2 attribute (did you mean "
                                            "hx-target?)"),
    (page('<p data-hx-gett="/todos"></p>'), {}, "[attribute] hx-gett is not an htmx 2 attribute (did you mean "
                                                "hx-get?)"),
    (page('<p hx-qwertyuiopasdf="1"></p>'), {}, "[attribute] hx-qwertyuiopasdf is not an htmx 2 attribute: <p"),
    (page('<button hx-on="click: go()"></button>'), {}, "[attribute] hx-on was removed in htmx 2: use hx-on:<event>"),
    (page('<div hx-sse="connect:/events"></div>'), {}, "[attribute] hx-sse was removed in htmx 2"),
    (page('<p hx-get="/nowhere"></p>'), {}, "[route] hx-get='/nowhere': no route matches /nowhere"),
    (page('<p hx-post="/todos/1"></p>'), {}, "[route] hx-post='/todos/1': its route does not accept POST (it accepts "
                                             "DELETE, OPTIONS, PUT)"),
    (page('<p hx-delete="/todos"></p>'), {}, "its route does not accept DELETE (it accepts GET, HEAD, OPTIONS, POST)"),
    (page('<p hx-get="/users"></p>'), {}, "[route] hx-get='/users' only redirects to http://localhost/users/"),
    (page('<p hx-get="http://localhost/nowhere"></p>'), {}, "no route matches /nowhere"),
    (page('<p hx-put="edit"></p>'), {"base_url": "/todos/1"}, "[route] hx-put='edit': no route matches /todos/edit"),
    (page('<p hx-get="/todos" hx-target="#list"></p>'), {},
     "[target] hx-target='#list': the page has no element with id 'list'"),
    (page('<p hx-post="/todos" hx-include="#main, #extra"></p>'), {},
     "[target] hx-include='#main, #extra': the page has no element with id 'extra'"),
    (page('<p hx-get="/todos" hx-indicator="#spinner"></p>'), {}, "the page has no element with id 'spinner'"),
    ('<li id="todo-1"><button hx-delete="/todos/1" hx-target="#todo-9"></button></li>', {"page": page("")},
     "[target] hx-target='#todo-9': the fragment or the page has no element with id 'todo-9'"),
    ('<li id="a"></li><span hx-swap-oob="true">1</span>', {},
     "[oob] hx-swap-oob names no target: the element has no id and the value no #id"),
    ('<li id="a"></li><span id="count" hx-swap-oob="true">1</span>', {"page": page("")},
     "[oob] hx-swap-oob targets #count, which the page does not have"),
    ('<li id="a"></li><ul hx-swap-oob="beforeend:#log"><li>x</li></ul>', {"page": page("")},
     "[oob] hx-swap-oob targets #log, which the page does not have"),
    (page("<p hx-post=\"/todos\" hx-vals='{source: 1}'></p>"), {}, "[json] hx-vals='{source: 1}' is not valid JSON"),
    (page("<p hx-post=\"/todos\" hx-vals='js:{source: 1}'></p>"), {},
     "[json] hx-vals='js:{source: 1}' is evaluated as JavaScript: it needs eval"),
    (page("<p hx-post=\"/todos\" hx-vals='javascript:{a: b()}'></p>"), {}, "is evaluated as JavaScript"),
    (page("<p hx-post=\"/todos\" hx-vals='[1, 2]'></p>"), {}, "[json] hx-vals='[1, 2]' is JSON but not an object"),
    (page("<p hx-get=\"/todos\" hx-headers='{\"X-A\": }'></p>"), {}, "[json] hx-headers='{\"X-A\": }' is not valid"),
    (page('<p hx-post="/todos" hx-vars="a: 1"></p>'), {}, "[json] hx-vars='a: 1' is evaluated as JavaScript"),
])
def test_each_linter_rule_finds_its_problem(html, options, expected):
    problems = lint(html, lint_app(), **options)
    assert any(expected in str(problem) for problem in problems), problems


CLEAN = page("""
  <form hx-post="/todos" hx-target="#main" hx-swap="beforeend" hx-vals='{"source": "htmx"}' hx-sync="this:replace"
        hx-headers='{"X-Source": "htmx"}' hx-disabled-elt="find button" hx-indicator="closest div">
    <button hx-on:click="void 0" hx-on::after-request="void 0" hx-on-htmx-before-request="void 0">Add</button>
  </form>
  <p data-hx-get="/todos" data-hx-target="this" hx-push-url="true"></p>
  <p hx-get="" hx-trigger="load"></p>
  <p hx-get="https://elsewhere.example/x"></p>
  <p hx-delete="/todos/3" hx-confirm="Sure?" hx-target="closest li"></p>
  <p hx-put="3" hx-select=".done" hx-select-oob="#count"></p>
  <a href="/users/" hx-boost="true" hx-disinherit="*" hx-inherit="hx-target" hx-ext="sse" hx-preserve></a>
""")


@pytest.mark.parametrize("html, options", [
    (CLEAN, {"base_url": "/todos/"}),
    ('<li id="todo-1"><button hx-delete="/todos/1" hx-target="#todo-list"></button></li>', {}),
    ('<li id="todo-1"><button hx-delete="/todos/1" hx-target="#main"></button></li>', {"page": page("")}),
    ('<li id="a"></li><span id="main" hx-swap-oob="innerHTML">1</span>', {"page": page("")}),
    ('<ul hx-swap-oob="beforeend:#main"><li>x</li></ul>', {"page": page("")}),
])
def test_the_linter_passes_what_htmx_accepts_and_what_it_cannot_know(html, options):
    """A fragment's #id outside itself is not flagged without page= (it may be in the page it lands in)."""
    assert lint(html, lint_app(), **options) == []


def test_the_linter_reads_the_request_s_path_and_skips_routes_without_an_app():
    app = lint_app()
    answer = app.test_client().get("/todos/1")
    answer.set_data(page('<p hx-put="2"></p><p hx-get="nowhere"></p>'))
    assert [str(problem) for problem in lint(answer, app)] == [
        "[route] hx-get='nowhere': no route matches /todos/nowhere: <p hx-get=\"nowhere\">"]
    assert lint(answer) == [], "no app, no url_map: the route rule is skipped"
    assert lint(answer, url_map=app.url_map) == lint(answer, app)


def test_assert_lint_clean_lists_every_problem_and_the_body():
    with pytest.raises(AssertionError) as failure:
        assert_lint_clean(page('<p hx-gett="/todos" hx-vals="{"></p>'), lint_app())
    message = str(failure.value)
    assert message.startswith("2 hypermedia problems:\n  [attribute] hx-gett")
    assert "\n  [json] hx-vals='{' is not valid JSON" in message and "body: '<!doctype html>" in message
    assert_lint_clean(CLEAN, lint_app(), base_url="/todos/")


# The SSE client: parsing, and bounded reads of a Flask app's streams.

@pytest.mark.parametrize("chunks, events, comments, retry, last_id", [
    (["data: a\n\n"], [(None, "message", "a", None)], [], None, ""),
    (["id: 7\nevent: greetings\ndata: <li>1</li>\ndata: <li>2</li>\n\n"],
     [("7", "greetings", "<li>1</li>\n<li>2</li>", None)], [], None, "7"),
    (["retry: 2500\n\n: ping\n\n", ":no space\n\n"], [], ["ping", "no space"], 2500, ""),
    (["retry: 1x\n\n"], [], [], None, ""),
    (["id: 3\n\n", "data: b\n\n"], [(None, "message", "b", None)], [], None, "3"),
    (["da", "ta: split\r", "\n\r\n", "data:x\r\rdata: y"], [(None, "message", "split", None),
                                                           (None, "message", "x", None)], [], None, ""),
    (["event: e\nid: 1\nretry: 10\ndata: d\n\ndata: no blank line at the end"], [("1", "e", "d", 10)], [], 10, "1"),
    (["id: a\0b\ndata: nul ids are ignored\n\n"], [(None, "message", "nul ids are ignored", None)], [], None, ""),
])
def test_the_stream_parser_follows_the_event_stream_rules(chunks, events, comments, retry, last_id):
    from pytest_htmx.sse import SSEParser, SSEStream

    stream = SSEStream(200, {})
    parser = SSEParser(stream)
    for chunk in chunks:
        parser.feed(chunk)
    parser.close()
    assert [(event.id, event.event, event.data, event.retry) for event in stream.events] == events
    assert (stream.comments, stream.retry, stream.last_event_id) == (comments, retry, last_id)
    assert parse_sse("".join(chunks)).events == stream.events


@pytest.fixture
def stream_app():
    """An app with a stream that sends two events then waits until the test ends (a blocking view), and a refusal."""
    released = threading.Event()
    app = Flask("streams")

    @app.get("/stream")
    def stream():
        from flask import request

        last = request.headers.get("Last-Event-ID", "-")

        def events():
            yield "retry: 1500\n\n"
            yield f"id: 1\nevent: hello\ndata: after {last}\n\n"
            yield ": ping\n\n"
            yield "id: 2\nevent: hello\ndata: two\n\n"
            released.wait(30)
            yield "data: late\n\n"

        return Response(events(), mimetype="text/event-stream")

    @app.get("/short")
    def short():
        return Response(iter(["data: only\n\n"]), mimetype="text/event-stream")

    @app.get("/broken")
    def broken():
        def events():
            yield "data: first\n\n"
            raise LookupError("the view failed mid-stream")

        return Response(events(), mimetype="text/event-stream")

    @app.get("/refused")
    def refused():
        return Response("busy", 503, {"Retry-After": "5"})

    app.test_client_class = HtmxClient
    yield app
    released.set()


def test_the_sse_client_stops_at_max_events_and_sends_last_event_id(stream_app):
    stream = stream_app.test_client().sse("/stream", max_events=1, last_event_id=41)
    assert stream.ended == "max_events" and stream.status_code == 200
    assert stream.headers["Content-Type"].startswith("text/event-stream")
    assert stream.events == [pytest_htmx.SSEEvent("1", "hello", "after 41")] and stream.retry == 1500


def test_the_sse_client_returns_within_its_timeout_when_the_stream_waits(stream_app):
    started = time.monotonic()
    stream = stream_app.test_client().sse("/stream", timeout=0.5)
    assert time.monotonic() - started < 2
    assert stream.ended == "timeout" and stream.names == ["hello"] and len(stream.events) == 2
    assert stream.comments == ["ping"] and stream.last_event_id == "2"


def test_the_sse_client_reads_a_stream_to_its_end_and_reports_a_refusal(stream_app):
    client = stream_app.test_client()
    short = client.sse("/short")
    assert short.ended == "closed" and [event.data for event in short.events] == ["only"]
    refused = client.sse("/refused")
    assert (refused.status_code, refused.headers["Retry-After"], refused.events) == (503, "5", [])


def test_the_sse_client_raises_what_the_view_raised_mid_stream(stream_app):
    with pytest.raises(LookupError, match="the view failed mid-stream"):
        stream_app.test_client().sse("/broken")


# A second app, tested through the plugin only, as a newcomer would.

@pytest.fixture
def todo_project(isolated):
    """A project folder holding the to-do app, its conftest.py and test_todo.py, as a newcomer writes them."""
    shutil.copy(TODO_APP / "todo.py", isolated.path / "todo.py")
    shutil.copy(TODO_APP / "newcomer_conftest.py", isolated.path / "conftest.py")
    shutil.copy(TODO_APP / "newcomer_tests.py", isolated.path / "test_todo.py")
    return isolated


def test_the_todo_app_passes_its_newcomer_s_tests(todo_project):
    todo_project.runpytest(*PLUGIN).assert_outcomes(passed=7)


@pytest.mark.parametrize("bug, failing, message", [
    ("no-vary", ["test_the_list_is_a_page_for_a_browser_and_a_fragment_for_htmx"],
     "E*AssertionError: Vary does not cover HX-Request, HX-Boosted"),
    ("get-only-delete", ["test_adding_appends_the_item_and_moves_the_count_out_of_band",
                         "test_deleting_removes_the_item_and_moves_the_count"],
     "E*[[]route] hx-delete='/todos/1': its route does not accept DELETE*"),
    ("misspelt-attribute", ["test_the_list_is_a_page_for_a_browser_and_a_fragment_for_htmx",
                            "test_deleting_removes_the_item_and_moves_the_count"],
     "E*[[]attribute] hx-swapp is not an htmx 2 attribute (did you mean hx-swap?)*"),
    ("edit-root-id", ["test_inline_edit_swaps_the_item_for_its_form_and_back"],
     "E*AssertionError: expected the fragment's root to be #todo-1, it is <li>"),
    ("wrong-event", ["test_the_page_listens_for_what_the_stream_sends"],
     "E*AssertionError: the page listens for count, which the stream did not send"),
])
def test_each_bug_in_the_todo_app_fails_the_right_test_with_a_precise_message(todo_project, monkeypatch, bug,
                                                                             failing, message):
    monkeypatch.setenv("TODO_BUGS", bug)
    result = todo_project.runpytest(*PLUGIN)
    result.assert_outcomes(passed=7 - len(failing), failed=len(failing))
    result.stdout.fnmatch_lines([message])
    assert sorted(report.nodeid.split("::")[1] for report in result.reprec.getreports("pytest_runtest_logreport")
                  if report.failed) == sorted(failing)


@pytest.mark.slow
def test_htmx_server_serves_the_todo_app_through_gunicorn_and_stops_it_after_the_test(todo_project):
    todo_project.makepyfile(test_served="""
        import pytest
        import requests
        from pytest_htmx import assert_full_page, assert_lint_clean

        SERVERS = []

        def test_served(htmx_server, app):
            server = htmx_server("todo:create_app()", workers=1, ready_path="/todos", cwd=".")
            SERVERS.append(server)
            with requests.Session() as session:
                session.trust_env = False  # no proxy for 127.0.0.1
                page = session.get(server.url("/todos"), timeout=10)
            assert_full_page(page)
            assert_lint_clean(page, app)

        def test_stopped_after():
            [server] = SERVERS
            assert server.process is None and "Booting worker" in server.log_text()
    """)
    todo_project.runpytest(*PLUGIN, "test_served.py").assert_outcomes(passed=2)


# Flasky's own pages, linted.

def test_flasky_s_pages_and_fragments_pass_the_linter(app, client, index, greet, met):
    met(["Ann", "Bob"])
    assert_full_page(index)
    assert_lint_clean(index, app)
    unrouted = lint(index, Flask("another app"))
    assert unrouted and {problem.rule for problem in unrouted} == {"route"}, "it read the page's htmx requests"
    swap = greet("Carol", htmx=True)
    assert_fragment(swap, "name-form")
    assert_lint_clean(swap, app, page=index)
    for path in ("/users", "/user/Ann", "/greetings/recent", "/no-such-page"):
        assert_lint_clean(client.get(path), app)
    directory = client.get("/users")
    rows = client.hx_get("/users", query_string={"q": "a"}, target="directory-rows")
    assert_oob(rows, "directory-count")
    assert_lint_clean(rows, app, page=directory)
    missing = client.hx_get("/no-such-page")
    assert_error_fragment(missing, 404)
    assert_oob(missing, "flashes")


# The stream ends by itself after one event (or 2 s), so that sse() returns once the app has closed it: a stream
# still open when its test ends would outlive the test's database.
ONE_EVENT_STREAMS = {"FLASKY_LIVE_TAIL_SECONDS": 0.02, "FLASKY_LIVE_STREAM_SECONDS": 2.0, "FLASKY_LIVE_MAX_EVENTS": 1}


@pytest.mark.parametrize("app_overrides", [ONE_EVENT_STREAMS])
def test_flasky_s_live_panel_listens_for_what_its_stream_sends(app, client, greet):
    greet("Ann")
    page = client.get("/")
    url = page.soup.select_one("[sse-connect]")["sse-connect"]
    stream = client.sse(url, last_event_id=0, timeout=10)
    assert stream.status_code == 200 and stream.ended == "closed" and stream.retry
    assert_sse_wiring(page, stream)
    assert stream.names == ["greetings"]
