"""Query budgets that keep the app fast, counted rather than timed: SQL statements per request."""

import pytest
from sqlalchemy import event

from flasky.extensions import db as _db


@pytest.fixture
def statements(app):
    """Record the SQL statements the app sends while a test runs."""
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = _db.engine
    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_get_index_sends_no_query(client, greet, statements):
    greet("Alice")
    statements.clear()
    assert client.get("/").status_code == 200
    assert client.hx_get("/", boosted=True).status_code == 200
    assert statements == []


def test_htmx_post_of_a_known_name_sends_at_most_two_queries(greet, statements):
    greet("Alice", htmx=True)
    statements.clear()
    assert greet("Alice", htmx=True).status_code == 200
    assert len(statements) <= 2, statements


def test_htmx_post_of_a_new_name_sends_at_most_three_queries_in_one_transaction(app, greet, statements):
    app.config["FLASKY_ADMIN"] = "admin@example.com"  # the outbox row is part of the budget
    statements.clear()
    assert greet("Alice", htmx=True).status_code == 200
    assert len(statements) <= 3, statements
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in statements) == 2


def test_user_page_sends_one_query(client, greet, statements):
    greet("Alice")
    statements.clear()
    assert client.get("/user/Alice").status_code == 200
    assert len(statements) == 1, statements
