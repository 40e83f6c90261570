"""chapters/ch05: names remembered in a database (Flask-SQLAlchemy), its tables made by the step's migration."""

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from tests.chapters.helpers import fragment_ids, headers, page_problems, post_name, text_of

STEP = "ch05"
WORDS = {
    "en": {"hello": "Hello, Alice!", "new": "Pleased to meet you!", "known": "Happy to see you again!",
           "no tables": "The database has no tables yet"},
    "zh-CN": {"hello": "你好，Alice！", "new": "很高兴认识你！", "known": "很高兴再次见到你！", "no tables": "数据库里还没有表"},
}


@pytest.fixture
def app(database_app):
    """The step's app on its temporary database."""
    return database_app


def usernames(step):
    """The names stored, in order."""
    with step.app.app_context():
        return step.db.session.scalars(step.db.select(step.User.username).order_by(step.User.id)).all()


def test_the_migration_builds_exactly_the_models_schema(step):
    with step.app.app_context(), step.db.engine.connect() as connection:
        assert compare_metadata(MigrationContext.configure(connection), step.db.metadata) == []


def test_the_models_are_the_book_s(app, step):
    with app.app_context():
        role = step.Role(name="Administrator")
        user = step.User(username="Alice", role=role)
        step.db.session.add_all([role, user])
        step.db.session.commit()
        assert (repr(role), repr(user), role.users.all()) == ("<Role 'Administrator'>", "<User 'Alice'>", [user])
        step.db.session.delete(user)
        step.db.session.delete(role)
        step.db.session.commit()


def test_the_page(client, language):
    response = client.get("/", headers=headers(language))
    assert page_problems(response, language) == []


def test_without_javascript_a_new_name_then_a_known_one(app, client, step, language):
    assert post_name(client, "Alice", language).status_code == 303
    page = client.get("/", headers=headers(language))
    assert (text_of(page, "greeting"), text_of(page, "known")) == (
        f"{WORDS[language]['hello']} {WORDS[language]['new']}", WORDS[language]["new"])
    assert post_name(client, "Alice", language).status_code == 303
    assert text_of(client.get("/", headers=headers(language)), "known") == WORDS[language]["known"]
    assert usernames(step) == ["Alice"]


def test_with_htmx_the_greeting_says_whether_the_database_knew_the_name(app, client, step, language):
    response = post_name(client, "Alice", language, htmx=True)
    assert fragment_ids(response) == ["name-form", "greeting", "flashes"]
    assert text_of(response, "known") == WORDS[language]["new"]
    assert text_of(post_name(client, "Alice", language, htmx=True), "known") == WORDS[language]["known"]


def test_the_database_not_the_session_knows_a_name(app, step):
    post_name(app.test_client(), "Alice")
    other_visitor = app.test_client()
    post_name(other_visitor, "Alice")
    assert text_of(other_visitor.get("/"), "known") == WORDS["en"]["known"]


@pytest.mark.parametrize("htmx", [False, True], ids=["page", "htmx"])
@pytest.mark.parametrize("name", ["", "   ", "x" * 65, "<b>Bob</b>"], ids=["empty", "spaces", "long", "html"])
def test_a_bad_name_is_a_422_and_stores_nothing(app, client, step, name, htmx):
    response = post_name(client, name, htmx=htmx)
    assert response.status_code == 422
    assert text_of(response, "name-error") != ""
    assert usernames(step) == []


def test_a_database_without_tables_gets_the_command_that_makes_them(app, client, language):
    with app.app_context():
        flask_migrate.downgrade(revision="base")
    try:
        response = post_name(client, "Alice", language)
    finally:
        with app.app_context():
            flask_migrate.upgrade()
    assert response.status_code == 503
    assert page_problems(response, language) == []
    assert text_of(response, "error") == WORDS[language]["no tables"]
    assert text_of(response, "command") == "flask --app chapters/ch05 db upgrade"
