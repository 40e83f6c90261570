"""Migrations: they build the schema the models describe, from any working directory."""

import os
import subprocess
import sys

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from flasky.extensions import db
from flasky.models import TRIGRAM_INDEX, compared_by_migrations


def test_migrations_create_exactly_the_models_schema(make_app, database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            # As `flask db migrate` compares (SQLite's FTS5 tables and PostgreSQL's trigram index are checked below).
            context = MigrationContext.configure(connection, opts={"include_object": compared_by_migrations})
            differences = compare_metadata(context, db.metadata)
        assert differences == []
        inspector = inspect(db.engine)
        if db.engine.dialect.name == "postgresql":
            assert TRIGRAM_INDEX in {index["name"] for index in inspector.get_indexes("users")}
        else:
            assert "users_search" in inspector.get_table_names()
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
