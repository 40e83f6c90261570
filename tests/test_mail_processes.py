"""Admin mail across processes: a crash loses nothing, and Celery workers deliver from the same outbox."""

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from flasky.outbox import DELIVERY_KEY
from flasky.testing import free_port
from tests.helpers import celery_worker_process, wait_until

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent

CRASHING_APP = textwrap.dedent(
    """
    import os, signal, sys, time
    from flasky import create_app
    from flasky.testing import HtmxClient

    app = create_app()
    app.test_client_class = HtmxClient
    client = app.test_client()
    response = client.submit(client.get("/"), "#name-form", htmx=True, name="Crashy")
    print(response.status_code, flush=True)
    if sys.argv[1] == "after-commit":
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(60)  # the worker thread is stuck on a silent SMTP server; the test kills this process
    """
)


@pytest.fixture
def app_overrides(mail_settings):
    return dict(mail_settings)


def process_env(app, **settings):
    """Environment for a separate process that shares the test app's database and mail settings."""
    config = app.config
    env = {**os.environ, "FLASK_CONFIG": "development", "DEV_DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "MAIL_SERVER": config["MAIL_SERVER"], "MAIL_PORT": str(config["MAIL_PORT"]), "MAIL_USE_TLS": "false",
           "FLASKY_ADMIN": config["FLASKY_ADMIN"], "FLASKY_BASE_URL": config["FLASKY_BASE_URL"]}
    env.update({key: str(value) for key, value in settings.items()})
    return env


@pytest.fixture
def silent_smtp_port():
    """A port that accepts connections and never says a word, like a hung mail server."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.mark.parametrize("moment", ["after-commit", "mid-send"])
def test_a_crash_between_commit_and_send_loses_nothing(app, make_app, smtp_server, silent_smtp_port, mail_settings,
                                                       moment, outbox):
    env = process_env(app, FLASKY_MAIL_WORKER=moment == "mid-send", MAIL_PORT=silent_smtp_port,
                      MAIL_TIMEOUT=30, FLASKY_MAIL_LEASE_SECONDS=1)
    process = subprocess.Popen([sys.executable, "-c", CRASHING_APP, moment], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline().strip() == "200"
        if moment == "mid-send":
            assert wait_until(lambda: outbox()[0].status == "sending"), "the dying process had claimed it"
            process.send_signal(signal.SIGKILL)
        assert process.wait(30) == -signal.SIGKILL
    finally:
        process.kill()
        process.communicate(timeout=10)
    assert [note.status for note in outbox()] == ["pending" if moment == "after-commit" else "sending"]

    make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"], FLASKY_MAIL_WORKER=True,
             FLASKY_MAIL_POLL_SECONDS=0.2, **mail_settings)  # the restart: its worker thread delivers
    [(_, _, message)] = smtp_server.mailbox.wait_for(1)
    assert "Crashy" in message.get_body(("plain",)).get_content()
    assert wait_until(lambda: outbox()[0].status == "sent")
    time.sleep(0.5)
    assert len(smtp_server.mailbox.messages) == 1


@pytest.fixture
def celery_app(app_overrides, redis_url):
    app_overrides["CELERY_BROKER_URL"] = redis_url


@pytest.fixture
def celery_worker(celery_app, app, redis_url, tmp_path):
    """A real Celery worker process delivering the test app's outbox."""
    env = process_env(app, CELERY_BROKER_URL=redis_url, FLASKY_MAIL_RETRY_BASE=0.2, FLASKY_MAIL_RETRY_MAX=0.5)
    with celery_worker_process(env, tmp_path / "celery.log") as log:
        yield log


def test_celery_workers_deliver_and_retry_until_smtp_is_back(celery_worker, app, greet, smtp_server, outbox):
    assert DELIVERY_KEY in app.extensions and "celery" in app.extensions
    assert greet("Alice", htmx=True).status_code == 200
    [(_, recipients, message)] = smtp_server.mailbox.wait_for(1)
    assert recipients == ["admin@example.com"] and "Alice" in message.get_body(("plain",)).get_content()

    smtp_server.stop()
    assert greet("Bob", htmx=True).status_code == 200
    # Caught between attempts: a retry may already hold it again ("sending") when a single read looks.
    assert wait_until(lambda: outbox()[1].attempts >= 2 and outbox()[1].status == "pending"), celery_worker.read_text()
    smtp_server.start()
    received = smtp_server.mailbox.wait_for(2)
    assert "Bob" in received[1][2].get_body(("plain",)).get_content()
    assert wait_until(lambda: [note.status for note in outbox()] == ["sent", "sent"])
    time.sleep(1)
    assert len(smtp_server.mailbox.messages) == 2


def test_web_process_keeps_the_note_when_the_broker_is_down(app, make_app, mail_settings, outbox):
    dead = make_app(SQLALCHEMY_DATABASE_URI=app.config["SQLALCHEMY_DATABASE_URI"],
                    CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0", **mail_settings)
    client = dead.test_client()
    response = client.submit(client.get("/"), "#name-form", htmx=True, name="Alice")
    assert response.status_code == 200
    assert [note.status for note in outbox()] == ["pending"]
