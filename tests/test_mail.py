"""Admin mail through the outbox, delivered to a real SMTP server (aiosmtpd on 127.0.0.1)."""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import update

from flasky import greeting
from flasky.extensions import db as _db
from flasky.models import OutboxMessage, utcnow
from flasky.outbox import delivery, send_email
from flasky.testing import free_port
from tests.helpers import wait_until
from tests.smtp_sink import SMTPServer


@pytest.fixture
def app_overrides(mail_settings):
    return dict(mail_settings)


def deliver(app, **kwargs):
    with app.app_context():
        return delivery.deliver_due(**kwargs)


def parts(message):
    """Return the plain-text and HTML parts of a received message."""
    return (message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content())


def test_send_email_renders_both_parts_with_prefix_and_sender(app, smtp_server):
    with app.app_context():
        send_email("someone@example.com", "Hello", "new_user", username="Zoë")
        _db.session.commit()
    deliver(app)
    [(mail_from, recipients, message)] = smtp_server.mailbox.wait_for(1)
    assert mail_from == "flasky@example.com"
    assert recipients == ["someone@example.com"]
    assert message["Subject"] == "[Flasky] Hello"
    assert message["From"] == "Flasky Admin <flasky@example.com>"
    assert message["Message-ID"].startswith("<flasky-")
    text, html = parts(message)
    assert "Zoë" in text and "https://flasky.example.com/user/Zo%C3%AB" in text
    assert 'href="https://flasky.example.com/user/Zo%C3%AB"' in html


def test_a_new_name_queues_one_admin_note_in_the_same_transaction(app, client, greet, smtp_server, outbox):
    greet("Alice", htmx=True)
    [note] = outbox()
    assert (note.recipient, note.template, note.status, note.context) == (
        "admin@example.com", "new_user", "pending", {"username": "Alice"})
    deliver(app)
    [(_, recipients, message)] = smtp_server.mailbox.wait_for(1)
    assert recipients == ["admin@example.com"]
    assert message["Subject"] == "[Flasky] New User"
    text, html = parts(message)
    assert "Alice" in text and "https://flasky.example.com/user/Alice" in text
    assert "Alice" in html
    assert outbox()[0].status == "sent"


def test_the_link_ignores_the_host_the_request_came_in_on(app, client, smtp_server):
    page = client.get("/", base_url="http://evil.example")
    token = page.soup.select_one("#csrf_token")["value"]
    response = client.post("/", base_url="http://evil.example", data={"csrf_token": token, "name": "Alice"})
    assert response.status_code == 303
    deliver(app)
    [(_, _, message)] = smtp_server.mailbox.wait_for(1)
    assert "evil.example" not in message.as_string()
    assert "https://flasky.example.com/user/Alice" in parts(message)[0]


def test_a_known_name_sends_nothing(app, greet, client, outbox):
    greet("Alice")
    client.delete_cookie("session")
    client.submit(client.get("/"), "#name-form", name="Alice")
    assert len(outbox()) == 1


def test_no_admin_no_mail(app, greet, outbox):
    app.config["FLASKY_ADMIN"] = None
    greet("Alice")
    assert outbox() == []


def test_many_visitors_submitting_one_new_name_make_one_admin_mail(app, smtp_server, outbox):
    barrier = threading.Barrier(10)

    def submit():
        client = app.test_client()
        page = client.get("/")
        barrier.wait()
        return client.submit(page, "#name-form", htmx=True, name="Racer").status_code

    with ThreadPoolExecutor(10) as pool:
        assert list(pool.map(lambda _: submit(), range(10))) == [200] * 10
    assert len(outbox()) == 1
    deliver(app)
    assert len(smtp_server.mailbox.wait_for(1)) == 1
    deliver(app)  # synchronous: anything it sent has arrived when it returns
    assert len(smtp_server.mailbox.messages) == 1


@pytest.fixture
def worker_app(app_overrides):
    """Run the embedded delivery worker with fast retries."""
    app_overrides.update(FLASKY_MAIL_WORKER=True, FLASKY_MAIL_POLL_SECONDS=0.2, FLASKY_MAIL_RETRY_BASE=0.1,
                         FLASKY_MAIL_RETRY_MAX=0.4)


@pytest.fixture
def smtp_down(app_overrides):
    """Point the app at a port where no SMTP server listens (yet); return that port."""
    app_overrides["MAIL_PORT"] = port = free_port()
    return port


