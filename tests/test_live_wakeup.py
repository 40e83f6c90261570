"""Wake-ups across processes through a real Redis: a committed greeting reaches another process's streams at once, an
idle feed leaves the database alone, and without Redis the feed polls, says so once, and comes back by itself.

Two apps on one database stand for two processes (or two machines): each has its own hub, tailer and connections.
"""

import logging
import threading
import time

import pytest
import requests
from redis import Redis

from flasky import greeting
from flasky.live import hub as hub_module
from flasky.live import wakeup
from flasky.live.hub import Hub, close_hub
from flasky.live.wakeup import CHANNEL, current_wakeups
from flasky.testing import free_port
from tests.test_live import FAST, StreamReader, latest_id, names_in, panel_of
from tests.helpers import Stream, submit, wait_until
from tests.test_production_server import fresh_database, production_server

# The tailers' own poll is far off: within a test, only a wake-up gets a greeting to another process's stream.
FAR_POLL = 120.0
ARRIVES = 5.0  # seconds: a bound for slow machines, far under FAR_POLL (the benchmark measures the real time)


@pytest.fixture
def two_apps(make_app, database_url):
    """Make two apps on one fresh database and the given Redis: a greeting's process and a stream's."""

    made = []

    def two_apps(redis_url, **overrides):
        settings = {**FAST, "FLASKY_LIVE_MAX_EVENTS": 0, "FLASKY_LIVE_STREAM_SECONDS": 30, "REDIS_URL": redis_url,
                    "FLASKY_LIVE_WAKEUP_POLL_SECONDS": FAR_POLL, "SQLALCHEMY_DATABASE_URI": database_url, **overrides}
        made.extend([make_app(create_tables=True, **settings), make_app(**settings)])
        return made[-2:]

    yield two_apps
    for app in made:  # end their streams, and see each tailer stop before the database goes
        close_hub(app)
        assert wait_until(lambda: app.extensions[Hub.KEY].tailer is None, 5)


@pytest.fixture
def tailer_reads(monkeypatch):
    """Note each read of the events table's state by a tailer (its thread); reads_by(apps) counts those of these
    apps' tailers (not those of other tests' apps whose streams are still running out)."""
    reads = []
    real = hub_module.current_state

    def noted(engine):
        reads.append(threading.current_thread())
        return real(engine)

    monkeypatch.setattr(hub_module, "current_state", noted)
    return reads


def reads_by(reads, apps):
    """Count the reads made by the tailers of these apps."""
    tailers = {app.extensions[Hub.KEY].tailer for app in apps} - {None}
    return sum(thread in tailers for thread in reads)


@pytest.fixture
def published(redis_url):
    """Listen on the wake-up channel; return a function that gives the wake-ups published since the last call."""
    pubsub = Redis.from_url(redis_url).pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(CHANNEL)
    assert wait_until(lambda: pubsub.get_message(timeout=0.1) is None and pubsub.subscribed, 5)

    def published():
        messages = []
        while (message := pubsub.get_message(timeout=0.3)) is not None:
            messages.append(message)
        return len(messages)

    yield published
    pubsub.close()


def open_stream(app, after):
    """Open a stream of the panel on an app, from a known event id, and wait for its tailer's first read."""
    reader = StreamReader(app, f"/greetings/stream?after={after}")
    reader.start()
    assert reader.opened.wait(5) and reader.status == 200
    assert wait_until(lambda: app.extensions[Hub.KEY].state is not None, 5)
    return reader


def greeted(client, name):
    """Submit a name through the form (a fresh page each time, as a visitor does)."""
    return client.submit(client.get("/"), "#name-form", name=name)


def test_a_greeting_in_one_process_reaches_another_s_stream_by_a_wake_up(two_apps, redis_url, tailer_reads):
    greeter, streamer = two_apps(redis_url)
    client = greeter.test_client()
    greeted(client, "Ann")
    reader = open_stream(streamer, latest_id(greeter))
    assert wait_until(lambda: reads_by(tailer_reads, [streamer]) >= 2, 5), "a read, then another once subscribed"
    greeted(client, "张伟")
    event = reader.next_event(timeout=ARRIVES)
    assert event is not None, f"within {ARRIVES} s, where the tailer's own poll is every {FAR_POLL} s"
    assert names_in(panel_of(event)) == ["张伟", "Ann"]
    assert event["id"] == str(latest_id(greeter))


def test_an_idle_feed_with_streams_open_reads_nothing_until_a_greeting(two_apps, redis_url, tailer_reads):
    greeter, streamer = two_apps(redis_url, FLASKY_LIVE_TAIL_SECONDS=0.01)
    readers = [open_stream(app, 0) for app in (greeter, streamer, streamer)]
    apps = [greeter, streamer]
    assert wait_until(lambda: reads_by(tailer_reads, apps) >= 4, 5), "each tailer: a first read, and one once subscribed"
    settled = reads_by(tailer_reads, apps)
    assert not wait_until(lambda: reads_by(tailer_reads, apps) > settled, 1.5), "polling every 0.01 s: 150 reads"
    greeted(greeter.test_client(), "Ann")
    assert all(reader.next_event(timeout=ARRIVES) for reader in readers)
    assert reads_by(tailer_reads, apps) - settled == 2, "one read for each process, whatever its streams"


