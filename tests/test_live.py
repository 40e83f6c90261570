"""The live "Recently greeted" panel: on every page load, in its event stream (bounded by test switches) and its poll
route, in both languages; the events written in the greeting's transaction, and their pruning."""

import queue
import re
import threading
import time
from datetime import timedelta

import pytest
from bs4 import BeautifulSoup
from flask import template_rendered
from markupsafe import Markup
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from flasky import create_app, greeting
from flasky.config import StartupError
from flasky.live.events import current_state
from flasky.live.capacity import SLOTS_KEY, stream_limit
from flasky.live.hub import Hub, close_hub, stop_hub
from flasky.live.stream import sse_event
from flasky.extensions import db as _db
from flasky.models import GreetingEvent, User, utcnow
from tests.helpers import wait_until

# Streams end after one event, or after 2 s; the tailer reads the table every 20 ms.
FAST = {"FLASKY_LIVE_TAIL_SECONDS": 0.02, "FLASKY_LIVE_HEARTBEAT_SECONDS": 5.0, "FLASKY_LIVE_STREAM_SECONDS": 2.0,
        "FLASKY_LIVE_MAX_EVENTS": 1}
ZH = {"Accept-Language": "zh-CN,zh;q=0.9"}


@pytest.fixture
def app_overrides():
    return dict(FAST)


@pytest.fixture
def events(stored_rows):
    """Return a function listing the stored greeting events."""
    return lambda: stored_rows(GreetingEvent)


