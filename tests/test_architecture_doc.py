"""docs/architecture.md's tree names every module of flasky/ (migrations aside), every template and every partial,
and the page names no path that does not exist."""

import pytest

from tests.docs_helpers import ROOT, described_files, fenced_blocks, path_problem, referenced_paths, tree_paths

ARCHITECTURE = ROOT / "docs" / "architecture.md"
ARCHITECTURE_TEXT = ARCHITECTURE.read_text(encoding="utf-8")
TREE = fenced_blocks(ARCHITECTURE_TEXT)[0]  # the page opens with the tree
TREE_PATHS, TREE_PROBLEMS = tree_paths(TREE)
NAMED = sorted(set(TREE_PATHS) | set(referenced_paths(ARCHITECTURE_TEXT)))


@pytest.mark.parametrize("path", described_files())
def test_the_tree_names_each_module_template_and_partial(path):
    """Require the tree to name each module of flasky/ (a package by its folder), template and partial."""
    assert path in TREE_PATHS, f"docs/architecture.md's tree leaves out {path}"


@pytest.mark.parametrize("path", NAMED)
def test_every_path_the_page_names_exists(path):
    """Require every path of the tree, and every path the page's text names or links, to exist."""
    assert path_problem(path) is None, f"docs/architecture.md names {path_problem(path)}"


def test_every_line_of_the_tree_is_an_entry_or_a_description():
    """Require each line of the tree to name one entry where a name goes, or to continue a description."""
    assert TREE_PROBLEMS == []


def test_the_tree_is_read_whole():
    """Find the package's own modules, nested ones, the templates and partials, so a broken reader cannot pass."""
    assert {"flasky", "flasky/config.py", "flasky/live/stream.py", "flasky/directory/search.py",
            "templates/mail/new_user.txt", "partials/directory-row.html", "requirements.txt"} <= set(TREE_PATHS)
    assert len(described_files()) >= 60


DOCTORED_TREE = """\
app/              the package
  __init__.py     create_app()
  views/          a blueprint
    search.py     find(): a path-like/word in a description
                  views/ghost.py, continued: a description too
  mail/new.txt    a short path inside its folder
templates/        pages
  base.html
    stray.html    too deep
  two words here
notes.md          top level again
"""


def test_the_tree_reader_nests_entries_and_reports_missing_ones(tmp_path):
    """Read a doctored tree: nesting, continuations and short paths, badly placed lines reported; then find the
    modules, templates and partials it leaves out, migrations aside."""
    paths, problems = tree_paths(DOCTORED_TREE)
    assert paths == ["app", "app/__init__.py", "app/views", "app/views/search.py", "app/mail/new.txt", "templates",
                     "templates/base.html", "notes.md"]
    assert problems == ["line 9: stray.html is not two spaces deeper than a folder above it",
                        "line 10: 'two words here' is neither an entry nor a description"]

    for name in ("flasky/__init__.py", "flasky/views.py", "flasky/live/__init__.py", "flasky/live/hub.py",
                 "flasky/migrations/env.py", "flasky/migrations/versions/0001_x.py", "templates/base.html",
                 "templates/mail/new.txt", "templates/mail/new.html", "partials/row.html"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "templates" / "notes.md").write_text("")
    assert described_files(tmp_path) == ["flasky", "flasky/live", "flasky/live/hub.py", "flasky/views.py",
                                         "partials/row.html", "templates/base.html", "templates/mail/new.html",
                                         "templates/mail/new.txt"]
