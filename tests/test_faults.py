"""Faults: an unreachable or read-only database gets a 503 and heals by itself; 500s log one line; /healthz."""

import logging

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from flasky import create_app
from flasky.extensions import db as _db
from flasky.testing import free_port
from flasky.text import error_line
from tests.helpers import HEAD, LIMITS_OFF, create_schema, wait_until

UNAVAILABLE = "We cannot store or look up names right now. Please try again in a little while."


def create_tables(app):
    """Create the app's schema (when its database is back)."""
    with app.app_context():
        create_schema()


def submit(app, name, htmx=False):
    """Load the form in a fresh client and submit a name."""
    client = app.test_client()
    return client.submit(client.get("/"), "#name-form", htmx=htmx, name=name)


def assert_unavailable(response, htmx):
    """Check a 503 answer: our text, Retry-After, no stack trace, page or flash fragment."""
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "sqlalchemy" not in body.lower() and "SELECT" not in body
    if htmx:
        assert response.headers["HX-Reswap"] == "none"
        assert response.text_of("flashes").startswith(f"Temporarily unavailable: {UNAVAILABLE} (incident ")
    else:
        assert response.text_of("error-heading") == "Temporarily unavailable"
        assert response.text_of("error-message") == UNAVAILABLE
        assert response.text_of("incident")


def database_log_lines(caplog):
    return [record for record in caplog.records if record.getMessage().startswith("Database unavailable")]


@pytest.mark.parametrize("htmx", [False, True])
def test_a_sqlite_directory_gone_is_a_503_and_the_app_recovers_when_it_is_back(make_app, tmp_path, caplog, htmx):
    (tmp_path / "gone").mkdir()  # the app refuses to start without it (test_migrations.py): it goes while serving
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'gone' / 'flasky.sqlite'}")
    (tmp_path / "gone").rmdir()
    assert_unavailable(submit(app, "Alice", htmx), htmx)
    assert app.test_client().get("/user/Alice").status_code == 503
    health = app.test_client().get("/healthz")
    assert (health.status_code, health.json) == (503, {"status": "unavailable", "database": "unavailable",
                                                       "schema": None, "revision": None, "head": HEAD,
                                                       "ratelimit": LIMITS_OFF})
    assert health.headers["Retry-After"] == "30"
    [line] = database_log_lines(caplog)[:1]
    assert "OperationalError: unable to open database file" in line.getMessage()
    assert line.exc_info is None
    (tmp_path / "gone").mkdir()
    create_tables(app)
    assert submit(app, "Alice", htmx).status_code == (200 if htmx else 303)
    assert app.test_client().get("/user/Alice").status_code == 200
    assert app.test_client().get("/healthz").json == {"status": "ok", "database": "ok", "schema": "ok", "revision": HEAD,
                                                      "head": HEAD, "ratelimit": LIMITS_OFF}


def test_a_read_only_sqlite_database_is_a_503_and_nothing_is_stored(make_app, tmp_path, caplog):
    path = tmp_path / "flasky.sqlite"
    create_tables(make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")
    assert_unavailable(submit(app, "Alice"), htmx=False)
    assert "attempt to write a readonly database" in database_log_lines(caplog)[0].getMessage()
    with app.app_context():
        assert _db.session.scalar(text("SELECT count(*) FROM users")) == 0


def test_postgresql_down_is_a_503_whose_log_line_holds_no_password(make_app, caplog):
    app = make_app(SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://flasky:hunter2secret@127.0.0.1:{free_port()}/x")
    assert_unavailable(submit(app, "Alice", htmx=True), htmx=True)
    assert app.test_client().get("/healthz").status_code == 503
    [line, *_] = database_log_lines(caplog)
    assert "OperationalError" in line.getMessage() and "Connection refused" in line.getMessage()
    assert "hunter2" not in caplog.text


def test_postgresql_restarting_is_a_503_then_the_pool_recovers_by_itself(make_app, postgres):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres.create_database("restart"))
    create_tables(app)
    assert submit(app, "Alice").status_code == 303, "a pooled connection now exists"
    postgres.stop()
    try:
        assert_unavailable(submit(app, "Bob"), htmx=False)
        assert app.test_client().get("/healthz").status_code == 503
    finally:
        postgres.start()
    assert submit(app, "Bob").status_code == 303
    assert app.test_client().get("/healthz").status_code == 200
    with app.app_context():
        assert _db.session.scalars(text("SELECT username FROM users ORDER BY id")).all() == ["Alice", "Bob"]


def backend_pids(postgres, database):
    """Return the server processes serving a database, read over a connection of the test's own."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres", autocommit=True) as conn:
        return conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database]).fetchall()


def terminate_backends(postgres, database):
    """End every server process serving a database, as an administrator's pg_terminate_backend() does, and wait."""
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres", autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [database])
    if not wait_until(lambda: not backend_pids(postgres, database), timeout=5):
        raise AssertionError(f"the backends of {database} outlived pg_terminate_backend()")


@pytest.fixture
def pings(monkeypatch):
    """Count the pings the pool's checks send (each still goes to the server)."""
    sent = []
    ping = PGDialect_psycopg.do_ping

    def counted(dialect, dbapi_connection):
        sent.append(dbapi_connection)
        return ping(dialect, dbapi_connection)

    monkeypatch.setattr(PGDialect_psycopg, "do_ping", counted)
    return sent


def test_a_connection_the_server_ended_is_replaced_before_a_page_uses_it(make_app, postgres, pings):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres.create_database("terminated"))
    create_tables(app)
    assert submit(app, "Alice").status_code == 303, "pooled connections now exist"
    [before] = backend_pids(postgres, "terminated")
    terminate_backends(postgres, "terminated")
    assert app.test_client().get("/user/Alice").status_code == 200, "no 503: the dead connection was not lent"
    assert len(pings) == 1, "its socket turned readable, so it was pinged"
    assert submit(app, "Bob").status_code == 303
    assert before not in backend_pids(postgres, "terminated")


