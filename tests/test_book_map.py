"""docs/book-map.md names only files, and names in Python files, that exist in this repository."""

import posixpath
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BOOK_MAP = ROOT / "docs" / "book-map.md"

# A backticked token is a repository path when it has a "/" or one of these endings (and nothing a path lacks).
PATH_SUFFIXES = (".py", ".html", ".js", ".css", ".md", ".txt", ".toml")
PATH_CHARACTERS = re.compile(r"[\w.\-/]+")
FENCED_BLOCK = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
# An inline link [text](target "title"), and a reference definition [label]: target.
LINK = re.compile(r"\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"\n]*\")?\s*\)")
REFERENCE = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
# A .py path in backticks (bare or as a link's text), then backticked names separated by commas or spaces only:
# `flasky/main/views.py` `index()`, `greet()` or [`flasky/models.py`](../flasky/models.py) `Role.users`.
IDENTIFIER = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*"
NAMED_IN_FILE = re.compile(
    r"(?:\[`(?P<linked>[^`\s]+\.py)`\]\([^)\s]*\)|`(?P<plain>[^`\s]+\.py)`)"
    rf"(?P<names>(?:[ \t]*,?[ \t]*`{IDENTIFIER}(?:\([^`\n]*\))?`)+)"
)
NAME = re.compile(rf"`({IDENTIFIER})(?:\([^`\n]*\))?`")


def without_fences(markdown):
    """Drop fenced code blocks, whose contents are commands and output, not references."""
    return FENCED_BLOCK.sub("", markdown)


def looks_like_path(token):
    """Tell whether a backticked token names a repository path (not a URL path, command, pattern or extension)."""
    if token.startswith(("/", ".")) or "://" in token or not PATH_CHARACTERS.fullmatch(token):
        return False
    return "/" in token or token.endswith(PATH_SUFFIXES)


def link_path(target, doc_dir="docs"):
    """Return the repository path a link target points at, or None for a URL or an anchor of this page."""
    target = target.split("#", 1)[0].split("?", 1)[0]
    if not target or URL_SCHEME.match(target):
        return None
    if target.startswith("/"):
        return target  # absolute: path_problem() reports it as outside the repository
    return posixpath.normpath(posixpath.join(doc_dir, target))


def referenced_paths(markdown, doc_dir="docs"):
    """Return the sorted repository paths a markdown text names: link targets and path-like backticked tokens."""
    text = without_fences(markdown)
    paths = {token.rstrip("/") for token in CODE_SPAN.findall(text) if looks_like_path(token)}
    targets = [target for _, target in LINK.findall(text)] + REFERENCE.findall(text)
    paths |= {link_path(target, doc_dir) for target in targets} - {None}
    return sorted(paths)


def mismatched_links(markdown, doc_dir="docs"):
    """Return the links whose text is a backticked path other than the one their target points at."""
    mismatched = []
    for label, target in LINK.findall(without_fences(markdown)):
        shown = label.strip()
        if shown.startswith("`") and shown.endswith("`") and looks_like_path(shown.strip("`")):
            if shown.strip("`").rstrip("/") != link_path(target, doc_dir):
                mismatched.append((shown.strip("`"), target))
    return mismatched


def named_definitions(markdown):
    """Return the sorted (path, name) pairs where a name follows a .py path, as in `flasky/main/views.py` `greet()`."""
    pairs = set()
    for line in without_fences(markdown).splitlines():
        for match in NAMED_IN_FILE.finditer(line):
            path = match["linked"] or match["plain"]
            pairs |= {(path, name) for name in NAME.findall(match["names"])}
    return sorted(pairs)


def path_problem(path, root=ROOT):
    """Say what is wrong with a referenced path (outside the repository, or missing), or return None."""
    if path.startswith("/") or path == ".." or path.startswith("../"):
        return f"{path} points outside the repository"
    if not (root / path).exists():
        return f"{path} does not exist"
    return None


def defines(source, name):
    """Tell whether Python source defines a name with def, class or an assignment (each part of a dotted name)."""
    for part in name.split("."):
        word = re.escape(part)
        pattern = rf"^[ \t]*(?:async[ \t]+)?(?:def|class)[ \t]+{word}\b|^[ \t]*{word}[ \t]*(?::[^=\n]*)?=(?!=)"
        if not re.search(pattern, source, re.M):
            return False
    return True


def definition_problem(path, name, root=ROOT):
    """Say what is wrong with a name a .py path is said to define, or return None."""
    problem = path_problem(path, root)
    if problem:
        return problem
    if not defines((root / path).read_text(encoding="utf-8"), name):
        return f"{path} does not define {name}"
    return None


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