def test_smtp_down_mail_arrives_once_when_it_is_back_without_a_restart(worker_app, smtp_down, app, greet, outbox):
    response = greet("Alice", htmx=True)
    assert response.status_code == 200
    assert response.text_of("greeting-heading") == "Hello, Alice!"
    # Caught between attempts: the worker may already hold it again ("sending") when a single read looks.
    note = wait_until(lambda: next((n for n in outbox() if n.attempts >= 2 and n.status == "pending"), None))
    assert note is not None and len(outbox()) == 1
    assert "ConnectionRefused" in note.last_error
    server = SMTPServer(smtp_down).start()
    try:
        assert len(server.mailbox.wait_for(1)) == 1
        assert wait_until(lambda: outbox()[0].status == "sent")
        time.sleep(1)  # several more worker passes: nothing is sent again
        assert len(server.mailbox.messages) == 1
    finally:
        server.stop()


def test_a_slow_smtp_server_does_not_hold_up_the_page(worker_app, app, greet, smtp_server):
    smtp_server.mailbox.hold = threading.Event()
    greet("Alice", htmx=True)
    assert smtp_server.mailbox.holding.wait(10), "the worker is talking to the server"
    response = greet("Bob", htmx=True)  # answered while the server still holds the first mail
    assert response.status_code == 200
    assert response.text_of("greeting-heading") == "Hello, Bob!"
    assert smtp_server.mailbox.messages == []
    smtp_server.mailbox.hold.set()
    received = smtp_server.mailbox.wait_for(2)
    assert sorted(parts(message)[0].split(": ")[1].split()[0] for _, _, message in received) == ["Alice", "Bob"]


def test_a_5xx_reply_marks_the_message_failed_with_the_reason(app, greet, smtp_server, outbox):
    smtp_server.mailbox.reply = "550 5.1.1 Mailbox unavailable"
    greet("Alice")
    deliver(app)
    [note] = outbox()
    assert note.status == "failed"
    assert note.attempts == 1
    assert note.last_error.startswith("550")
    assert deliver(app) is None, "nothing left to retry"


def test_a_4xx_reply_is_retried_with_backoff(app, greet, smtp_server, outbox):
    smtp_server.mailbox.reply = "451 4.3.0 Try again later"
    greet("Alice")
    deliver(app)
    [note] = outbox()
    assert (note.status, note.attempts) == ("pending", 1)
    assert note.last_error.startswith("451")
    assert 1.0 <= (note.next_attempt_at - utcnow()).total_seconds() <= 2.0
    smtp_server.mailbox.reply = None
    deliver(app)
    assert smtp_server.mailbox.messages == [], "not due yet"
    deliver(app, ignore_schedule=True)
    assert len(smtp_server.mailbox.wait_for(1)) == 1
    assert outbox()[0].status == "sent"


def test_backoff_doubles_up_to_the_cap_and_gives_up_after_max_attempts(smtp_down, app, greet, outbox):
    app.config.update(FLASKY_MAIL_RETRY_BASE=2.0, FLASKY_MAIL_RETRY_MAX=5.0, FLASKY_MAIL_MAX_ATTEMPTS=4)
    greet("Alice")
    delays = []
    for _ in range(4):
        deliver(app, ignore_schedule=True)
        note = outbox()[0]
        delays.append(round((note.next_attempt_at - utcnow()).total_seconds()))
    assert delays[:3] == [2, 4, 5]
    assert (note.status, note.attempts) == ("failed", 4)


def test_a_flood_of_new_names_is_coalesced_into_digests(app, client, smtp_server, outbox):
    app.config.update(FLASKY_MAIL_DIGEST_LIMIT=2, FLASKY_MAIL_DIGEST_WINDOW=600)
    page = client.get("/")

    def arrive(*names):
        for name in names:
            client.submit(page, "#name-form", name=name)
        deliver(app)

    arrive("a1", "a2", "a3", "a4", "a5")
    [(_, _, digest)] = smtp_server.mailbox.wait_for(1)
    assert digest["Subject"] == "[Flasky] New User digest (5)"
    assert all(f"https://flasky.example.com/user/a{i}" in parts(digest)[0] for i in range(1, 6))
    arrive("b1")
    assert smtp_server.mailbox.wait_for(2)[1][2]["Subject"] == "[Flasky] New User"
    arrive("c1", "c2")
    assert len(smtp_server.mailbox.messages) == 2, "the window is full: held back"
    with app.app_context():  # let the window pass
        _db.session.execute(update(OutboxMessage).values(sent_at=utcnow() - timedelta(seconds=601),
                                                         next_attempt_at=utcnow()))
        _db.session.commit()
    deliver(app)
    received = smtp_server.mailbox.wait_for(4)
    assert [message["Subject"] for _, _, message in received[2:]] == ["[Flasky] New User"] * 2
    named = sorted(line.rsplit("/", 1)[1] for _, _, message in received
                   for line in parts(message)[0].splitlines() if "/user/" in line)
    assert named == ["a1", "a2", "a3", "a4", "a5", "b1", "c1", "c2"], "each name in exactly one mail"
    assert {note.status for note in outbox()} == {"sent"}