@pytest.mark.parametrize("action, wakeups", [
    (lambda client, cli: greeted(client, "Ann"), 1),  # a new name
    (lambda client, cli: greeted(client, "Bob"), 1),  # a known one
    (lambda client, cli: greeted(client, " "), 0),  # refused: nothing written
    (lambda client, cli: client.get("/users"), 0),
    (lambda client, cli: client.hx_get("/greetings/recent"), 0),
    (lambda client, cli: cli.invoke(args=["users", "delete", "Bob", "--yes"]), 1),
    (lambda client, cli: cli.invoke(args=["users", "rename", "Bob", "Robert"]), 1),
    (lambda client, cli: cli.invoke(args=["users", "delete", "nobody", "--yes"]), 0),
], ids=["new-name", "known-name", "refused-name", "directory", "panel", "users-delete", "users-rename",
        "users-delete-none"])
def test_each_commit_that_changes_the_events_publishes_one_wake_up_and_nothing_else_does(two_apps, redis_url,
                                                                                      published, action, wakeups):
    app, _ = two_apps(redis_url)
    client, cli = app.test_client(), app.test_cli_runner()
    greeted(client, "Bob")
    published()
    action(client, cli)
    assert published() == wakeups


def test_a_greeting_rolled_back_publishes_nothing(two_apps, redis_url, published, monkeypatch):
    app, _ = two_apps(redis_url, PROPAGATE_EXCEPTIONS=False)
    client = app.test_client()
    page = client.get("/")
    record_greeting = greeting.record_greeting

    def fail(*args, **kwargs):
        record_greeting(*args, **kwargs)
        raise RuntimeError("the greeting failed after writing its event")

    monkeypatch.setattr(greeting, "record_greeting", fail)
    assert client.submit(page, "#name-form", name="Ann").status_code == 500
    monkeypatch.undo()
    assert published() == 0
    greeted(client, "Bob")  # the failed transaction's mark did not linger into the next one
    assert published() == 1


def test_without_redis_streams_poll_posts_answer_and_the_log_says_so_once(two_apps, caplog, tailer_reads):
    greeter, streamer = two_apps(f"redis://127.0.0.1:{free_port()}/0", FLASKY_LIVE_TAIL_SECONDS=0.05)
    caplog.set_level(logging.WARNING, "flasky.live")
    client = greeter.test_client()
    reader = open_stream(streamer, 0)
    for name in ("Ann", "Bob", "Cy"):
        assert greeted(client, name).status_code == 303
        assert reader.next_event(timeout=ARRIVES) is not None, "by the poll"
    warnings = [record.getMessage() for record in caplog.records if record.name == "flasky.live"]
    assert sum("cannot publish wake-ups to Redis (ConnectionError" in line for line in warnings) == 1
    assert sum("no wake-ups from Redis (ConnectionError" in line and "every 0.05 s" in line for line in warnings) == 1
    assert wait_until(lambda: reads_by(tailer_reads, [streamer]) > 20, 5), "polling"


def test_when_redis_comes_back_wake_ups_resume_by_themselves(two_apps, redis_server, caplog, monkeypatch):
    monkeypatch.setattr(wakeup, "RETRY_SECONDS", 0.2)
    greeter, streamer = two_apps(redis_server.url, FLASKY_LIVE_TAIL_SECONDS=0.05)  # the poll while Redis is away
    caplog.set_level(logging.WARNING, "flasky.live")
    client = greeter.test_client()
    reader = open_stream(streamer, 0)
    redis_server.stop()
    assert greeted(client, "Ann").status_code == 303
    assert reader.next_event(timeout=ARRIVES) is not None, "by the poll"
    warnings = [record.getMessage() for record in caplog.records if record.name == "flasky.live"]
    assert sorted(line.split(" (")[0] for line in warnings) == ["Live feed: cannot publish wake-ups to Redis",
                                                                "Live feed: no wake-ups from Redis"]
    redis_server.start()
    assert wait_until(lambda: "Live feed: wake-ups from Redis again" in caplog.text, 5)
    assert wait_until(lambda: current_wakeups(greeter).quiet_until < time.monotonic(), 5), "the publisher tries again"
    assert greeted(client, "Bob").status_code == 303
    event = reader.next_event(timeout=ARRIVES)
    assert event is not None and names_in(panel_of(event)) == ["Bob", "Ann"], "by a wake-up: the poll is far off now"
    assert "Live feed: publishing wake-ups to Redis again" in caplog.text


def test_two_nodes_of_the_readme_s_server_share_greetings_by_wake_ups(request, tmp_path, redis_url):
    database_url = fresh_database("postgresql", tmp_path, request)
    settings = {"REDIS_URL": redis_url, "FLASKY_LIVE_WAKEUP_POLL_SECONDS": str(FAR_POLL)}
    with (production_server(database_url, tmp_path / "a.log", **settings) as node_a,
          production_server(database_url, tmp_path / "b.log", **settings) as node_b):
        with requests.Session() as browser:
            assert submit(browser, node_a, "Ann").status_code == 303
            streams = [Stream(node.url("/greetings/stream")) for node in (node_a, node_b)]
            try:
                assert all(stream.next_event(timeout=ARRIVES) for stream in streams), "the panel, at once"
                subscribed = Redis.from_url(redis_url)
                assert wait_until(lambda: subscribed.pubsub_numsub(CHANNEL) == [(CHANNEL.encode(), 2)], ARRIVES), (
                    "each stream's worker subscribed")
                subscribed.close()
                assert submit(browser, node_a, "Bob", htmx=True).status_code == 200
                received = [stream.next_event(timeout=ARRIVES) for stream in streams]
            finally:
                for stream in streams:
                    stream.close()
        assert all(received), f"within {ARRIVES} s on both nodes, where each worker's own poll is every {FAR_POLL} s"
        assert {names_in(panel_of({"data": event["data"]}))[0] for event in received} == {"Bob"}
        for node in (node_a, node_b):
            log = node.log_text()
            assert "Traceback" not in log and "Warning" not in log, log
