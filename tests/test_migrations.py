"""Migrations: they build the schema the models describe, from any working directory."""

import os
import pwd
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from flasky.extensions import db
from flasky.models import GRAMS_INDEX, TRIGRAM_INDEX, compared_by_migrations
from flasky.text import search_key
from tests.helpers import drop_schema

ROOT = Path(__file__).resolve().parent.parent


def test_migrations_create_exactly_the_models_schema(make_app, database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        drop_schema()
        upgrade()
        with db.engine.connect() as connection:
            # As `flask db migrate` compares (SQLite's FTS5 tables and PostgreSQL's trigram index are checked below).
            context = MigrationContext.configure(connection, opts={"include_object": compared_by_migrations})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        inspector = inspect(db.engine)
        if db.engine.dialect.name == "postgresql":
            assert {TRIGRAM_INDEX, GRAMS_INDEX} <= {index["name"] for index in inspector.get_indexes("users")}
        else:
            assert {"users_search", "users_search_grams"} <= set(inspector.get_table_names())
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}


def test_flask_db_upgrade_works_from_any_directory(make_app, tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    env = {**os.environ, "FLASK_CONFIG": "development", "DEV_DATABASE_URL": url}
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    result = subprocess.run([flask, "--app", "flasky", "db", "upgrade"], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    app = make_app("development", SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        assert {"roles", "users", "alembic_version"} <= set(inspect(db.engine).get_table_names())


def test_upgrading_stored_users_backfills_search_keys_roles_and_the_search_index(make_app, database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    seen = datetime(2026, 1, 2, 3, 4, 5)
    with app.app_context():
        drop_schema()
        upgrade(revision="0002")
        try:
            with db.engine.begin() as connection:
                connection.execute(text("INSERT INTO roles (name) VALUES ('Administrator')"))
                connection.execute(
                    text("INSERT INTO users (username, role_id, first_seen, last_seen) VALUES (:name, "
                         "(SELECT id FROM roles WHERE name = :role), :seen, :seen)"),
                    [{"name": "Ann", "role": "Administrator", "seen": seen},
                     {"name": "ÅNGSTRÖM Lee", "role": "Administrator", "seen": seen},
                     {"name": "张三丰", "role": None, "seen": seen},
                     {"name": "nobody", "role": None, "seen": seen}])
            upgrade()
            with db.engine.connect() as connection:
                users = connection.execute(text("SELECT users.id, username, search_key, roles.name AS role FROM users "
                                                "JOIN roles ON roles.id = users.role_id ORDER BY users.id")).all()
                roles = connection.execute(text("SELECT name FROM roles ORDER BY name")).scalars().all()
                assert [(user.username, user.search_key, user.role) for user in users] == [
                    ("Ann", "ann", "Administrator"), ("ÅNGSTRÖM Lee", "ångström lee", "Administrator"),
                    ("张三丰", "张三丰", "User"), ("nobody", "nobody", "User")]
                assert all(user.search_key == search_key(user.username) for user in users)
                assert roles == ["Administrator", "Moderator", "User"]
                ids = {user.username: user.id for user in users}
                if db.engine.dialect.name == "sqlite":
                    query = text("SELECT rowid FROM users_search WHERE users_search MATCH :match ORDER BY rowid")
                    assert connection.execute(query, {"match": '"ngs"'}).scalars().all() == [ids["ÅNGSTRÖM Lee"]]
                    assert connection.execute(query, {"match": '"张三丰"'}).scalars().all() == [ids["张三丰"]]
                    assert connection.execute(query, {"match": '"nobody"'}).scalars().all() == [ids["nobody"]]
                    query = text("SELECT rowid FROM users_search_grams WHERE users_search_grams MATCH :gram")
                    for gram, name in (("三丰", "张三丰"), ("å", "ÅNGSTRÖM Lee"), ("y", "nobody")):
                        match = {"gram": f'"{gram.encode().hex()}"'}
                        assert connection.execute(query, match).scalars().all() == [ids[name]]
                else:
                    query = text("SELECT id FROM users WHERE search_key LIKE :pattern ORDER BY id")
                    assert connection.execute(query, {"pattern": "%ngs%"}).scalars().all() == [ids["ÅNGSTRÖM Lee"]]
                    query = text("SELECT id FROM users WHERE flasky_search_grams(search_key) @> ARRAY[:key] ORDER BY id")
                    assert connection.execute(query, {"key": "三丰"}).scalars().all() == [ids["张三丰"]]
                    assert connection.execute(query, {"key": "å"}).scalars().all() == [ids["ÅNGSTRÖM Lee"]]
                    # Without statistics of the expression the planner walks a million names for a rare pair.
                    statistics = text("SELECT count(*) FROM pg_stats WHERE tablename = :index")
                    assert connection.execute(statistics, {"index": GRAMS_INDEX}).scalar_one() == 1
        finally:
            downgrade(revision="base")


def sqlite_folder_cases(tmp_path):
    """Where a SQLite database cannot be made, and what the one line says of its folder."""
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o555)
    (tmp_path / "a-file").write_text("")
    return {"missing": (tmp_path / "missing", "does not exist"), "a-file": (tmp_path / "a-file", "is not a folder"),
            "read-only": (read_only, "is not writable by")}


# Root writes to any folder whatever its mode; without these two capabilities it obeys the mode like any user (the
# suite runs as root in CI). setpriv is util-linux's, on every Debian.
AS_AN_ORDINARY_USER = ["setpriv", "--bounding-set=-dac_override,-dac_read_search"] if os.geteuid() == 0 else []


def start_up(command, env):
    """Run a flask command (the app's start-up first) from the project, as the README's production steps do."""
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.run([*AS_AN_ORDINARY_USER, flask, "--app", "flasky", *command], cwd=ROOT,
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("case", ["missing", "a-file", "read-only"])
@pytest.mark.parametrize("command", [["db", "upgrade"], ["run", "-p", "0"]], ids=["db-upgrade", "run"])
def test_a_sqlite_folder_missing_or_not_writable_is_one_line_and_a_failure(tmp_path, case, command):
    folder, problem = sqlite_folder_cases(tmp_path)[case]
    url = f"sqlite:///{folder / 'data.sqlite'}"
    result = start_up(command, {"FLASK_CONFIG": "production", "SECRET_KEY": "s" * 48, "DATABASE_URL": url,
                                "PYTHONPATH": str(ROOT)})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: The SQLite database's folder {folder} {problem}")
    assert f"(DATABASE_URL={url})" in line and line.endswith("or set DATABASE_URL to a file in a folder "
                                                              f"{pwd.getpwuid(os.geteuid()).pw_name} can write to.")
    assert not (folder / "data.sqlite").exists()
