"""Query budgets that keep the app fast, counted rather than timed: SQL statements per request."""

import pytest

from flasky.live import panel


@pytest.fixture
def state_reads(monkeypatch):
    """Count the live panel's reads of its state, which go to the DBAPI connection, unseen by SQLAlchemy's events."""
    reads = []
    read = panel.current_state
    monkeypatch.setattr(panel, "current_state", lambda engine: reads.append(engine) or read(engine))
    return reads


def test_get_index_sends_one_query_for_the_live_panel_and_three_when_its_state_changed(client, greet, statements,
                                                                                       state_reads):
    greet("Alice")
    statements.clear()
    assert client.get("/").status_code == 200
    assert len(state_reads) == 1 and len(statements) == 2, "the state, then the new state's greetings and count"
    statements.clear()
    assert client.get("/").status_code == 200
    assert client.hx_get("/", boosted=True).status_code == 200
    assert len(state_reads) == 3 and statements == [], "the state only: the panel of that state is kept"


def test_get_index_sends_no_query_without_the_live_panel(app, client, greet, statements, state_reads):
    app.config["FLASKY_LIVE_FEED"] = False
    greet("Alice")
    statements.clear()
    assert client.get("/").status_code == 200
    assert client.hx_get("/", boosted=True).status_code == 200
    assert statements == [] and state_reads == []



def test_htmx_post_of_a_known_name_sends_at_most_two_queries_the_update_and_its_event(greet, statements):
    greet("Alice", htmx=True)
    statements.clear()
    assert greet("Alice", htmx=True).status_code == 200
    assert len(statements) <= 2, statements  # the UPDATE and the greeting's event
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in statements) == 1


def test_htmx_post_of_a_new_name_sends_at_most_four_queries_in_one_transaction(app, greet, statements):
    app.config["FLASKY_ADMIN"] = "admin@example.com"  # the outbox row is part of the budget
    statements.clear()
    assert greet("Alice", htmx=True).status_code == 200
    assert len(statements) <= 4, statements
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in statements) == 3, "user, event, mail"


def test_user_page_sends_one_query(client, greet, statements):
    greet("Alice")
    statements.clear()
    assert client.get("/user/Alice").status_code == 200
    assert len(statements) == 1, statements
