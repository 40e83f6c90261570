"""chapters/ch07: the main app's own factory, found by flask --app chapters/ch07 as flask --app flasky finds it."""

from flask.cli import find_best_app

import flasky
from tests.chapters.helpers import ROOT, step_module


def test_the_step_is_the_main_app_s_factory():
    assert step_module("ch07").create_app is flasky.create_app


def test_flask_builds_the_main_app_from_it(monkeypatch, tmp_path):
    monkeypatch.setenv("DEV_DATABASE_URL", f"sqlite:///{tmp_path / 'flasky.sqlite'}")
    app = find_best_app(step_module("ch07"))
    assert app.import_name == "flasky"
    assert {"main.index", "main.greet", "main.user"} <= set(app.view_functions)


def test_its_note_points_at_the_book_map():
    assert "docs/book-map.md" in step_module("ch07").__doc__
    assert (ROOT / "docs" / "book-map.md").is_file()
