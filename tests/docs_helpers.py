"""Reading the docs' markdown for the tests that keep it true: the paths and names it gives, and the tree it draws.

tests/test_book_map.py checks docs/book-map.md with these; tests/test_architecture_doc.py checks docs/architecture.md.
"""

import posixpath
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# A backticked token is a repository path when it has a "/" or one of these endings (and nothing a path lacks).
PATH_SUFFIXES = (".py", ".html", ".js", ".css", ".md", ".txt", ".toml")
PATH_CHARACTERS = re.compile(r"[\w.\-/]+")
FENCED_BLOCK = re.compile(r"^```.*?^```[^\n]*$", re.M | re.S)
FENCED_BODY = re.compile(r"^```[^\n]*\n(.*?)^```", re.M | re.S)
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
# A tree entry's name: a file or folder name, or a short path inside the folder above ("mail/new_user.txt").
TREE_NAME = re.compile(r"[\w.\-]+(?:/[\w.\-]+)*/?")
# An entry's line: its indentation, its name, then nothing or two spaces or more and a description.
TREE_ENTRY = re.compile(r" *(?P<name>\S+)(?: {2,}\S.*)?")


def without_fences(markdown):
    """Drop fenced code blocks, whose contents are commands and output, not references."""
    return FENCED_BLOCK.sub("", markdown)


def fenced_blocks(markdown):
    """Return the contents of the fenced code blocks, in order."""
    return FENCED_BODY.findall(markdown)


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


def description_column(tree):
    """Return the column where the tree's first line starts its description (after its name and two spaces or more)."""
    match = re.match(r"\S+ {2,}", tree)
    if match is None:
        raise ValueError("the tree's first line has no description after its name")
    return match.end()


def tree_paths(tree):
    """Read a tree drawn as docs/architecture.md draws it; return (the repository paths it names, its problems).

    A line names one entry, left of the description column: a folder ("flasky/", its entries two spaces deeper below
    it), a file, or a short path inside the folder above it ("mail/new_user.txt"); two spaces or more part the name
    from its description. A line indented to the description column or beyond continues the description above it.
    Paths come back without a trailing "/".
    """
    column = description_column(tree)
    paths, problems = [], []
    folders = []  # (indent, name) of the folders the next entry may sit in
    for number, line in enumerate(tree.splitlines(), 1):
        indent = len(line) - len(line.lstrip(" "))
        if not line.strip() or indent >= column:
            continue
        entry = TREE_ENTRY.fullmatch(line.rstrip())
        name = entry["name"] if entry else ""
        if not TREE_NAME.fullmatch(name) or indent % 2:
            problems.append(f"line {number}: {line.strip()[:40]!r} is neither an entry nor a description")
            continue
        while folders and folders[-1][0] >= indent:
            folders.pop()
        if indent != (folders[-1][0] + 2 if folders else 0):
            problems.append(f"line {number}: {name} is not two spaces deeper than a folder above it")
            continue
        path = "/".join([folder for _, folder in folders] + [name.rstrip("/")])
        paths.append(path)
        if name.endswith("/"):
            folders.append((indent, name.rstrip("/")))
    return paths, problems


def python_module_entry(path, package_root):
    """Name a module by its path from the repository root, a package's __init__.py by its package's folder."""
    relative = path.relative_to(package_root.parent)
    return relative.parent.as_posix() if path.name == "__init__.py" else relative.as_posix()


def described_files(root=ROOT):
    """Return what docs/architecture.md's tree must name: each module of flasky/ and pytest_htmx/ (migrations/ aside;
    a package's __init__.py counted as its package), each template (templates/, .html and .txt) and each partial
    (partials/)."""
    modules = {python_module_entry(path, package) for package in (root / "flasky", root / "pytest_htmx")
               for path in package.rglob("*.py") if "migrations" not in path.relative_to(package).parts}
    templates = {path.relative_to(root).as_posix() for suffix in ("*.html", "*.txt")
                 for path in (root / "templates").rglob(suffix)}
    partials = {path.relative_to(root).as_posix() for path in (root / "partials").rglob("*.html")}
    return sorted(modules | templates | partials)
