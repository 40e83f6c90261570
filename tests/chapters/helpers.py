"""What the chapters' tests share: the two languages, htmx's headers, and the checks every page must pass."""

import importlib
import importlib.util
import sys
from html.parser import HTMLParser
from pathlib import Path

import flask_migrate
import pytest
from bs4 import BeautifulSoup

ROOT = Path(__file__).resolve().parents[2]
STEPS = ["ch02", "ch03", "ch04", "ch05", "ch06", "ch07"]
# Accept-Language → the tag a page must declare.
LANGUAGES = {"en": "en", "zh-CN": "zh-CN"}
HTMX = {"HX-Request": "true"}
ADMIN = "admin@example.com"  # FLASKY_ADMIN of ch06 in the tests
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def step_module(step):
    """One step's module, imported as `flask --app chapters/<step>` imports it."""
    return importlib.import_module(f"chapters.{step}")


def step_app(step):
    """The app of one step."""
    return step_module(step).app


def debug_step_app(step):
    """The app of a second copy of a step's module, imported as `flask --app chapters/<step> run --debug` imports it
    (FLASK_DEBUG=1), under the name chapters_<step>_debug (the first copy stays as the suite imported it)."""
    spec = importlib.util.spec_from_file_location(f"chapters_{step}_debug", ROOT / "chapters" / step / "__init__.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # Flask finds the step's folder (templates/) through it
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("FLASK_DEBUG", "1")
        spec.loader.exec_module(module)
    return module.app


def upgraded(name, environment):
    """Import a step that reads its settings from the environment (ch05, ch06) with these, and bring its database to
    its migrations' head, as flask --app chapters/<step> db upgrade does."""
    with pytest.MonkeyPatch.context() as patch:
        for variable, value in environment.items():
            patch.setenv(variable, value)
        module = step_module(name)
    assert module.app.config["SQLALCHEMY_DATABASE_URI"] == environment["CHAPTERS_DATABASE_URL"], "imported before"
    with module.app.app_context():
        flask_migrate.upgrade()
    return module


def forget_names(module):
    """Delete the names a step (ch05, ch06) stored: each test starts with none."""
    with module.app.app_context():
        module.db.session.execute(module.db.delete(module.User))
        module.db.session.commit()


def headers(language, htmx=False):
    """The request headers of a visitor reading `language`, with htmx's when it swaps."""
    return {"Accept-Language": language, **(HTMX if htmx else {})}


def soup(response):
    """Parse a response's body."""
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response, element_id):
    """The text of the element with this id, whitespace collapsed."""
    element = soup(response).find(id=element_id)
    assert element is not None, f"no #{element_id} in:\n{response.get_data(as_text=True)}"
    return " ".join(element.get_text(" ").split())


class Nesting(HTMLParser):
    """Report elements closed out of order or left open, and any duplicate id."""

    def __init__(self):
        super().__init__()
        self.open, self.problems, self.ids = [], [], set()

    def handle_starttag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id in self.ids:
            self.problems.append(f"duplicate id {element_id}")
        if element_id is not None:
            self.ids.add(element_id)
        if tag not in VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problems.append(f"</{tag}> closes nothing open")


def page_problems(response, language):
    """List what keeps a response from being a sound full page in `language` (empty: none)."""
    html = response.get_data(as_text=True)
    nesting = Nesting()
    nesting.feed(html)
    problems = nesting.problems + [f"<{tag}> left open" for tag in nesting.open]
    page = soup(response)
    description = page.find("meta", attrs={"name": "description"})
    scripts = page.find_all("script")
    expected = {
        "doctype": html.lstrip().lower().startswith("<!doctype html>"),
        "lang": page.html is not None and page.html.get("lang") == LANGUAGES[language],
        "Content-Language": response.headers.get("Content-Language") == LANGUAGES[language],
        "one title": len(page.find_all("title")) == 1 and page.title.get_text(strip=True) != "",
        "description": description is not None and description.get("content", "").strip() != "",
        "bootstrap": page.find("link", href="/static/vendor/bootstrap-5.3.9/bootstrap.min.css") is not None,
        "htmx": page.find("script", src="/static/vendor/htmx-2.0.11/htmx.min.js") is not None,
        "no inline script": all(script.get("src") and not script.string for script in scripts),
        "no other site": all(not (tag.get("src") or tag.get("href") or "").startswith(("http:", "https:", "//"))
                             for tag in page.find_all(["script", "link"])),
        "CSP": "script-src 'self'" in response.headers.get("Content-Security-Policy", ""),
    }
    return problems + [check for check, holds in expected.items() if not holds]


def served_assets(client, response):
    """The status of every script and stylesheet the page links, fetched from the step itself."""
    page = soup(response)
    urls = [tag["src"] for tag in page.find_all("script")] + [tag["href"] for tag in page.find_all("link")]
    statuses = {}
    for url in urls:
        with client.get(url) as answer:
            statuses[url] = answer.status_code
    return statuses


def fragment_ids(response):
    """The ids of a fragment's top-level elements (a fragment has no <html>)."""
    page = soup(response)
    assert page.find("html") is None, "a fragment, not a page"
    return [element.get("id") for element in page.find_all(recursive=False)]


def csrf_token(response):
    """The CSRF token of the name form in a page or fragment."""
    return soup(response).find(id="name-form").find(attrs={"name": "csrf_token"})["value"]


def post_name(client, name, language="en", htmx=False):
    """Post a name through the form of a fresh page, with its CSRF token, as a browser (or htmx) would."""
    token = csrf_token(client.get("/", headers=headers(language)))
    return client.post("/", data={"csrf_token": token, "name": name}, headers=headers(language, htmx))
