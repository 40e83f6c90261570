"""The test setup itself: PostgreSQL is required, and its absence is a failure with an install hint."""

import pytest

from tests import postgres


def test_missing_postgresql_binaries_fail_with_an_install_hint(monkeypatch):
    monkeypatch.setenv("PG_BIN", "/nonexistent")
    monkeypatch.setattr(postgres.shutil, "which", lambda name: None)
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with pytest.raises(postgres.PostgresUnavailable, match="apt-get install -y postgresql"):
        postgres.PostgresCluster()


def test_the_run_has_a_postgresql_server(postgres):
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={postgres.port} user=postgres dbname=postgres") as connection:
        assert connection.execute("SHOW fsync").fetchone() == ("off",)