def parse(body):
    """Split an event stream into its messages: dicts of field -> value, data lines joined, comments under ':'."""
    messages = []
    for block in body.split("\n\n"):
        if not block:
            continue
        message = {}
        for line in block.split("\n"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            message[field] = f"{message[field]}\n{value}" if field in message else value
        messages.append(message)
    return messages


def retry_of(body):
    """Return the reconnection delay (ms) the stream asks for in its first message."""
    return int(parse(body)[0]["retry"])


def greetings_events(body):
    return [message for message in parse(body) if message.get("event") == "greetings"]


def panel_of(message):
    """Parse a greetings event's data as HTML; return its #recent-greetings."""
    return BeautifulSoup(message["data"], "html.parser").find(id="recent-greetings")


def names_in(panel):
    return [item.a.get_text() for item in panel.select("li")]


def latest_id(app):
    with app.app_context():
        return _db.session.scalar(select(func.max(GreetingEvent.id)))


def read_stream(client, url, **kwargs):
    """Read a stream to its end, then close it as a WSGI server does: closing is what counts it out of the hub."""
    with client.get(url, **kwargs) as response:
        return response.get_data(as_text=True)


class StreamReader(threading.Thread):
    """Read a stream in a thread of its own (its own client and contexts), queueing each chunk."""

    def __init__(self, app, url, headers=None):
        super().__init__(daemon=True)
        self.app, self.url, self.headers = app, url, headers or {}
        self.chunks, self.opened = queue.Queue(), threading.Event()
        self.status = None

    def run(self):
        response = self.app.test_client().get(self.url, headers=self.headers, buffered=False)
        self.status = response.status_code
        self.opened.set()
        try:
            for chunk in response.response:
                self.chunks.put(chunk.decode())
        finally:
            response.close()
            self.chunks.put(None)

    def next_event(self, timeout):
        """Return the next greetings event within timeout seconds, or None."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                chunk = self.chunks.get(timeout=left)
            except queue.Empty:
                return None
            if chunk is None:
                return None
            found = greetings_events(chunk)
            if found:
                return found[0]
        return None


# --- the panel on page load -----------------------------------------------------------------------------------


def test_the_home_page_lists_the_last_ten_greetings_newest_first_with_links_and_new_or_returning(client, greet, app):
    for number in range(12):
        greet(f"Visitor {number}")
    greet("Visitor 3")
    page = client.get("/")
    section = page.fragment("live-greetings")
    latest = latest_id(app)
    assert section["hx-ext"] == "sse" and section["sse-connect"] == f"/greetings/stream?after={latest}"
    assert (section["data-poll-url"], section["data-poll-seconds"]) == ("/greetings/recent", "12")
    assert page.text_of(section["aria-labelledby"]) == "Recently greeted"
    panel = page.fragment("recent-greetings")
    assert (panel["sse-swap"], panel["hx-swap"]) == ("greetings", "outerHTML settle:0ms")
    items = panel.select("ol > li")
    assert len(items) == 10
    assert [item["id"] for item in items] == [f"greeting-{latest - n}" for n in range(10)]
    assert names_in(panel)[:3] == ["Visitor 3", "Visitor 11", "Visitor 10"]
    assert items[0].a["href"] == "/user/Visitor%203"
    assert items[0].select_one(".badge").get_text() == "returning"
    assert items[1].select_one(".badge").get_text() == "new"
    assert items[0].select_one(".flask-moment")["data-function"] == "fromNow"
    assert items[0].noscript.get_text() == "a few seconds ago"
    assert page.text_of("active-visitors") == "12 visitors active in the last 5 minutes."
    assert "aria-live" not in str(section), "no live region: a busy site would read every greeting out"


def test_the_panel_in_chinese(client, greet):
    greet("张三")
    greet("张三")
    page = client.get("/", headers=ZH)
    assert page.text_of("live-greetings-heading") == "最近的问候"
    assert page.text_of("active-visitors") == "最近 5 分钟内有 1 位访客。"
    badges = [badge.get_text() for badge in page.soup.select("#recent-greetings .badge")]
    assert badges == ["再次来访", "新朋友"]
    assert page.soup.select_one("#recent-greetings noscript").get_text() == "几秒前"


def test_an_empty_panel_says_so_and_its_stream_starts_from_nothing(client):
    page = client.get("/")
    assert page.fragment("live-greetings")["sse-connect"] == "/greetings/stream"
    assert page.text_of("recent-greetings-empty") == "Nobody has been greeted yet. Tell us your name and you will be the first!"
    assert page.soup.select("#recent-greetings li") == []
    assert page.text_of("active-visitors") == "0 visitors active in the last 5 minutes."
    chinese = client.get("/", headers=ZH)
    assert chinese.text_of("recent-greetings-empty") == "还没有人打过招呼。告诉我们你的名字，你就是第一个！"


def test_names_are_escaped_in_the_page_and_in_events(client, greet):
    greet("<script>alert(1)")
    page = client.get("/")
    body = page.get_data(as_text=True)
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body
    assert names_in(page.fragment("recent-greetings")) == ["<script>alert(1)"]
    stream = read_stream(client, "/greetings/stream")
    assert "<script>alert" not in stream and "&lt;script&gt;alert(1)" in stream


def test_a_name_swap_leaves_the_panel_alone_and_the_page_shows_it_after_the_redirect(client, greet):
    swap = greet("Ann", htmx=True)
    assert swap.fragment("live-greetings") is None and swap.fragment("recent-greetings") is None
    assert greet("Bob").status_code == 303
    assert names_in(client.get("/").fragment("recent-greetings")) == ["Bob", "Ann"]


def test_invalid_names_leave_no_event(greet, events):
    assert greet("   ").status_code == 422
    assert greet("x" * 65, htmx=True).status_code == 422
    assert events() == []


def test_the_feed_turned_off_shows_no_panel_and_its_routes_are_404(make_app, database_url, usernames):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url, create_tables=True, FLASKY_LIVE_FEED=False)
    client = app.test_client()
    page = client.get("/")
    assert page.fragment("live-greetings") is None and page.fragment("recent-greetings") is None
    assert client.submit(page, "#name-form", name="Ann").status_code == 303
    for url in ("/greetings/stream", "/greetings/recent"):
        assert client.get(url).status_code == 404
        assert client.hx_get(url).status_code == 404
    with app.app_context():
        assert _db.session.scalars(select(GreetingEvent)).all() == []
        assert _db.session.scalars(select(User.username)).all() == ["Ann"]
        _db.session.remove()
        _db.drop_all()


# --- the events, in the greeting's transaction ----------------------------------------------------------------


def test_each_greeting_writes_an_event_in_its_transaction(db, events):
    first, _ = greeting.remember("Ann")
    greeting.remember("Ann")
    stored = events()
    assert [(event.user_id, event.is_new) for event in stored] == [(first.id, True), (first.id, False)]
    assert stored[1].created_at >= stored[0].created_at


def test_a_greeting_that_fails_leaves_no_event_and_no_user(errors_reach_handlers, app, client, greet, monkeypatch,
                                                          events, usernames):
    def fail():
        raise RuntimeError("the commit failed")

    monkeypatch.setattr(_db.session, "commit", fail)
    assert greet("Ann").status_code == 500
    monkeypatch.undo()
    assert (events(), usernames()) == ([], [])
    assert client.get("/").text_of("recent-greetings-empty")


def test_every_hundredth_greeting_drops_the_events_past_the_ones_kept(app, db, monkeypatch):
    app.config["FLASKY_LIVE_KEEP_EVENTS"] = 10
    monkeypatch.setattr("flasky.live.events.PRUNE_EVERY", 5)
    for number in range(23):
        greeting.remember(f"N{number}")
    ids = db.session.scalars(select(GreetingEvent.id).order_by(GreetingEvent.id)).all()
    assert ids == list(range(11, 24)), "at 20, events 1-10 went"


def test_flask_live_prune_keeps_the_newest_and_drops_old_ones(app, db):
    for number in range(15):
        greeting.remember(f"N{number}")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["live", "prune", "--keep", "12"])
    assert result.exit_code == 0 and "Deleted 3 greeting events." in result.output
    assert db.session.scalars(select(GreetingEvent.id).order_by(GreetingEvent.id)).all() == list(range(4, 16))
    db.session.remove()
    assert "Deleted 0 " in runner.invoke(args=["live", "prune"]).output, "the default keeps 1000"
    result = runner.invoke(args=["live", "prune", "--days", "0"])
    assert "Deleted 12 " in result.output
    assert runner.invoke(args=["live", "prune", "--keep", "-1"]).exit_code == 2
    db.session.remove()
    greeting.remember("After")
    assert db.session.scalars(select(GreetingEvent.id)).all() == [16], "ids are never reused"


def test_flask_live_prune_speaks_chinese_on_a_chinese_terminal(app, db, terminal):
    for number in range(3):
        greeting.remember(f"N{number}")
    terminal(LANG="zh_CN.UTF-8")
    result = app.test_cli_runner().invoke(args=["live", "prune", "--keep", "1"])
    assert (result.exit_code, result.output) == (0, "已删除 2 条问候记录。\n")


def test_a_failed_read_of_the_state_raises_sqlalchemy_s_error_as_the_session_would(db):
    db.session.execute(text("DROP TABLE greeting_events"))
    db.session.commit()
    with pytest.raises(DBAPIError) as raised:
        current_state(db.engine)
    assert "greeting_events" in str(raised.value)


# --- the stream -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("data, lines", [
    ("<li>a</li>", ["<li>a</li>"]),
    ("one\ntwo", ["one", "two"]),
    ("one\r\ntwo\rthree\n", ["one", "two", "three", ""]),
    ("", [""]),
    ("\r\n\r\n", ["", "", ""]),
    (Markup("<b>&amp;</b>\n<i>x</i>"), ["<b>&amp;</b>", "<i>x</i>"]),  # the panel's markup, not escaped again
    ("名字\u2028next", ["名字\u2028next"]),  # only CR and LF end a line in an event stream
])
def test_an_event_gives_each_line_of_its_data_a_field_of_its_own(data, lines):
    event = sse_event(42, data)
    assert event.endswith("\n\n") and "\r" not in event
    assert event.split("\n")[:-2] == ["id: 42", "event: greetings", *(f"data: {line}" for line in lines)]
    [message] = parse(event)
    assert message["data"] == "\n".join(lines)


def test_the_stream_starts_with_a_retry_hint_then_the_panel_under_the_latest_id(app, client, greet):
    greet("Ann")
    greet("Bob")
    with client.get("/greetings/stream") as answer:
        assert answer.status_code == 200 and answer.mimetype == "text/event-stream"
        assert answer.headers["Cache-Control"] == "no-cache" and answer.headers["X-Accel-Buffering"] == "no"
        body = answer.get_data(as_text=True)
    assert re.match(r"retry: [0-9]+\n\n", body) and 2000 <= retry_of(body) < 7000
    [event] = greetings_events(body)
    assert event["id"] == str(latest_id(app))
    assert names_in(panel_of(event)) == ["Bob", "Ann"]
    assert re.search(r"^data: <div id=\"recent-greetings\"", body, re.M), "the partial, line by line"
    assert "\n\n" not in event["data"] and "\r" not in body


def test_a_client_behind_gets_the_current_panel_at_once_and_one_up_to_date_gets_only_heartbeats(app, client, greet,
                                                                                              monkeypatch):
    clock = utcnow()
    monkeypatch.setattr("flasky.live.panel.utcnow", lambda: clock)  # the minute cannot turn: no event for time alone
    greet("Ann")
    behind = latest_id(app)
    greet("Bob")
    latest = latest_id(app)
    [event] = greetings_events(read_stream(client, f"/greetings/stream?after={behind}"))
    assert event["id"] == str(latest) and names_in(panel_of(event)) == ["Bob", "Ann"]
    [event] = greetings_events(read_stream(client, "/greetings/stream", headers={"Last-Event-ID": str(behind)}))
    assert event["id"] == str(latest)
    app.config.update(FLASKY_LIVE_HEARTBEAT_SECONDS=0.1, FLASKY_LIVE_STREAM_SECONDS=0.35)
    started = time.monotonic()
    quiet = parse(read_stream(client, f"/greetings/stream?after={latest}"))
    assert time.monotonic() - started < 2, "the stream ends at its lifetime"
    assert list(quiet[0]) == ["retry"] and [message for message in quiet if "event" in message] == []
    assert 2 <= len([message for message in quiet if message == {"": "ping"}]) <= 4
    # Last-Event-ID (a reconnect) wins over the page's ?after=.
    body = read_stream(client, f"/greetings/stream?after={behind}", headers={"Last-Event-ID": str(latest)})
    assert greetings_events(body) == []


@pytest.mark.parametrize("forged", ["abc", "-1", "9" * 30, "1.5", "٣", " 1", "0x10", "%00", "1%00"])
def test_a_forged_event_id_is_ignored(app, client, greet, forged):
    greet("Ann")
    # One at a time: a test client's stream keeps its request context pushed until its body is read.
    for url, headers in ((f"/greetings/stream?after={forged}", {}),
                         ("/greetings/stream", {"Last-Event-ID": forged.replace("%00", "\x00")})):
        with client.get(url, headers=headers) as answer:
            assert answer.status_code == 200
            [event] = greetings_events(answer.get_data(as_text=True))
        assert names_in(panel_of(event)) == ["Ann"]


def test_an_id_ahead_of_the_table_waits_for_the_next_greeting(app, client, greet):
    greet("Ann")
    app.config.update(FLASKY_LIVE_STREAM_SECONDS=0.3)
    assert greetings_events(read_stream(client, "/greetings/stream?after=999999")) == []


def test_each_subscriber_gets_the_panel_in_its_own_language(client, greet):
    greet("Ann")
    english = panel_of(greetings_events(read_stream(client, "/greetings/stream"))[0])
    client.set_cookie("lang", "zh")
    chinese = panel_of(greetings_events(read_stream(client, "/greetings/stream"))[0])
    assert english.select_one("#active-visitors").get_text() == "1 visitor active in the last 5 minutes."
    assert chinese.select_one("#active-visitors").get_text() == "最近 5 分钟内有 1 位访客。"
    assert chinese.select_one(".badge").get_text() == "新朋友"


def test_a_greeting_reaches_open_streams_rendered_once_per_language(app, client, greet):
    greet("Ann")
    after = latest_id(app)
    rendered = []

    def record(sender, template, context, **extra):
        rendered.append(template.name)

    template_rendered.connect(record, app)
    try:
        readers = [StreamReader(app, f"/greetings/stream?after={after}", headers) for headers in ({}, {}, {}, ZH)]
        for reader in readers:
            reader.start()
            assert reader.opened.wait(5) and reader.status == 200
        assert wait_until(lambda: app.extensions[Hub.KEY].streams == 4)
        # Each up-to-date stream notes the panel its client shows, to see time change it: once per language too.
        assert wait_until(lambda: rendered.count("partials/recent-greetings.html") == 2)
        rendered.clear()
        greet("Bob", htmx=True)
        received = [reader.next_event(timeout=2) for reader in readers]
    finally:
        template_rendered.disconnect(record, app)
    assert all(event is not None for event in received), "within 2 s"
    assert [names_in(panel_of(event)) for event in received] == [["Bob", "Ann"]] * 4
    assert "最近" in received[3]["data"] and "最近" not in received[0]["data"]
    assert rendered.count("partials/recent-greetings.html") == 2, "once per language, not once per subscriber"
    for reader in readers:
        reader.join(timeout=5)
    assert wait_until(lambda: app.extensions[Hub.KEY].tailer is None), "the tailer ends with the last stream"


def test_the_active_count_falls_in_open_streams_as_the_five_minutes_pass(app, client, greet, monkeypatch):
    app.config.update(FLASKY_LIVE_HEARTBEAT_SECONDS=0.1, FLASKY_LIVE_MAX_EVENTS=0, FLASKY_LIVE_STREAM_SECONDS=3)
    greet("Ann")
    readers = [StreamReader(app, "/greetings/stream"),  # new: sent the panel at once
               StreamReader(app, f"/greetings/stream?after={latest_id(app)}")]  # up to date: sent nothing yet
    for reader in readers:
        reader.start()
        assert reader.opened.wait(5)
    first = readers[0].next_event(timeout=2)
    assert first["id"] == str(latest_id(app))
    assert panel_of(first).select_one("#active-visitors").get_text() == "1 visitor active in the last 5 minutes."
    assert readers[0].next_event(timeout=0.5) is None, "heartbeats only, while the count stands"
    later = utcnow() + timedelta(minutes=6)
    monkeypatch.setattr("flasky.live.panel.utcnow", lambda: later)
    for reader in readers:
        event = reader.next_event(timeout=2)
        assert event is not None, "the panel again, within a heartbeat"
        assert event["id"] == str(latest_id(app)), "the same greetings: the same id"
        assert panel_of(event).select_one("#active-visitors").get_text() == "0 visitors active in the last 5 minutes."
        assert names_in(panel_of(event)) == ["Ann"]
        assert reader.next_event(timeout=0.5) is None, "sent once"
    for reader in readers:
        reader.join(timeout=5)


def test_names_that_were_never_greeted_are_not_active_visitors(app, client, greet):
    with app.app_context():  # as `flask users seed` stores them: seen lately, never greeted
        _db.session.add_all([User(username=f"Seeded {number}", last_seen=utcnow()) for number in range(3)])
        _db.session.commit()
    active = lambda: BeautifulSoup(client.get("/").data, "html.parser").select_one("#active-visitors").get_text()
    assert active() == "0 visitors active in the last 5 minutes."
    greet("Ann")
    greet("Ann")
    greet("Bob")
    assert active() == "2 visitors active in the last 5 minutes.", "each greeted visitor once"


def test_a_burst_of_greetings_is_one_event_with_the_latest_state(app, client, greet, monkeypatch):
    app.config.update(FLASKY_LIVE_TAIL_SECONDS=0.5, FLASKY_LIVE_MAX_EVENTS=2, FLASKY_LIVE_STREAM_SECONDS=1.5)
    greet("Ann")
    reader = StreamReader(app, f"/greetings/stream?after={latest_id(app)}")
    reader.start()
    assert reader.opened.wait(5)
    time.sleep(0.1)
    for name in ("B1", "B2", "B3"):
        greet(name, htmx=True)
    first = reader.next_event(timeout=2)
    assert names_in(panel_of(first))[:3] == ["B3", "B2", "B1"] and first["id"] == str(latest_id(app))
    assert reader.next_event(timeout=1.5) is None
    reader.join(timeout=5)


def test_the_tailer_starts_with_the_first_stream_never_before(app, client, greet):
    hub = app.extensions[Hub.KEY]
    greet("Ann")
    client.get("/")
    assert hub.tailer is None and not [thread for thread in threading.enumerate()
                                       if thread.name == "flasky-live-tailer" and thread.is_alive()
                                       and getattr(thread, "_target", None) == hub._tail]
    app.config["FLASKY_LIVE_MAX_EVENTS"] = 0
    reader = StreamReader(app, "/greetings/stream?after=0")
    reader.start()
    assert reader.opened.wait(5)
    assert hub.tailer is not None and hub.streams == 1
    reader.join(timeout=5)  # the lifetime ends it
    assert hub.streams == 0
    assert wait_until(lambda: hub.tailer is None), "the tailer ends with the last stream"
    response = client.get("/greetings/stream?after=0")
    assert hub.streams == 1
    response.close()  # a client that goes away before reading its stream
    assert hub.streams == 0, "gives its place back"


def test_past_the_cap_a_stream_is_a_503_with_retry_after(app, client):
    app.config.update(FLASKY_LIVE_STREAMS=1, FLASKY_LIVE_MAX_EVENTS=0, FLASKY_LIVE_STREAM_SECONDS=1.0)
    held = StreamReader(app, "/greetings/stream")
    held.start()
    assert held.opened.wait(5) and held.status == 200
    refused = client.get("/greetings/stream", headers=ZH)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "12"
    assert refused.mimetype == "text/plain" and "实时更新太多" in refused.get_data(as_text=True)
    assert "event:" not in refused.get_data(as_text=True)
    held.join(timeout=5)
    with client.get("/greetings/stream") as again:
        assert again.status_code == 200
    app.config["FLASKY_LIVE_STREAMS"] = 0
    answer = client.get("/greetings/stream")
    assert answer.status_code == 503
    assert "This server does not keep live updates open." in answer.get_data(as_text=True)
    assert app.extensions[Hub.KEY].streams == 0


def test_streams_neither_count_against_nor_get_round_the_name_form_s_limit(make_app, database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url, create_tables=True, RATELIMIT_ENABLED=True,
                   RATELIMIT_NAME_FORM="2 per minute", **FAST)
    client = app.test_client()
    page = client.get("/")
    for _ in range(5):
        with client.get("/greetings/stream?after=0") as stream:
            assert stream.status_code == 200
    answers = [client.submit(page, "#name-form", name=f"N{n}").status_code for n in range(3)]
    assert answers == [303, 303, 429]
    with client.get("/greetings/stream?after=0") as stream:
        assert stream.status_code == 200
    assert client.hx_get("/greetings/recent").status_code == 200
    with app.app_context():
        _db.drop_all()


# --- which servers hold streams (flasky/live/capacity.py) -----------------------------------------------------

SETTINGS = {"FLASKY_LIVE_STREAMS": 10000, "FLASKY_LIVE_SERVER_SLOTS": 0, "FLASKY_LIVE_STREAM_SHARE": 0.75,
            "FLASKY_LIVE_PAGE_SLOTS": 8}
GUNICORN, WAITRESS, WERKZEUG = "gunicorn/27.0.1", "waitress", "Werkzeug/3.1.9"


@pytest.mark.parametrize("environ, settings, limit", [
    ({"wsgi.multithread": False, "SERVER_SOFTWARE": GUNICORN}, {}, 0),  # gunicorn's sync worker
    ({"wsgi.multithread": False, "SERVER_SOFTWARE": GUNICORN, SLOTS_KEY: 4000}, {}, 0),  # says slots, serves one
    ({"wsgi.multithread": False, "SERVER_SOFTWARE": WERKZEUG}, {}, 0),  # flask run --without-threads, or processes
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": GUNICORN}, {}, 0),  # gthread: how many threads is unknown
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": WAITRESS}, {}, 0),  # waitress: 4 threads, unknown to the app
    ({"wsgi.multithread": True}, {}, 0),  # nameless
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": WAITRESS}, {"FLASKY_LIVE_SERVER_SLOTS": 4}, 0),  # too small
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": WAITRESS}, {"FLASKY_LIVE_SERVER_SLOTS": 12}, 4),  # 8 for pages
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": GUNICORN}, {"FLASKY_LIVE_SERVER_SLOTS": 108}, 81),  # 3/4
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": GUNICORN, SLOTS_KEY: 4000}, {}, 3000),  # flasky.serving
    ({"wsgi.multithread": True, SLOTS_KEY: 4000}, {"FLASKY_LIVE_SERVER_SLOTS": 12}, 3000),  # the server knows best
    ({"wsgi.multithread": True, SLOTS_KEY: 4000}, {"FLASKY_LIVE_STREAMS": 100}, 100),  # the operator's ceiling
    ({"wsgi.multithread": True, SLOTS_KEY: 4000}, {"FLASKY_LIVE_STREAM_SHARE": 0}, 0),
    ({"wsgi.multithread": True, SLOTS_KEY: 4000}, {"FLASKY_LIVE_STREAM_SHARE": 1, "FLASKY_LIVE_PAGE_SLOTS": 100}, 3900),
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": WERKZEUG}, {}, 10000),  # flask run: a thread per request
    ({"wsgi.multithread": True, "SERVER_SOFTWARE": WERKZEUG}, {"FLASKY_LIVE_STREAMS": 0}, 0),
])
def test_a_process_holds_streams_only_where_its_server_can_afford_them(environ, settings, limit):
    assert stream_limit(environ, {**SETTINGS, **settings}) == limit


@pytest.mark.parametrize("headers, text", [({}, "This server does not keep live updates open."),
                                           (ZH, "此服务器不保持实时更新连接。")])
def test_under_a_server_that_holds_no_stream_the_page_polls_and_the_stream_is_a_503(app, client, caplog, headers,
                                                                                   text):
    one_at_a_time = {"environ_overrides": {"wsgi.multithread": False, "SERVER_SOFTWARE": GUNICORN}}
    section = client.get("/", headers=headers, **one_at_a_time).fragment("live-greetings")
    assert section["data-polling"] == "true" and not section.has_attr("sse-connect")
    assert section["data-poll-url"] == "/greetings/recent"
    with caplog.at_level("WARNING", logger="flasky.live"):
        for _ in range(3):
            answer = client.get("/greetings/stream", headers=headers, **one_at_a_time)
            assert (answer.status_code, answer.headers["Retry-After"], answer.mimetype) == (503, "12", "text/plain")
            assert text in answer.get_data(as_text=True)
    told = [record.getMessage() for record in caplog.records
            if record.name == "flasky.live" and "streams are refused" in record.getMessage()]
    assert len(told) == 1, "said once per process"
    assert "gunicorn/27.0.1 serves one request at a time" in told[0] and "flasky.serving.StreamWorker" in told[0]
    assert app.extensions[Hub.KEY].streams == 0
    # The same app under a server that holds streams: the panel streams again.
    assert client.get("/").fragment("live-greetings")["sse-connect"].startswith("/greetings/stream")


def test_each_stream_asks_for_its_own_reconnection_delay_so_a_restart_does_not_bring_them_back_at_once(client):
    delays = {retry_of(read_stream(client, "/greetings/stream?after=0")) for _ in range(12)}
    assert all(2000 <= delay < 7000 for delay in delays) and len(delays) > 3


def test_a_stopping_server_ends_every_stream_at_once_and_opens_none(app, greet):
    app.config.update(FLASKY_LIVE_MAX_EVENTS=0, FLASKY_LIVE_STREAM_SECONDS=30.0)
    greet("Ann")
    readers = [StreamReader(app, "/greetings/stream") for _ in range(3)]
    for reader in readers:
        reader.start()
    assert all(reader.opened.wait(5) and reader.status == 200 for reader in readers)
    assert all(reader.next_event(5) for reader in readers)
    started = time.monotonic()
    close_hub(app)
    for reader in readers:
        reader.join(timeout=5)
    assert not any(reader.is_alive() for reader in readers) and time.monotonic() - started < 2
    assert app.extensions[Hub.KEY].streams == 0
    assert app.test_client().get("/greetings/stream").status_code == 503


def test_a_stopped_hub_s_tailer_ends_with_a_stream_still_counted_and_gives_its_connection_back(app):
    hub = app.extensions[Hub.KEY]
    assert hub.subscribe(limit=1)  # a stream whose response nobody closed: it stays counted in
    assert wait_until(lambda: hub.state is not None), "the tailer reads the table"
    tailer = hub.tailer
    assert stop_hub(app, timeout=5) and not tailer.is_alive() and hub.tailer is None
    assert hub.streams == 1 and not hub.subscribe(limit=2), "closed: no stream opens, no tailer starts"
    with app.app_context():
        assert getattr(_db.engine.pool, "checkedout", lambda: 0)() == 0


# --- the poll route -------------------------------------------------------------------------------------------


def test_the_poll_route_answers_the_panel_fragment_or_a_page_of_its_own(client, greet):
    greet("Ann")
    fragment = client.hx_get("/greetings/recent")
    assert fragment.status_code == 200 and fragment.soup.html is None
    assert fragment.soup.find().get("id") == "recent-greetings" and names_in(fragment.fragment("recent-greetings")) == ["Ann"]
    page = client.get("/greetings/recent")
    assert page.soup.title.get_text() == "Recently greeted – Flasky"
    assert page.soup.select_one('meta[name="description"]')["content"].startswith("The last ten people Flasky greeted")
    assert page.text_of("recent-heading") == "Recently greeted" and names_in(page.fragment("recent-greetings")) == ["Ann"]
    chinese = client.get("/greetings/recent", headers=ZH)
    assert chinese.soup.title.get_text() == "最近的问候 – Flasky" and chinese.text_of("recent-heading") == "最近的问候"
    assert chinese.soup.select_one('meta[name="description"]')["content"].startswith("Flasky 最近问候的十个人")
    assert client.hx_get("/greetings/recent", headers=ZH).text_of("active-visitors") == "最近 5 分钟内有 1 位访客。"


# --- settings -------------------------------------------------------------------------------------------------


def test_the_live_settings_have_defaults_and_read_the_environment(monkeypatch):
    app = create_app("testing")
    assert (app.config["FLASKY_LIVE_FEED"], app.config["FLASKY_LIVE_STREAMS"], app.config["FLASKY_LIVE_STREAM_SECONDS"],
            app.config["FLASKY_LIVE_HEARTBEAT_SECONDS"], app.config["FLASKY_LIVE_POLL_SECONDS"]) == (True, 10000, 300, 15, 12)
    assert (app.config["FLASKY_LIVE_KEEP_EVENTS"], app.config["FLASKY_LIVE_MAX_EVENTS"]) == (1000, 0)
    assert (app.config["FLASKY_LIVE_SERVER_SLOTS"], app.config["FLASKY_LIVE_STREAM_SHARE"],
            app.config["FLASKY_LIVE_PAGE_SLOTS"]) == (0, 0.75, 8)
    assert (app.config["REDIS_URL"], app.config["FLASKY_LIVE_WAKEUPS"], app.config["FLASKY_LIVE_WAKEUP_POLL_SECONDS"]) == (
        None, True, 30)
    assert Hub.KEY in app.extensions and "flasky.live.wakeups" not in app.extensions, "no Redis: the tailer polls"
    for name, value in (("FLASKY_LIVE_FEED", "off"), ("FLASKY_LIVE_STREAMS", "0"), ("FLASKY_LIVE_POLL_SECONDS", "15"),
                        ("REDIS_URL", "redis://cache.internal:6379/2"), ("FLASKY_LIVE_WAKEUP_POLL_SECONDS", "45")):
        monkeypatch.setenv(name, value)
    app = create_app("testing")
    assert (app.config["FLASKY_LIVE_FEED"], app.config["FLASKY_LIVE_STREAMS"], app.config["FLASKY_LIVE_POLL_SECONDS"]) == (
        False, 0, 15)
    assert (app.config["REDIS_URL"], app.config["FLASKY_LIVE_WAKEUP_POLL_SECONDS"]) == ("redis://cache.internal:6379/2", 45)
    monkeypatch.setenv("FLASKY_LIVE_FEED", "on")
    assert "flasky.live.wakeups" in create_app("testing").extensions
    monkeypatch.setenv("FLASKY_LIVE_WAKEUPS", "off")
    assert "flasky.live.wakeups" not in create_app("testing").extensions


@pytest.mark.parametrize("name, value", [("FLASKY_LIVE_KEEP_EVENTS", "5"), ("FLASKY_LIVE_STREAMS", "-1"),
                                         ("FLASKY_LIVE_HEARTBEAT_SECONDS", "0"), ("FLASKY_LIVE_POLL_SECONDS", "x"),
                                         ("FLASKY_LIVE_SERVER_SLOTS", "-4"), ("FLASKY_LIVE_STREAM_SHARE", "1.5"),
                                         ("FLASKY_LIVE_STREAM_SHARE", "-0.1"), ("FLASKY_LIVE_PAGE_SLOTS", "0"),
                                         ("FLASKY_LIVE_STREAM_SHARE", "half"), ("FLASKY_LIVE_WAKEUP_POLL_SECONDS", "0"),
                                         ("FLASKY_LIVE_WAKEUPS", "maybe")])
def test_live_settings_the_feed_cannot_work_with_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(StartupError, match=name):
        create_app("testing")