def test_a_connection_in_steady_use_is_lent_without_a_ping_and_an_idle_one_is_pinged(make_app, postgres, pings,
                                                                                      monkeypatch):
    app = make_app(SQLALCHEMY_DATABASE_URI=postgres.create_database("steady"))
    create_tables(app)
    client = app.test_client()
    for _ in range(5):
        assert client.get("/users").status_code == 200
    assert pings == [], "back within seconds, its socket silent: no round trip"
    monkeypatch.setattr("flasky.postgres.STALE_AFTER_SECONDS", 0)
    assert client.get("/users").status_code == 200
    assert len(pings) == 1, "idle past STALE_AFTER_SECONDS: pinged"


def test_healthz_reports_ok_as_json_without_a_session_or_cache(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "schema": "ok", "revision": HEAD, "head": HEAD,
                             "ratelimit": LIMITS_OFF}
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"


def test_a_server_error_logs_one_line_with_the_incident_and_no_secrets(errors_reach_handlers, app, client, caplog):
    def explode():
        raise RuntimeError("database password is hunter2, token abc123")

    app.add_url_rule("/explode", "explode", explode)
    # The level production runs at (a development app in the same process may have left "flasky" at DEBUG).
    with caplog.at_level(logging.INFO, logger=app.logger.name):
        response = client.get("/explode", headers={"Authorization": "Bearer abc123"})
    errors = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(errors) == 1
    [record] = errors
    assert record.getMessage() == f"Server error, incident {response.text_of('incident')}: RuntimeError"
    assert record.exc_info is None and "\n" not in record.getMessage()
    assert "hunter2" not in caplog.text and "abc123" not in caplog.text


def test_the_traceback_is_logged_only_at_debug_level(errors_reach_handlers, app, client, caplog):
    app.add_url_rule("/explode", "explode", lambda: 1 / 0)
    with caplog.at_level(logging.DEBUG, logger=app.logger.name):
        client.get("/explode")
    [traceback] = [record for record in caplog.records if record.levelno == logging.DEBUG and record.exc_info]
    assert traceback.getMessage().startswith("Traceback for incident ")
    assert traceback.exc_info[0] is ZeroDivisionError


def test_sqlite_connections_wait_for_a_busy_writer(make_app, monkeypatch, tmp_path):
    monkeypatch.delenv("SQLITE_BUSY_TIMEOUT_MS", raising=False)
    assert create_app("testing").config["SQLITE_BUSY_TIMEOUT_MS"] == 15000
    monkeypatch.setenv("SQLITE_BUSY_TIMEOUT_MS", "1234")
    app = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'busy.sqlite'}")
    assert app.config["SQLITE_BUSY_TIMEOUT_MS"] == 1234
    with app.app_context():
        assert _db.session.scalar(text("PRAGMA busy_timeout")) == 1234
        assert _db.session.scalar(text("PRAGMA journal_mode")) == "wal"


@pytest.mark.parametrize("error, line", [
    (ConnectionError("refused\nsecond line"), "ConnectionError: refused"),
    (OperationalError("SELECT 1", {}, ValueError("server closed the connection\nDETAIL: x")),
     "ValueError: server closed the connection"),
    (RuntimeError("x" * 500), "RuntimeError: " + "x" * 200),
    (RuntimeError(""), "RuntimeError: "),
])
def test_an_error_in_a_log_line_is_its_driver_s_type_and_first_line(error, line):
    assert error_line(error) == line
