"""/healthz and the log against the database's schema (flasky/schema.py): missing, behind, at head or ahead of the
code's migrations, on SQLite and PostgreSQL; what to run is told once per process, however often the load balancer
polls, the mail worker retries, the live feed's tailer reads or visitors ask."""

import logging
import os
import subprocess
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

import flasky
from flasky.extensions import db
from flasky.live.hub import Hub
from flasky.outbox.worker import Worker
from flasky.testing import BIN
from tests.helpers import LIMITS_OFF, REVISIONS

ROOT = Path(flasky.__file__).resolve().parent.parent
HEAD, PREVIOUS = REVISIONS[-1], REVISIONS[-2]
UPGRADE = "run `flask --app flasky db upgrade`"
MISSING_LINE = f"Database schema missing (no migration has run; the code's head is {HEAD}): {UPGRADE}"
BEHIND_LINE = f"Database schema behind (at {PREVIOUS}, the code's head is {HEAD}): {UPGRADE}"
FIXED_LINE = f"Database schema at the code's head {HEAD} again"


@pytest.fixture
def fresh_url(database_url, request):
    """An empty database of each backend: no table, not even alembic_version."""
    if database_url.startswith("postgresql"):
        return request.getfixturevalue("postgres").create_database(f"health_{uuid.uuid4().hex[:8]}")
    return database_url


def flask_db(url, *args):
    """Run `flask --app flasky db ...` on a database, as an operator would."""
    env = {**os.environ, "FLASK_CONFIG": "testing", "TEST_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    result = subprocess.run([str(BIN / "flask"), "--app", "flasky", "db", *args], env=env, cwd=ROOT,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


def schema_lines(caplog):
    return [record.getMessage() for record in caplog.records if record.name == "flasky.schema"]


def health(client, status):
    """GET /healthz a few times, as a load balancer polls; check each answer and return the last body."""
    for _ in range(5):
        answer = client.get("/healthz")
        assert answer.status_code == status
        assert answer.headers["Cache-Control"] == "no-store" and "Set-Cookie" not in answer.headers
        assert ("Retry-After" in answer.headers) == (status == 503)
    return answer.json


def test_healthz_is_503_while_the_schema_is_missing_or_behind_and_says_so_once_each(make_app, fresh_url, caplog):
    client = make_app(SQLALCHEMY_DATABASE_URI=fresh_url).test_client()
    assert health(client, 503) == {"status": "unavailable", "database": "ok", "schema": "missing", "revision": None,
                                   "head": HEAD, "ratelimit": LIMITS_OFF}
    assert schema_lines(caplog) == [MISSING_LINE]
    flask_db(fresh_url, "upgrade", PREVIOUS)
    assert health(client, 503) == {"status": "unavailable", "database": "ok", "schema": "behind",
                                   "revision": PREVIOUS, "head": HEAD, "ratelimit": LIMITS_OFF}
    assert schema_lines(caplog) == [MISSING_LINE, BEHIND_LINE]
    flask_db(fresh_url, "upgrade")
    assert health(client, 200) == {"status": "ok", "database": "ok", "schema": "ok", "revision": HEAD, "head": HEAD,
                                   "ratelimit": LIMITS_OFF}
    assert schema_lines(caplog) == [MISSING_LINE, BEHIND_LINE, FIXED_LINE]
    flask_db(fresh_url, "downgrade")
    assert health(client, 503)["schema"] == "behind"
    assert schema_lines(caplog)[-1] == BEHIND_LINE
    assert "Traceback" not in caplog.text and "Error" not in caplog.text


def test_a_schema_ahead_of_the_code_is_served_as_a_rolling_deploy_s_and_told_once(make_app, fresh_url, caplog):
    flask_db(fresh_url, "upgrade")
    app = make_app(SQLALCHEMY_DATABASE_URI=fresh_url)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '9001_from_a_newer_deploy'"))
    assert health(app.test_client(), 200) == {"status": "ok", "database": "ok", "schema": "ahead",
                                              "revision": "9001_from_a_newer_deploy", "head": HEAD,
                                              "ratelimit": LIMITS_OFF}
    [line] = schema_lines(caplog)
    assert line.startswith("Database schema ahead (at 9001_from_a_newer_deploy, which this code's migrations do not "
                           f"know; its head is {HEAD})")


def test_pages_are_503s_whose_log_names_the_schema_and_tells_what_to_run_once(make_app, fresh_url, caplog):
    client = make_app(SQLALCHEMY_DATABASE_URI=fresh_url).test_client()
    assert client.get("/").status_code == 200, "the home page shows, without its live panel"
    for path in ("/user/Ann", "/users", "/greetings/recent", "/user/Bob"):
        answer = client.get(path)
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "30"
    incidents = [message for record in caplog.records if (message := record.getMessage()).startswith("Database unav")]
    assert len(incidents) == 4 and all(message.endswith(": schema missing") for message in incidents)
    assert schema_lines(caplog) == [MISSING_LINE]
    assert "Error:" not in caplog.text and "Traceback" not in caplog.text


def test_the_mail_worker_tells_a_missing_schema_once_across_its_passes_then_that_it_is_fixed(make_app, fresh_url,
                                                                                           caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=fresh_url, FLASKY_ADMIN="admin@example.com")
    worker = Worker(app)  # not started: its passes are run here, one after another
    caplog.set_level(logging.DEBUG, logger="flasky")
    for _ in range(20):
        assert worker.run_pass() == app.config["FLASKY_MAIL_POLL_SECONDS"]
    assert schema_lines(caplog) == [MISSING_LINE]
    assert [record for record in caplog.records if record.name == "flasky.mail"] == []
    assert all(record.exc_info is None for record in caplog.records)
    flask_db(fresh_url, "upgrade")
    for _ in range(3):
        worker.run_pass()
    assert schema_lines(caplog) == [MISSING_LINE, FIXED_LINE]


def test_the_mail_worker_still_reports_a_database_that_is_down(make_app, tmp_path, caplog):
    (tmp_path / "gone").mkdir()
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'gone' / 'flasky.sqlite'}")
    (tmp_path / "gone").rmdir()
    Worker(app).run_pass()
    [line] = [record.getMessage() for record in caplog.records if record.name == "flasky.mail"]
    assert line == "Outbox delivery pass failed, retrying in 5.0 s: OperationalError"
    assert schema_lines(caplog) == []


def test_the_live_feed_s_tailer_tells_a_missing_schema_once_then_that_it_is_fixed(make_app, fresh_url, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=fresh_url)
    hub = app.extensions[Hub.KEY]
    with app.app_context():
        engine = db.engine
    failing = False
    for _ in range(10):
        failing = hub.tail_once(engine, failing)
        assert failing
    assert schema_lines(caplog) == [MISSING_LINE]
    assert [record for record in caplog.records if record.name == "flasky.live"] == []
    flask_db(fresh_url, "upgrade")
    assert hub.tail_once(engine, failing) is False
    assert schema_lines(caplog) == [MISSING_LINE, FIXED_LINE]
    assert [record for record in caplog.records if record.name == "flasky.live"] == []
