"""chapters/ch06: a mail to the admin for every new name, sent from a thread to a real SMTP server (or logged)."""

import logging

import pytest

from tests.chapters.helpers import ADMIN, headers, page_problems, post_name, text_of

STEP = "ch06"


@pytest.fixture
def app(database_app):
    """The step's app on its temporary database."""
    return database_app


@pytest.fixture
def mailbox(smtp_sink):
    """The SMTP server's mailbox, emptied for this test."""
    smtp_sink.mailbox.messages.clear()
    return smtp_sink.mailbox


def test_the_page(client, language):
    response = client.get("/", headers=headers(language))
    assert page_problems(response, language) == []
    assert text_of(response, "greeting") == {"en": "Hello, Stranger!", "zh-CN": "你好，陌生人！"}[language]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
def test_a_new_name_mails_the_admin_in_the_admin_s_language(client, mailbox, language, htmx):
    assert post_name(client, "Alice", language, htmx=htmx).status_code == (200 if htmx else 303)
    [(sender, recipients, message)] = mailbox.wait_for(1)
    assert (sender, recipients, message["Subject"]) == ("flasky@example.com", [ADMIN], "[Flasky] New User")
    assert message.get_body(("plain",)).get_content().strip() == "User Alice has joined."
    assert message.get_body(("html",)).get_content().strip() == "<p>User Alice has joined.</p>"


def test_an_admin_reading_chinese_gets_the_mail_in_chinese(app, client, mailbox, monkeypatch):
    monkeypatch.setitem(app.config, "FLASKY_ADMIN_LOCALE", "zh")
    post_name(client, "张三")
    [(_, _, message)] = mailbox.wait_for(1)
    assert message["Subject"] == "[Flasky] 新用户"
    assert message.get_body(("plain",)).get_content().strip() == "用户 张三 加入了。"


def test_a_known_name_sends_no_mail(app, client, mailbox):
    post_name(client, "Alice")
    post_name(client, "Alice")
    post_name(client, "Bob")
    assert [message["To"] for _, _, message in mailbox.wait_for(2)] == [ADMIN, ADMIN]
    assert [message.get_body(("plain",)).get_content().strip() for _, _, message in mailbox.messages] == [
        "User Alice has joined.", "User Bob has joined."]


@pytest.mark.parametrize(("setting", "logged"), [("MAIL_SERVER", True), ("FLASKY_ADMIN", False)])
def test_without_a_mail_server_the_mail_is_logged_and_without_an_admin_there_is_none(
        app, client, mailbox, monkeypatch, caplog, setting, logged):
    value = app.config[setting]
    monkeypatch.setitem(app.config, setting, None)
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        assert post_name(client, "Alice").status_code == 303
    assert ("MAIL_SERVER is not set" in caplog.text and "User Alice has joined." in caplog.text) is logged
    assert logged or caplog.text == ""
    monkeypatch.setitem(app.config, setting, value)
    post_name(client, "Bob")  # sent: the first mail the server gets, since nothing was sent for Alice
    assert [message.get_body(("plain",)).get_content().strip() for _, _, message in mailbox.wait_for(1)] == [
        "User Bob has joined."]
