"""`flask users`: giving a user a role, and seeding fake visitors."""

import random
import uuid
from functools import partial
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select

from flasky import cli, i18n, text
from flasky.directory import seeding
from flasky.extensions import db as _db
from flasky.main.forms import check_characters
from flasky.models import USERNAME_MAX_LENGTH, Role, User, utcnow
from flasky.directory.seeding import HISTORY, MAX_COUNT, _role


def invoke(app, *args):
    """Run `flask users ...` against the app."""
    return app.test_cli_runner().invoke(args=["users", *args])


def add_users(app, *names):
    """Store users with the default role."""
    with app.app_context():
        _db.session.add_all(User(username=name, role_id=Role.id_of(Role.DEFAULT)) for name in names)
        _db.session.commit()


def role_of(app, name):
    """Return the name of a stored user's role."""
    with app.app_context():
        return _db.session.scalar(select(Role.name).join(User.role).where(User.username == name))


def seeded(app):
    """Return (username, search key, role name, first seen, last seen) of each stored user, in id order."""
    with app.app_context():
        return _db.session.execute(select(User.username, User.search_key, Role.name, User.first_seen, User.last_seen)
                                   .join(User.role).order_by(User.id)).all()


def test_set_role_gives_the_user_the_role(app):
    add_users(app, "Ann", "Bob")
    result = invoke(app, "set-role", "Ann", "Moderator")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Ann is now Moderator.\n"
    assert (role_of(app, "Ann"), role_of(app, "Bob")) == ("Moderator", "User")
    assert invoke(app, "set-role", "Ann", "User").exit_code == 0
    assert role_of(app, "Ann") == "User"


@pytest.mark.parametrize("typed", ["  Zoë ", "Zoe\u0308"], ids=["padded", "NFD"])
def test_set_role_finds_the_name_as_stored(app, typed):
    add_users(app, "Zoë")
    result = invoke(app, "set-role", typed, "Administrator")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Zoë is now Administrator.\n"
    assert role_of(app, "Zoë") == "Administrator"


@pytest.mark.parametrize(("name", "role", "message", "locale"), [
    ("Nobody", "Moderator", "No user is named 'Nobody'.", "C.UTF-8"),
    ("ann", "Moderator", "No user is named 'ann'.", "C.UTF-8"),
    ("Ann", "Wizard", "There is no role 'Wizard'; the roles are User, Moderator, Administrator.", "C.UTF-8"),
    ("Ann", "moderator", "There is no role 'moderator'", "C.UTF-8"),
    ("", "Moderator", "Please give a user's name.", "C.UTF-8"),
    ("   ", "Moderator", "Please give a user's name.", "C.UTF-8"),
    ("Nobody", "Moderator", "没有名为 'Nobody' 的用户。", "zh_CN.UTF-8"),
    ("Ann", "Wizard", "没有角色 'Wizard'；可用的角色是 User, Moderator, Administrator。", "zh_CN.UTF-8"),
    ("  ", "Moderator", "请给出一个用户的名字。", "zh_CN.UTF-8"),
], ids=["unknown name", "other case", "unknown role", "role in lower case", "empty name", "blank name",
        "unknown name, Chinese", "unknown role, Chinese", "blank name, Chinese"])
def test_set_role_refuses_what_it_cannot_find(app, terminal, name, role, message, locale):
    add_users(app, "Ann")
    terminal(LANG=locale)
    result = invoke(app, "set-role", name, role)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output
    assert role_of(app, "Ann") == "User"


