"""`flask users delete` and `flask users rename`: taking a name back everywhere it shows (its page, the directory, the
live panel and its streams, admin mail not yet sent), by name or by pattern, in both languages."""

import threading
from urllib.parse import quote

import pytest
from sqlalchemy import func, insert, select

from flasky import cli
from flasky.extensions import db as _db
from flasky.live.events import current_state, record_greeting, recent
from flasky.live.hub import Hub
from flasky.models import GreetingEvent, OutboxMessage, User, utcnow
from flasky.names import like_pattern
from flasky.text import search_key
from tests.helpers import listed, wait_until
from tests.test_live import StreamReader, greetings_events, names_in, panel_of, read_stream

ADMIN = "admin@example.com"
PENDING, SENDING, SENT, FAILED = OutboxMessage.STATUSES


@pytest.fixture
def app_overrides():
    """Every new name queues the admin's note; streams end after one event."""
    return {"FLASKY_ADMIN": ADMIN, "FLASKY_LIVE_TAIL_SECONDS": 0.02, "FLASKY_LIVE_STREAM_SECONDS": 3.0,
            "FLASKY_LIVE_MAX_EVENTS": 1}


def invoke(app, *args, input=None):
    """Run `flask users ...` against the app."""
    return app.test_cli_runner().invoke(args=["users", *args], input=input)


@pytest.fixture
def greet_all(greet):
    """Greet each name through the home page's form, in order (the last is the newest in the panel)."""

    def greet_all(*names):
        for name in names:
            assert greet(name).status_code == 303, name

    return greet_all


@pytest.fixture
def mail_about(app):
    """Store an admin note about a name with a given status (a sent one as the delivery records it)."""

    def mail_about(name, status):
        with app.app_context():
            _db.session.execute(insert(OutboxMessage).values(
                recipient=ADMIN, subject="New User", template="new_user", context={"username": name}, coalesce=True,
                status=status))
            _db.session.commit()

    return mail_about


def mail(outbox):
    """Return the outbox as (name, status) pairs in id order."""
    return [(message.context["username"], message.status) for message in outbox()]


def events_by_name(app):
    """Return how many greeting events each stored name has, and how many events name no stored user."""
    with app.app_context():
        counts = dict(_db.session.execute(select(User.username, func.count(GreetingEvent.id))
                                          .outerjoin(GreetingEvent, GreetingEvent.user_id == User.id)
                                          .group_by(User.username)).all())
        orphans = _db.session.scalar(select(func.count()).select_from(GreetingEvent)
                                     .where(GreetingEvent.user_id.not_in(select(User.id))))
    return counts, orphans


def state(app):
    with app.app_context():
        return current_state(_db.engine)


def panel_names(client):
    """Return the names in the home page's panel and in the poll's answer (each read through the panel cache)."""
    home = [link.get_text() for link in client.get("/").soup.select("#recent-greetings li a")]
    polled = [link.get_text() for link in client.hx_get("/greetings/recent").soup.select("#recent-greetings li a")]
    assert home == polled
    return home


def searched(client, query):
    return listed(client.get("/users", query_string={"q": query}))


def user_page(client, name):
    return client.get("/user/" + quote(name)).status_code


# --- delete NAME -------------------------------------------------------------------------------------------------


GREETED = ["Ann", "张三", "Bob 🎉", "50%_off"]


@pytest.mark.parametrize("target", GREETED, ids=["oldest", "Chinese", "emoji", "percent and underscore (newest)"])
def test_delete_takes_the_name_back_everywhere_and_leaves_the_others(app, client, greet_all, mail_about, outbox,
                                                                     target):
    greet_all(*GREETED, "Ann")  # Ann greeted twice: her events are the oldest and the newest
    mail_about(target, SENT)
    mail_about(target, FAILED)
    mail_about(target, SENDING)
    others = [name for name in GREETED if name != target]
    assert target in panel_names(client)  # the panel is now kept for this state, in this process
    assert searched(client, target) == [target] and user_page(client, target) == 200
    counts_before, _ = events_by_name(app)
    before = state(app)

    result = invoke(app, "delete", target)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"{target}\nDeleted 1 name.\n"
    assert user_page(client, target) == 404
    assert searched(client, target) == [] and target not in searched(client, "")
    assert panel_names(client) == [name for name in ["Ann", "50%_off", "Bob 🎉", "张三", "Ann"] if name != target]
    counts, orphans = events_by_name(app)
    assert counts == {name: counts_before[name] for name in others} and orphans == 0
    assert mail(outbox) == [(name, PENDING) for name in others] + [(target, SENT)], "sent mail is a record: it stays"
    assert state(app) != before and state(app).latest > before.latest
    for name in others:
        assert user_page(client, name) == 200 and searched(client, name) == [name]