def test_headers_cannot_carry_control_characters(app, smtp_server):
    with app.app_context():
        with pytest.raises(ValueError, match="control characters"):
            send_email("admin@example.com", "Hi\r\nBcc: evil@example.com", "new_user", username="x")
        with pytest.raises(ValueError, match="control characters"):
            send_email("admin@example.com\nBcc: evil@example.com", "Hi", "new_user", username="x")
        greeting.notify_admin("Mallory\r\nBcc: evil@example.com")  # bypassing the form's own check
        _db.session.commit()
    deliver(app)
    [(_, recipients, message)] = smtp_server.mailbox.wait_for(1)
    assert recipients == ["admin@example.com"]
    assert message["Bcc"] is None
    assert message["Subject"] == "[Flasky] New User"


def test_without_a_mail_server_the_mail_goes_to_the_log(app, greet, caplog, outbox):
    app.config["MAIL_SERVER"] = None
    greet("Alice")
    with caplog.at_level(logging.INFO, logger="flasky.mail"):
        deliver(app)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "mail to admin@example.com not sent: [Flasky] New User" in logged
    assert "https://flasky.example.com/user/Alice" in logged
    assert outbox()[0].status == "sent"


def test_cli_mail_status_and_send_pending(app, greet, smtp_server):
    smtp_server.mailbox.reply = "550 No such user"
    greet("Alice")
    runner = app.test_cli_runner()
    assert "pending: 1" in runner.invoke(args=["mail", "status"]).output
    result = runner.invoke(args=["mail", "send-pending"])
    assert result.exit_code == 1
    assert "failed: 1" in result.output
    status = runner.invoke(args=["mail", "status"]).output
    assert "to admin@example.com after 1 attempt(s): 550 No such user" in status
    smtp_server.mailbox.reply = None
    result = runner.invoke(args=["mail", "send-pending", "--retry-failed"])
    assert result.exit_code == 0, result.output
    assert "sent: 1" in result.output
    assert len(smtp_server.mailbox.wait_for(1)) == 1


@pytest.mark.parametrize("admin_locale, visitor, subject, words", [
    ("en", "zh-CN", "[Flasky] New User", ("Hello,", "A new visitor told Flasky their name: 张三", "See their page")),
    ("zh", "en", "[Flasky] 新用户", ("你好：", "一位新访客告诉了 Flasky 自己的名字：张三", "查看其页面")),
])
def test_the_admin_reads_the_note_in_the_admin_s_language_whatever_the_visitor_s(
    app, client, smtp_server, admin_locale, visitor, subject, words
):
    app.config["FLASKY_ADMIN_LOCALE"] = admin_locale
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = visitor
    client.submit(client.get("/"), "#name-form", htmx=True, name="张三")
    deliver(app)  # outside any request, as the worker thread and Celery run it
    [(_, _, message)] = smtp_server.mailbox.wait_for(1)
    assert message["Subject"] == subject
    text, html = parts(message)
    assert all(word in text for word in words[:2]) and "https://flasky.example.com/user/%E5%BC%A0%E4%B8%89" in text
    assert words[2] in html and f'<html lang="{"zh-CN" if admin_locale == "zh" else "en"}">' in html


def test_a_chinese_digest(app, client, smtp_server):
    app.config.update(FLASKY_ADMIN_LOCALE="zh", FLASKY_MAIL_DIGEST_LIMIT=1)
    page = client.get("/")
    for name in ("甲", "乙", "丙"):
        client.submit(page, "#name-form", name=name)
    deliver(app)
    [(_, _, digest)] = smtp_server.mailbox.wait_for(1)
    assert digest["Subject"] == "[Flasky] 新用户 汇总（3）"
    assert "3 位新访客告诉了 Flasky 他们的名字" in parts(digest)[0]