@pytest.mark.parametrize(("variables", "language"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "en_GB.UTF-8", "LANGUAGE": "zh_CN:en"}, "zh"),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),
    ({"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, "zh"),
    ({"LANG": "fr_FR.UTF-8"}, "en"),
    ({"LANG": "C.UTF-8"}, "en"),
    ({}, "en"),
    ({"LANG": "!!!"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LC_CTYPE": "C.UTF-8"}, "zh"),
    ({"LANG": "en_US.UTF-8", "LC_CTYPE": "zh_CN.UTF-8"}, "en"),
    ({"LANG": "zh_CN.UTF-8", "LANGUAGE": ""}, "zh"),
    ({"LANG": "zh_TW.UTF-8@latin"}, "zh"),
    ({"LANG": "POSIX", "LC_MESSAGES": ""}, "en"),
], ids=["LANG", "LANGUAGE first", "LC_ALL=C wins", "LC_MESSAGES", "not ours", "C", "nothing", "junk",
        "LC_CTYPE is not the language (Python's PEP 538 coercion)", "LC_CTYPE alone", "empty LANGUAGE", "modifier",
        "POSIX"])
def test_the_terminal_language_is_read_as_gettext_reads_it(terminal, variables, language):
    terminal(**variables)
    assert i18n.terminal_language() == language


def test_set_role_speaks_chinese_on_a_chinese_terminal(app, terminal):
    add_users(app, "Ann")
    terminal(LANG="zh_CN.UTF-8")
    result = invoke(app, "set-role", "Ann", "Moderator")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Ann 现在是协管员。\n"
    assert role_of(app, "Ann") == "Moderator"


def test_seed_speaks_chinese_on_a_chinese_terminal(app, terminal, monkeypatch):
    monkeypatch.setattr(cli, "seed_users", partial(seeding.seed_users, batch_size=100))
    terminal(LANG="zh_CN.UTF-8")
    result = invoke(app, "seed", "300")
    assert result.exit_code == 0, result.output
    *progress, last = result.stdout.splitlines()
    assert progress and all(line.startswith("已添加 ") and line.endswith(" / 300 个名字……") for line in progress)
    assert last.startswith("已添加 300 个名字，用时 ") and last.endswith(" 秒。")
    refused = invoke(app, "seed", "0")
    assert refused.exit_code == 1
    assert f"名字的数量必须在 1 到 {MAX_COUNT:,} 之间，而不是 0。" in refused.stderr
    assert len(seeded(app)) == 300


def test_seed_adds_exactly_that_many_valid_new_names(app):
    add_users(app, "Ann")
    before = utcnow()
    result = invoke(app, "seed", "500")
    after = utcnow()
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("Added 500 names in ") and result.stdout.endswith(" s.\n")
    rows = seeded(app)
    assert len(rows) == 501 and rows[0].username == "Ann"
    new = rows[1:]
    names = [row.username for row in new]
    assert len(set(names)) == 500
    for row in new:
        assert row.search_key == text.search_key(row.username)
        assert text.normalise_name(row.username) == row.username and len(row.username) <= USERNAME_MAX_LENGTH
        check_characters(None, SimpleNamespace(data=row.username))  # the form's rules: raises on a bad name
        assert before - HISTORY <= row.first_seen <= row.last_seen <= after
    assert {row.name for row in new} <= set(Role.NAMES)
    chinese = [name for name in names if not name.isascii()]
    assert 50 <= len(chinese) <= 300
    assert all("\u4e00" <= char <= "\u9fff" for name in chinese for char in name)
    # Spread over the two years, not bunched up.
    assert min(row.first_seen for row in new) < before - HISTORY * 0.9
    assert max(row.last_seen for row in new) > after - HISTORY * 0.1


def test_seed_gives_some_users_higher_roles():
    # Too rare to show in a test-sized run: the shares, drawn as seed_users() draws them.
    rng = random.Random(1)
    drawn = [_role(rng.random()) for _ in range(100_000)]
    assert 700 <= drawn.count(Role.MODERATOR) <= 1300
    assert 50 <= drawn.count(Role.ADMINISTRATOR) <= 150


def test_seeding_again_adds_more_without_collisions(app):
    assert invoke(app, "seed", "300").exit_code == 0
    result = invoke(app, "seed", "300")
    assert result.exit_code == 0, result.output
    assert "Added 300 names" in result.stdout
    names = [row.username for row in seeded(app)]
    assert len(names) == len(set(names)) == 600


def test_seeding_again_with_the_same_seed_still_adds_new_names(app):
    assert invoke(app, "seed", "200", "--seed", "3").exit_code == 0
    assert invoke(app, "seed", "200", "--seed", "3").exit_code == 0
    names = [row.username for row in seeded(app)]
    assert len(names) == len(set(names)) == 400


@pytest.fixture
def other_app(request, make_app, tmp_path):
    """A second testing app on a fresh database of the same kind as `app`'s."""
    backend = request.node.callspec.params["database_url"]
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'other.sqlite'}"
    elif backend == "postgresql":
        url = request.getfixturevalue("postgres").create_database(f"other_{uuid.uuid4().hex}")
    else:  # TEST_DATABASE_URL: the same database, emptied once `app` is done with it
        url = request.getfixturevalue("database_url")
    app = make_app(SQLALCHEMY_DATABASE_URI=url, create_tables=True)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.drop_all()


def test_seed_with_a_seed_is_reproducible_on_a_fresh_database(app, request):
    first = invoke(app, "seed", "300", "--seed", "42")
    assert first.exit_code == 0, first.output
    names_and_roles = [(row.username, row.name) for row in seeded(app)]
    other = request.getfixturevalue("other_app")
    if other.config["SQLALCHEMY_DATABASE_URI"] == app.config["SQLALCHEMY_DATABASE_URI"]:
        with other.app_context():
            _db.session.execute(delete(User))
            _db.session.commit()
    assert invoke(other, "seed", "300", "--seed", "42").exit_code == 0
    assert [(row.username, row.name) for row in seeded(other)] == names_and_roles
    assert invoke(other, "seed", "300", "--seed", "43").exit_code == 0
    assert [row.username for row in seeded(other)][300:] != [name for name, _ in names_and_roles]


def test_seed_honours_the_chinese_share(app):
    assert invoke(app, "seed", "100", "--chinese-share", "0").exit_code == 0
    assert invoke(app, "seed", "100", "--chinese-share", "1").exit_code == 0
    names = [row.username for row in seeded(app)]
    assert all(name.isascii() for name in names[:100])
    assert not any(name.isascii() for name in names[100:])


@pytest.mark.parametrize("count", ["0", "-1", str(MAX_COUNT + 1)])
def test_seed_refuses_a_count_out_of_range(app, count):
    result = invoke(app, "seed", count)
    assert result.exit_code == 1
    assert f"The number of names must be between 1 and {MAX_COUNT:,}" in result.stderr
    assert "Traceback" not in result.output
    assert seeded(app) == []


@pytest.mark.parametrize(("args", "message"), [
    (["seed", "lots"], "'lots' is not a valid integer"),
    (["seed", "10", "--chinese-share", "1.5"], "The share of Chinese names must be between 0 and 1"),
])
def test_seed_refuses_junk(app, args, message):
    result = invoke(app, *args)
    assert result.exit_code != 0
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert seeded(app) == []


def test_seed_prints_progress_sparingly(app, monkeypatch):
    monkeypatch.setattr(cli, "seed_users", partial(seeding.seed_users, batch_size=100))
    result = invoke(app, "seed", "1000")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert 5 <= len(lines) <= 10
    assert all(line.endswith("of 1000 names added...") for line in lines[:-1])
    assert lines[-1].startswith("Added 1000 names in ")