@pytest.mark.parametrize("typed", ["  Zoë ", "Zoe\u0308"], ids=["padded", "NFD"])
def test_delete_finds_the_name_as_the_app_stores_it(app, greet_all, typed):
    greet_all("Zoë", "zoë")
    result = invoke(app, "delete", typed)
    assert result.exit_code == 0, result.output
    assert result.stdout == "Zoë\nDeleted 1 name.\n"
    assert list(events_by_name(app)[0]) == ["zoë"], "another case is another name, as on the home page"


def test_a_deletion_moves_the_panel_on_for_clients_that_reconnect(app, client, greet_all):
    greet_all("Ann", "Bob", "Cy")
    old_latest = state(app).latest
    assert invoke(app, "delete", "Ann").exit_code == 0  # not the newest event: the newest id alone would not change
    [event] = greetings_events(read_stream(client, "/greetings/stream", headers={"Last-Event-ID": str(old_latest)}))
    assert names_in(panel_of(event)) == ["Cy", "Bob"] and int(event["id"]) > old_latest
    assert invoke(app, "delete", "Cy").exit_code == 0  # the newest: a client holding its id is not ahead
    [event] = greetings_events(read_stream(client, "/greetings/stream", headers={"Last-Event-ID": event["id"]}))
    assert names_in(panel_of(event)) == ["Bob"]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # SQLite has one writer at a time anyway
def test_a_greeting_written_during_a_deletion_stays_the_newest(app, greet_all):
    greet_all("Ann", "Bob", "Cy")
    with app.app_context():
        bob = _db.session.scalar(select(User.id).where(User.username == "Bob"))
        greeting = _db.engine.connect()  # Bob greeted again, its event written but not yet committed
        greeting.begin()
        record_greeting(greeting, bob, False, utcnow())
    deleting = threading.Thread(target=invoke, args=(app, "delete", "Ann"))
    try:
        deleting.start()
        deleting.join(0.5)
        waited = deleting.is_alive()
    finally:
        greeting.commit()
        greeting.close()
        deleting.join(10)
    assert waited, "the deletion waits for the greeting's transaction"
    with app.app_context():
        assert [greeted.username for greeted in recent().greetings] == ["Bob", "Cy", "Bob"]


@pytest.mark.parametrize(("greeted", "target", "shown"), [
    (["Ann", "Bob", "Cy"], "Ann", ["Cy", "Bob"]),
    (["Ann", "Bob", "Cy"], "Cy", ["Bob", "Ann"]),
    (["Ann"], "Ann", []),
], ids=["an older one", "the newest", "the only one"])
def test_an_open_stream_drops_the_deleted_name(app, greet_all, greeted, target, shown):
    greet_all(*greeted)
    reader = StreamReader(app, f"/greetings/stream?after={state(app).latest}")
    reader.start()
    assert reader.opened.wait(5) and reader.status == 200
    assert wait_until(lambda: app.extensions[Hub.KEY].state is not None)
    assert invoke(app, "delete", target).exit_code == 0
    event = reader.next_event(timeout=2.5)
    reader.join(timeout=5)
    assert event is not None, "within the stream's life"
    assert names_in(panel_of(event)) == shown
    assert event["id"] == ("" if not shown else str(state(app).latest)), "an emptied table: the client forgets its id"


@pytest.mark.parametrize(("args", "message", "locale"), [
    (["Nobody"], "No user is named 'Nobody'.", "C.UTF-8"),
    (["ann"], "No user is named 'ann'.", "C.UTF-8"),
    (["  "], "Please give a user's name.", "C.UTF-8"),
    (["--matching", "zz*"], "No name matches 'zz*'.", "C.UTF-8"),
    (["--matching", "zz*", "--dry-run"], "No name matches 'zz*'.", "C.UTF-8"),
    (["--matching", " "], "Please give a pattern to match names with.", "C.UTF-8"),
    (["Nobody"], "没有名为 'Nobody' 的用户。", "zh_CN.UTF-8"),
    (["--matching", "张*"], "没有名字匹配 '张*'。", "zh_CN.UTF-8"),
], ids=["unknown", "other case", "blank", "no match", "no match, dry run", "blank pattern", "unknown, Chinese",
        "no match, Chinese"])
