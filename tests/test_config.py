"""Configuration: the factory's choice of config, environment parsing, and production's refusals."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from flasky import create_app
from flasky.config import StartupError, env_bool

STRONG_KEY = "k" * 48


def test_config_name_falls_back_to_flask_config_then_default(monkeypatch):
    monkeypatch.delenv("FLASK_CONFIG", raising=False)
    assert create_app().config["DEBUG"] is True
    monkeypatch.setenv("FLASK_CONFIG", "testing")
    assert create_app().config["TESTING"] is True
    assert create_app("development").config["TESTING"] is False


def test_unknown_config_name_is_refused_with_the_choices():
    with pytest.raises(StartupError, match="choose one of default, development, production, testing"):
        create_app("staging")


def test_a_keyword_override_beats_flask_prefixed_which_beats_the_book_variable(monkeypatch):
    monkeypatch.delenv("FLASK_FLASKY_ADMIN", raising=False)
    monkeypatch.setenv("FLASKY_ADMIN", "book@example.com")
    assert create_app("testing").config["FLASKY_ADMIN"] == "book@example.com"
    monkeypatch.setenv("FLASK_FLASKY_ADMIN", "prefixed@example.com")
    assert create_app("testing").config["FLASKY_ADMIN"] == "prefixed@example.com"
    assert create_app("testing", FLASKY_ADMIN="keyword@example.com").config["FLASKY_ADMIN"] == "keyword@example.com"


def test_settings_are_read_from_the_environment_with_defaults(monkeypatch):
    for name in ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "FLASKY_ADMIN", "FLASKY_MAIL_SENDER"):
        monkeypatch.delenv(name, raising=False)
    app = create_app("testing")
    assert app.config["MAIL_SERVER"] is None
    assert app.config["MAIL_PORT"] == 587
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["FLASKY_MAIL_SUBJECT_PREFIX"] == "[Flasky] "
    assert app.config["FLASKY_MAIL_SENDER"] == "Flasky Admin <flasky@example.com>"
    monkeypatch.setenv("MAIL_SERVER", "smtp.example.com")
    monkeypatch.setenv("MAIL_PORT", "2525")
    monkeypatch.setenv("MAIL_USE_TLS", "false")
    monkeypatch.setenv("MAIL_USE_SSL", "1")
    app = create_app("testing")
    assert (app.config["MAIL_SERVER"], app.config["MAIL_PORT"]) == ("smtp.example.com", 2525)
    assert (app.config["MAIL_USE_TLS"], app.config["MAIL_USE_SSL"]) == (False, True)


@pytest.mark.parametrize("value, expected", [("1", True), ("true", True), ("YES", True), ("on", True),
                                             ("0", False), ("false", False), ("No", False), ("off", False)])
def test_booleans_parse_the_usual_words(monkeypatch, value, expected):
    monkeypatch.setenv("SOME_FLAG", value)
    assert env_bool("SOME_FLAG", default=not expected) is expected


@pytest.mark.parametrize("name, value", [("MAIL_USE_TLS", "maybe"), ("MAIL_PORT", "25x")])
def test_junk_settings_are_refused_by_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(StartupError, match=name):
        create_app("testing")


def test_database_urls_come_from_the_book_variables(monkeypatch, tmp_path):
    monkeypatch.setenv("DEV_DATABASE_URL", f"sqlite:///{tmp_path}/dev.sqlite")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/prod.sqlite")
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    assert create_app("development").config["SQLALCHEMY_DATABASE_URI"].endswith("dev.sqlite")
    assert create_app("production").config["SQLALCHEMY_DATABASE_URI"].endswith("prod.sqlite")


def test_default_database_is_a_sqlite_file_in_the_instance_folder(monkeypatch):
    monkeypatch.delenv("DEV_DATABASE_URL", raising=False)
    app = create_app("development")
    with app.app_context():
        from flasky.extensions import db

        assert db.engine.url.database == f"{app.instance_path}/data-dev.sqlite"


@pytest.mark.parametrize("key", [None, "", "hard to guess string", "short-key", "flasky-dev-key"])
def test_production_refuses_a_missing_short_or_well_known_secret_key(monkeypatch, key):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_SECRET_KEY", raising=False)
    if key is not None:
        monkeypatch.setenv("SECRET_KEY", key)
    with pytest.raises(StartupError, match="SECRET_KEY"):
        create_app("production")


def test_production_refuses_debug(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(StartupError, match="DEBUG"):
        create_app("production")


def test_production_starts_with_a_strong_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", STRONG_KEY)
    app = create_app("production")
    assert app.config["DEBUG"] is False
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize("value, ok", [("en", True), ("zh", True), ("fr", False), ("zh-CN", False)])
def test_the_admin_s_mail_language_must_be_one_the_app_speaks(monkeypatch, value, ok):
    monkeypatch.setenv("FLASKY_ADMIN_LOCALE", value)
    if ok:
        assert create_app("testing").config["FLASKY_ADMIN_LOCALE"] == value
    else:
        with pytest.raises(StartupError, match="FLASKY_ADMIN_LOCALE must be one of en, zh"):
            create_app("testing")


ROOT = Path(__file__).resolve().parent.parent
# Settings the app refuses to start with, and the start of the one line that says why.
REFUSALS = [
    ({"FLASK_CONFIG": "production"}, "SECRET_KEY is missing, shorter than 32 characters or a well-known default"),
    ({"FLASK_CONFIG": "production", "SECRET_KEY": STRONG_KEY, "FLASK_DEBUG": "1"}, "DEBUG must be off in production"),
    ({"FLASK_CONFIG": "production", "SECRET_KEY": STRONG_KEY, "FLASKY_INSPECTOR": "on"},
     "FLASKY_INSPECTOR must be off in production"),
    ({"FLASK_CONFIG": "staging"}, "Unknown configuration 'staging': choose one of"),
    ({"FLASK_CONFIG": "development", "FLASKY_LIVE_STREAMS": "many"}, "FLASKY_LIVE_STREAMS must be a whole number"),
    ({"FLASK_CONFIG": "development", "MAIL_USE_TLS": "perhaps"}, "MAIL_USE_TLS must be true or false"),
]


@pytest.mark.parametrize(("env", "start"), REFUSALS, ids=["no-key", "debug", "inspector", "unknown", "junk-number", "junk-flag"])
def test_a_refused_setting_is_one_line_and_a_failure_for_flask(tmp_path, env, start):
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK", "SECRET_KEY", "MAIL_"))}
    result = subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "flasky", "routes"], cwd=ROOT,
                            env={**clean, "DEV_DATABASE_URL": f"sqlite:///{tmp_path / 'dev.sqlite'}", **env},
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: {start}")
