"""The directory's SQL: two statements a page, and the index each search and role page reads, on both databases."""

from datetime import datetime

import pytest
from sqlalchemy import select, text, update

from flasky.directory import search
from flasky.extensions import db
from flasky.models import Role, User
from tests.helpers import DIRECTORY_NAMES as NAMES, listed


def test_a_page_costs_two_statements_whatever_it_shows(client, met, statements):
    met(NAMES + [f"user{number:03d}" for number in range(30)], roles={"Bob": Role.MODERATOR})
    for url in ("/users", "/users?q=user", "/users?q=张&role=User", "/users?q=zz"):
        for get in (client.get, client.hx_get):
            statements.clear()
            assert get(url).status_code == 200
            assert len(statements) <= 2, statements


def prepared_plans(app):
    """Return how often PostgreSQL used a generic and a custom plan for each statement prepared on the app's pooled
    connections (pg_prepared_statements is per connection: all of them are checked out at once to read it)."""
    plans = {}
    with app.app_context():
        connections = [db.engine.connect() for _ in range(db.engine.pool.checkedin())]
        try:
            for connection in connections:
                for statement, generic, custom in connection.execute(
                        text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")):
                    plans[statement] = (generic, custom)
        finally:
            for connection in connections:
                connection.close()
    return plans


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_plans_each_search_for_its_pattern_and_keeps_one_plan_for_the_rest(client, met, app):
    met(NAMES)
    for _ in range(15):  # psycopg prepares a statement on its sixth run; PostgreSQL plans it for its values five times
        for query in ({"q": ""}, {"q": "ann"}, {"q": "zqx"}, {"q": "ann", "role": "Moderator"}, {"q": "an"}):
            assert client.get("/users", query_string=query).status_code == 200
    plans = {statement: plan for statement, plan in prepared_plans(app).items() if statement.startswith("SELECT")}
    assert not [statement for statement in plans if " LIKE " in statement or " @> " in statement], (
        "a generic plan cannot see the pattern: for a rare one it walks the whole index")
    assert len(plans) == 2 and all(generic > 0 for generic, _ in plans.values()), "the list's plans are kept"


@pytest.mark.parametrize("by_position", [False, True])
def test_a_role_page_reads_the_role_index_in_the_directory_order(app, met, by_position):
    met(NAMES, roles={"Ann": Role.ADMINISTRATOR})
    with app.app_context():
        dialect = db.engine.dialect.name
        statement = search._rows_statement(dialect, search.NONE, True, search.AFTER, by_position)
        compiled = statement.compile(dialect=db.engine.dialect)
        parameters = {"role": Role.ADMINISTRATOR, "last_seen": datetime(2027, 1, 1), "user_id": 0}
        connection = db.session.connection()
        if dialect == "postgresql":  # a table this small is read whole otherwise; the point is that the index serves
            connection.exec_driver_sql("SET LOCAL enable_seqscan = off")
            explain = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.construct_params(parameters))
            plan = explain.scalars().all()
        else:  # the plan does not depend on the values
            explain = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", (None,) * len(compiled.positiontup))
            plan = [row[-1] for row in explain]
        rows = db.session.execute(statement, parameters).all()
    assert [row.username for row in rows] == ["Ann"]
    assert any("ix_users_role_id_last_seen_id" in line for line in plan), plan
    assert not any("Sort" in line or "TEMP B-TREE" in line for line in plan), "the index gives the order"


SHORT_SEARCH_TESTS = {"postgresql": "flasky_search_grams(users.search_key) @>", "sqlite": "users_search_grams MATCH"}


@pytest.mark.parametrize(("query", "expected"), [
    ("三丰", ["张三丰"]), ("张", ["张三丰"]), ("an", ["Ann", "Anna"]), ("Å", ["Zoë Ångström"]), ("%_", ["50%_off\\x"]),
    ("\\", ["50%_off\\x"]), ("ö ", ["Zoë Ångström"]), ("ss", ["Straße"]), ("ｕｌ", ["Ｆｕｌｌ Width"]), ("zq", []),
])
@pytest.mark.parametrize("role", [None, Role.DEFAULT])
def test_one_and_two_character_keys_are_found_through_their_own_index(app, client, met, statements, query, expected,
                                                                      role):
    met(NAMES)
    statements.clear()
    assert listed(client.get("/users", query_string={"q": query, "role": role or ""})) == expected
    with app.app_context():
        dialect = db.engine.dialect.name
    assert len(statements) == 2 and all(SHORT_SEARCH_TESTS[dialect] in sql for sql in statements), statements


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize("query", ["三丰", "x"])
def test_postgresql_plans_short_searches_on_their_index(app, met, query):
    met(NAMES)
    with app.app_context():
        connection = db.session.connection()
        connection.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a table this small is read whole otherwise
        statement = search._rows_statement("postgresql", search.GRAMS, False, search.AFTER, False)
        compiled = statement.compile(dialect=db.engine.dialect)
        plan = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.construct_params({"key": query}))
        assert any("ix_users_search_key_grams" in line for line in plan.scalars()), "pg_trgm has no trigram here"


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_keeps_the_table_of_characters_and_pairs_in_step_with_users(app, met):
    met(["Ann", "Bob"])
    matching = text("SELECT rowid FROM users_search_grams WHERE users_search_grams MATCH :gram ORDER BY rowid")

    def holding(gram):
        return db.session.execute(matching, {"gram": f'"{gram.encode().hex()}"'}).scalars().all()

    with app.app_context():
        ann, bob = (db.session.scalar(select(User.id).where(User.username == name)) for name in ("Ann", "Bob"))
        assert (holding("a"), holding("an"), holding("n"), holding("b"), holding("ob")) == (
            [ann], [ann], [ann], [bob], [bob])
        db.session.execute(update(User).where(User.id == ann).values(username="Anne", search_key="zoë"))
        assert (holding("an"), holding("oë"), holding("ë")) == ([], [ann], [ann])
        db.session.delete(db.session.get(User, bob))
        db.session.flush()
        assert (holding("b"), holding("ob")) == ([], [])
        db.session.execute(text("INSERT INTO users_search_grams(users_search_grams) VALUES ('integrity-check')"))