def test_delete_refuses_what_it_cannot_find(app, greet_all, outbox, terminal, args, message, locale):
    greet_all("Ann")
    terminal(LANG=locale)
    result = invoke(app, "delete", *args)
    assert result.exit_code == 1
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.output
    assert list(events_by_name(app)[0]) == ["Ann"] and mail(outbox) == [("Ann", PENDING)]


@pytest.mark.parametrize(("args", "message", "locale"), [
    ([], "Give either a name or --matching PATTERN.", "C.UTF-8"),
    (["Ann", "--matching", "A*"], "Give either a name or --matching PATTERN.", "C.UTF-8"),
    ([], "请给出一个名字或 --matching 模式，二者选一。", "zh_CN.UTF-8"),
], ids=["neither", "both", "neither, Chinese"])
def test_delete_wants_a_name_or_a_pattern(app, greet_all, terminal, args, message, locale):
    greet_all("Ann")
    terminal(LANG=locale)
    result = invoke(app, "delete", *args)
    assert result.exit_code == 2 and message in result.stderr
    assert list(events_by_name(app)[0]) == ["Ann"]


# --- delete --matching PATTERN -----------------------------------------------------------------------------------


NAMES = ["Ann", "Anna", "ANNE", "Joann", "50%_off", "50x_off", "50%xoff", "a_b", "axb", "张三", "张三丰", "李四",
         "🎉party", "party🎉", "Straße"]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("ann*", ["ANNE", "Ann", "Anna"]),
    ("ann", ["Ann"]),
    ("*ann*", ["ANNE", "Ann", "Anna", "Joann"]),
    ("50%_off", ["50%_off"]),
    ("50%*", ["50%_off", "50%xoff"]),
    ("50?_off", ["50%_off", "50x_off"]),
    ("a_b", ["a_b"]),
    ("a?b", ["a_b", "axb"]),
    ("%", []),
    ("张*", ["张三", "张三丰"]),
    ("张?", ["张三"]),
    ("*三*", ["张三", "张三丰"]),
    ("*🎉*", ["party🎉", "🎉party"]),
    ("🎉*", ["🎉party"]),
    ("STRASSE", ["Straße"]),
    ("  ann  ", ["Ann"]),
], ids=["prefix", "no wildcard", "substring", "percent and underscore literal", "percent literal",
        "? any one character", "underscore literal", "? one character, an underscore too", "a bare percent",
        "CJK prefix", "CJK one character", "CJK substring", "emoji substring", "emoji prefix", "case-folded", "trimmed"])
def test_delete_matching_lists_and_counts_on_a_dry_run_then_deletes_just_those(app, greet_all, outbox, pattern,
                                                                               expected):
    greet_all(*NAMES)
    dry = invoke(app, "delete", "--matching", pattern, "--dry-run")
    if not expected:
        assert dry.exit_code == 1 and "No name matches" in dry.stderr
        return
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.splitlines() == expected + [
        f"{len(expected)} name{'s' if len(expected) > 1 else ''} would be deleted; nothing was (--dry-run)."]
    assert sorted(events_by_name(app)[0]) == sorted(NAMES) and len(outbox()) == len(NAMES)

    result = invoke(app, "delete", "--matching", pattern, "--yes")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == expected + [f"Deleted {len(expected)} name{'s' if len(expected) > 1 else ''}."]
    kept = [name for name in NAMES if name not in expected]
    counts, orphans = events_by_name(app)
    assert sorted(counts) == sorted(kept) and orphans == 0
    assert mail(outbox) == [(name, PENDING) for name in kept]


def test_like_pattern_escapes_everything_but_the_wildcards():
    assert like_pattern("50%_/x*?") == "50/%/_//x%_"
    assert like_pattern("ÅNGSTRÖM*") == "ångström%"


@pytest.mark.parametrize(("answer", "deleted"), [("y\n", True), ("n\n", False), ("\n", False)],
                         ids=["yes", "no", "default"])
