"""docs/book-map.md names only files, and names in Python files, that exist in this repository."""

import pytest

from tests.docs_helpers import (ROOT, definition_problem, mismatched_links, named_definitions, path_problem,
                                referenced_paths)

BOOK_MAP = ROOT / "docs" / "book-map.md"
BOOK_MAP_TEXT = BOOK_MAP.read_text(encoding="utf-8")
PATHS = referenced_paths(BOOK_MAP_TEXT)
DEFINITIONS = named_definitions(BOOK_MAP_TEXT)


@pytest.mark.parametrize("path", PATHS)
def test_named_path_exists(path):
    """Require every path docs/book-map.md names to exist in the repository."""
    assert path_problem(path) is None, f"docs/book-map.md names {path_problem(path)}"


@pytest.mark.parametrize(("path", "name"), DEFINITIONS, ids=[f"{path}:{name}" for path, name in DEFINITIONS])
def test_named_function_is_defined_in_its_file(path, name):
    """Require every name given right after a .py path to be defined in that file."""
    assert definition_problem(path, name) is None, f"docs/book-map.md: {definition_problem(path, name)}"


def test_links_point_at_the_path_they_show():
    """Require a link shown as a path to lead to that same path."""
    assert mismatched_links(BOOK_MAP_TEXT) == []


def test_the_map_names_many_paths_and_functions():
    """Find plenty of paths and names in the map, so a broken extractor cannot pass by finding none."""
    assert len(PATHS) >= 50
    assert len(DEFINITIONS) >= 50


DOCTORED = """\
| § | Here |
| --- | --- |
| 2.2 | [`app/views.py`](../app/views.py) `index()`, `ghost()`: the route `/user/<name>` |
| 3.3 | [`templates/errors/gone.html`](../templates/errors/gone.html), [`app/views.py`](../app/models.py) |
| 5.7 | `app/models.py` `Role.users`, `User` and then `select()`; not the book's *manage.py* |
| 7.4 | `flask --app app run`, `celery -A app.worker worker`, `templates/mail/*.txt`, `.py` |
| 7.6 | [pytest](https://docs.pytest.org/en/stable/index.md), [mail](mailto:admin@example.com) |
| 7.5 | `requirements.txt`, see [the map](book-map.md#top), `redis://127.0.0.1:6379/0` |

```sh
cat ghost/in/a/fence.py
```

[old styles]: ../static/old.css
"""


def test_checker_reports_missing_paths_and_undefined_names(tmp_path):
    """Catch missing paths and undefined names in a doctored map, ignoring URLs, commands and patterns."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "views.py").write_text("def index():\n    pass\n")
    (tmp_path / "app" / "models.py").write_text("class Role:\n    users = None\n")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "book-map.md").write_text(DOCTORED)

    paths = referenced_paths(DOCTORED)
    assert paths == ["app/models.py", "app/views.py", "docs/book-map.md", "requirements.txt", "static/old.css",
                     "templates/errors/gone.html"]
    missing = [path for path in paths if path_problem(path, tmp_path)]
    assert missing == ["requirements.txt", "static/old.css", "templates/errors/gone.html"]

    definitions = named_definitions(DOCTORED)
    assert definitions == [("app/models.py", "Role.users"), ("app/models.py", "User"),
                           ("app/views.py", "ghost"), ("app/views.py", "index")]
    assert [definition_problem(path, name, tmp_path) for path, name in definitions] == [
        None, "app/models.py does not define User", "app/views.py does not define ghost", None]

    assert mismatched_links(DOCTORED) == [("app/views.py", "../app/models.py")]


def test_checker_reports_links_that_leave_the_repository(tmp_path):
    """Report a link that climbs out of the repository instead of looking for it outside."""
    paths = referenced_paths("[elsewhere](../../outside.md) and [root](/etc/hosts)")
    assert [path_problem(path, tmp_path) for path in paths] == [
        "../outside.md points outside the repository", "/etc/hosts points outside the repository"]
