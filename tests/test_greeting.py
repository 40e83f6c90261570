"""The greeting service and models: new or known is decided by the database, also under a race."""

import threading

from sqlalchemy import func, select

from flasky import greeting
from flasky.models import Role, User


def test_remember_stores_a_new_name_once_and_marks_it_seen_again(db):
    user, is_new = greeting.remember("Alice")
    assert is_new is True
    first_seen = user.first_seen
    again, is_new = greeting.remember("Alice")
    assert is_new is False
    assert again.id == user.id
    assert again.first_seen == first_seen
    assert again.last_seen >= first_seen
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_models_have_readable_reprs_and_a_role_relationship(db):
    role = Role(name="Tester")
    user = User(username="Alice", role=role)
    db.session.add_all([role, user])
    db.session.commit()
    assert repr(role) == "<Role 'Tester'>"
    assert repr(user) == "<User 'Alice'>"
    assert role.users.all() == [user]
    assert user.role is role
    assert user.search_key == "alice", "the model derives the search key when none is given"


def test_the_book_s_roles_exist_and_new_names_get_the_default_one(db):
    assert db.session.scalars(select(Role.name).order_by(Role.id)).all() == ["User", "Moderator", "Administrator"]
    greeting.remember("ZOË Ångström")
    user = db.session.scalar(select(User).where(User.username == "ZOË Ångström"))
    assert (user.role.name, user.search_key) == ("User", "zoë ångström")


def run_at_once(count, target):
    """Start `count` threads that call target() together; return their results or exceptions."""
    barrier = threading.Barrier(count)
    results = []

    def worker():
        barrier.wait()
        try:
            results.append(target())
        except Exception as error:  # collected for the assertion, not swallowed
            results.append(error)

    threads = [threading.Thread(target=worker) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_first_submissions_of_one_name_make_one_row(app, db):
    def remember():
        with app.app_context():
            _, is_new = greeting.remember("Racer")
            return is_new

    results = run_at_once(12, remember)
    assert sorted(results, key=str) == [False] * 11 + [True]
    assert db.session.scalar(select(func.count()).select_from(User)) == 1


def test_concurrent_form_posts_of_one_new_name_all_succeed(app, usernames):
    def post():
        client = app.test_client()
        return client.submit(client.get("/"), "#name-form", htmx=True, name="Racer").status_code

    results = run_at_once(12, post)
    assert results == [200] * 12
    assert usernames() == ["Racer"]