def test_deleting_several_names_asks_first(app, greet_all, answer, deleted):
    greet_all("Ann", "Anna", "Bob")
    result = invoke(app, "delete", "--matching", "ann*", input=answer)
    assert "Ann\nAnna\nDelete these 2 names everywhere? [y/N]: " in result.stdout
    if deleted:
        assert result.exit_code == 0 and result.stdout.endswith("Deleted 2 names.\n")
    else:
        assert result.exit_code == 1 and "Nothing was deleted." in result.stderr
    assert sorted(events_by_name(app)[0]) == (["Bob"] if deleted else ["Ann", "Anna", "Bob"])


def test_one_match_is_deleted_without_asking(app, greet_all):
    greet_all("Ann", "Bob")
    result = invoke(app, "delete", "--matching", "b*")
    assert result.exit_code == 0 and result.stdout == "Bob\nDeleted 1 name.\n"


def test_delete_speaks_chinese_on_a_chinese_terminal(app, greet_all, terminal):
    greet_all("Ann", "Anna", "Bob")
    terminal(LANG="zh_CN.UTF-8")
    dry = invoke(app, "delete", "--matching", "ann*", "--dry-run")
    assert dry.stdout == "Ann\nAnna\n2 个名字将被删除；这是试运行（--dry-run），没有删除任何名字。\n"
    refused = invoke(app, "delete", "--matching", "ann*", input="n\n")
    assert "要从所有地方删除这 2 个名字吗？ [y/N]: " in refused.stdout and "没有删除任何名字。" in refused.stderr
    assert invoke(app, "delete", "Bob").stdout == "Bob\n已删除 1 个名字。\n"
    assert sorted(events_by_name(app)[0]) == ["Ann", "Anna"]


def test_delete_matching_a_large_directory_deletes_in_batches(app, met):
    met([f"Seeded {number}" for number in range(1200)] + ["Kept"])
    result = invoke(app, "delete", "--matching", "seeded *", "--yes")
    assert result.exit_code == 0, result.output
    assert result.stdout.endswith("Deleted 1200 names.\n")
    assert list(events_by_name(app)[0]) == ["Kept"]


# --- rename OLD NEW ----------------------------------------------------------------------------------------------


def test_rename_changes_the_name_everywhere_it_shows(app, client, greet_all, mail_about, outbox):
    greet_all("Ann", "Bob", "Cy")
    mail_about("Ann", SENT)
    assert panel_names(client) == ["Cy", "Bob", "Ann"]  # kept for this state; Ann's event is not the newest
    before = state(app)
    counts_before, _ = events_by_name(app)

    result = invoke(app, "rename", "Ann", "Annabel 李")

    assert result.exit_code == 0, result.output
    assert result.stdout == "Renamed Ann to Annabel 李.\n"
    assert user_page(client, "Ann") == 404 and user_page(client, "Annabel 李") == 200
    assert searched(client, "ann") == ["Annabel 李"] and searched(client, "李") == ["Annabel 李"]
    assert searched(client, "bel") == ["Annabel 李"]
    assert panel_names(client) == ["Cy", "Bob", "Annabel 李"]
    assert state(app).latest > before.latest
    assert events_by_name(app)[0] == {"Annabel 李": counts_before["Ann"], "Bob": 1, "Cy": 1}
    assert mail(outbox) == [("Annabel 李", PENDING), ("Bob", PENDING), ("Cy", PENDING), ("Ann", SENT)]


def test_an_open_stream_shows_the_new_name(app, greet_all):
    greet_all("Ann", "Bob")
    reader = StreamReader(app, f"/greetings/stream?after={state(app).latest}")
    reader.start()
    assert reader.opened.wait(5) and reader.status == 200
    assert wait_until(lambda: app.extensions[Hub.KEY].state is not None)
    assert invoke(app, "rename", "Ann", "Zed").exit_code == 0
    event = reader.next_event(timeout=2.5)
    reader.join(timeout=5)
    assert event is not None and names_in(panel_of(event)) == ["Bob", "Zed"]


@pytest.mark.parametrize(("new", "stored"), [
    ("bob", "bob"),
    ("  Ann Lee ", "Ann Lee"),
    ("Zoe\u0308", "Zoë"),
    ("🎉", "🎉"),
    ("50%_off", "50%_off"),
    ("x" * 64, "x" * 64),
], ids=["another case of a taken name", "padded", "NFD", "emoji", "percent and underscore", "longest"])
def test_rename_stores_the_new_name_as_the_form_would(app, client, greet_all, new, stored):
    greet_all("Ann", "Bob")
    result = invoke(app, "rename", "Ann", new)
    assert result.exit_code == 0, result.output
    assert sorted(events_by_name(app)[0]) == sorted([stored, "Bob"])
    assert user_page(client, stored) == 200 and stored in searched(client, stored)


@pytest.mark.parametrize(("old", "new", "message", "locale"), [
    ("Ann", "Bob", "The name 'Bob' is taken.", "C.UTF-8"),
    ("Ann", " Bob ", "The name 'Bob' is taken.", "C.UTF-8"),
    ("Ann", "Zoe\u0308", "The name 'Zoë' is taken.", "C.UTF-8"),
    ("Ann", "Ann", "The user is already named Ann.", "C.UTF-8"),
    ("Ann", "   ", "Please give the new name.", "C.UTF-8"),
    ("Ann", "a/b", "'a/b' cannot be a name: Names cannot contain “/” or be just “.” or “..”.", "C.UTF-8"),
    ("Ann", "..", "'..' cannot be a name: Names cannot contain “/” or be just “.” or “..”.", "C.UTF-8"),
    ("Ann", "x" * 65, "cannot be a name: Names can be at most 64 characters long.", "C.UTF-8"),
    ("Ann", "tab\there", "cannot be a name: Names cannot contain control characters or line breaks.", "C.UTF-8"),
    ("Ann", "evil\u202ename", "cannot be a name: Names cannot contain characters that change the text direction.",
     "C.UTF-8"),
    ("Ann", "\u200b", "cannot be a name: Please enter a name with at least one visible character.", "C.UTF-8"),
    ("Nobody", "Zed", "No user is named 'Nobody'.", "C.UTF-8"),
    ("ann", "Zed", "No user is named 'ann'.", "C.UTF-8"),
    ("Ann", "Bob", "名字 'Bob' 已被占用。", "zh_CN.UTF-8"),
    ("Ann", "a/b", "'a/b' 不能用作名字：名字不能包含“/”，也不能只是“.”或“..”。", "zh_CN.UTF-8"),
    ("Ann", "Ann", "这个用户已经叫 Ann 了。", "zh_CN.UTF-8"),
    ("Ann", "", "请给出新名字。", "zh_CN.UTF-8"),
], ids=["taken", "taken, padded", "taken, NFD", "the same", "blank", "slash", "dot dot", "too long", "control",
        "direction", "invisible", "unknown", "other case", "taken, Chinese", "slash, Chinese", "the same, Chinese",
        "empty, Chinese"])
def test_rename_refuses_a_taken_or_invalid_name(app, greet_all, outbox, terminal, old, new, message, locale):
    greet_all("Ann", "Bob", "Zoë")
    before = state(app)
    terminal(LANG=locale)
    result = invoke(app, "rename", old, new)
    assert result.exit_code == 1
    assert message in result.stderr and result.stdout == ""
    assert "Traceback" not in result.output
    assert sorted(events_by_name(app)[0]) == ["Ann", "Bob", "Zoë"] and state(app) == before
    assert [name for name, _ in mail(outbox)] == ["Ann", "Bob", "Zoë"]


def test_rename_refuses_a_name_taken_since_it_looked(app, greet_all, monkeypatch):
    greet_all("Ann")
    real_rename = cli.names.rename_user

    def rename_after_a_greeting(user, new_name):
        _db.session.execute(insert(User).values(username=new_name, search_key=search_key(new_name)))
        return real_rename(user, new_name)

    monkeypatch.setattr(cli.names, "rename_user", rename_after_a_greeting)
    result = invoke(app, "rename", "Ann", "Zed")
    assert result.exit_code == 1 and "The name 'Zed' is taken." in result.stderr
    assert "Traceback" not in result.output
    assert list(events_by_name(app)[0]) == ["Ann"]


def test_rename_speaks_chinese_on_a_chinese_terminal(app, greet_all, terminal):
    greet_all("Ann")
    terminal(LANG="zh_CN.UTF-8")
    result = invoke(app, "rename", "Ann", "安")
    assert result.exit_code == 0 and result.stdout == "已将 Ann 改名为 安。\n"
    assert list(events_by_name(app)[0]) == ["安"]
