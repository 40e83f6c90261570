"""render_once() may only cache templates that use nothing per request but the language, the URL prefix and the
variables its caller passes (its cache key); memoised() likewise only macros that use nothing else but their
arguments."""

import re
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader, meta, nodes

ROOT = Path(__file__).resolve().parent.parent
# What a template rendered once may use: static_url() and url_for(), whose output depends on the URL prefix only,
# the language and its strings, and the list of languages, all of them part of render_once()'s cache key or the same
# for everyone. A CSP nonce, the session, a header or the request would be frozen for everyone.
ALLOWED_NAMES = {"static_url", "url_for", "_", "gettext", "ngettext", "language", "languages"}
CALLS = re.compile(r"render_once\(\s*[\"']([^\"']+)[\"']([^}]*)}}")  # the name, then the rest of the {{ }}


def rendered_once():
    """Map every template the layouts and partials hand to render_once() to the variables its callers pass."""
    sources = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "partials").rglob("*.html")]
    found = {}
    for path in sources:
        for name, arguments in CALLS.findall(path.read_text()):
            found.setdefault(name, set()).update(re.findall(r"\b(\w+)=(?!=)", arguments))
    return found


def per_request_names(app, template_name, passed=frozenset()):
    """Return the names a template uses beyond ALLOWED_NAMES and the passed variables, and the templates it pulls in."""
    source = app.jinja_loader.get_source(app.jinja_env, template_name)[0]
    tree = app.jinja_env.parse(source)
    # Every name read, the environment's globals (request, session, g, config ...) included, less the template's own.
    read = {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"}
    own = {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")}
    return read - own - ALLOWED_NAMES - passed, set(meta.find_referenced_templates(tree))


MEMOISED_CALLS = re.compile(r"{{\s*(\w+)\s*\|\s*memoised\(")


def memoised_macro_templates():
    """Return the templates holding the macros that templates hand to memoised()."""
    found = set()
    for path in [*(ROOT / "templates").rglob("*.html"), *(ROOT / "partials").rglob("*.html")]:
        text = path.read_text()
        for macro in MEMOISED_CALLS.findall(text):
            found.update(re.findall(r'{%-?\s*from\s+"([^"]+)"\s+import\s+[^%]*\b' + macro + r"\b", text))
    return found


def test_the_directory_rows_are_the_memoised_macros():
    assert memoised_macro_templates() == {"partials/directory-row.html"}


@pytest.mark.parametrize("template_name", sorted(memoised_macro_templates()))
def test_a_memoised_macro_uses_only_its_arguments_and_the_language(app, template_name):
    assert per_request_names(app, template_name) == (set(), set())


def test_the_layout_renders_its_asset_tags_once():
    assert rendered_once() == {"layout/assets.html": set()}


@pytest.mark.parametrize("template_name", sorted(rendered_once()))
def test_a_template_rendered_once_uses_nothing_per_request(app, template_name):
    assert per_request_names(app, template_name, rendered_once()[template_name]) == (set(), set())


def test_the_check_catches_a_nonce_a_locale_or_an_include(app, tmp_path):
    doctored = {
        "nonce.html": ('<script nonce="{{ csp_nonce() }}" src="{{ static_url("app.js") }}"></script>', {"csp_nonce"}),
        "locale.html": ('<html lang="{{ get_locale() }}">', {"get_locale"}),
        "request.html": ("{{ request.headers['Accept-Language'] }}{% set v = session.v %}{{ v }}",
                         {"request", "session"}),
        "unpassed.html": ('<a class="{{ "active" if home }}" href="{{ return_path() }}">{{ _("Home") }}</a>',
                          {"home", "return_path"}),
    }
    for name, (source, names) in doctored.items():
        (tmp_path / name).write_text(source)
    (tmp_path / "include.html").write_text('{% include "partials/flashes.html" %}')
    app.jinja_loader = ChoiceLoader([FileSystemLoader(tmp_path), app.jinja_loader])
    for name, (_, names) in doctored.items():
        assert per_request_names(app, name) == (names, set())
    assert per_request_names(app, "unpassed.html", {"home"}) == ({"return_path"}, set())
    assert per_request_names(app, "include.html") == (set(), {"partials/flashes.html"})


def assets_of(page):
    """List the URLs of a page's <link> and <script> tags, in order."""
    return [tag.get("src") or tag.get("href") for tag in page.soup.head.select("link, script")]


def test_the_cached_head_is_the_same_whoever_asks_and_the_language_adds_its_own_script(client):
    first = assets_of(client.get("/"))
    boosted = assets_of(client.get("/", headers={"HX-Boosted": "true", "HX-Request": "true", "Cookie": "session=x"}))
    chinese = assets_of(client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}))
    assert boosted == first and any("/static/app.js?v=" in url for url in first)
    [locale_script] = chinese[len(first):]
    assert chinese[:len(first)] == first and "/static/vendor/moment-2.31.0/locale/zh-cn.js?v=" in locale_script


def navbar_of(page):
    """Return the navbar's Home link state and switcher button, as a visitor meets them."""
    home = page.soup.select_one("#navbar-links .nav-link")
    return home.get("aria-current"), home.get_text(), page.soup.select_one("#language-switcher button").get_text()


def test_the_navbar_follows_the_language_and_the_page(client, greet):
    greet("Ann")
    seen = [navbar_of(client.get(path, headers={"Accept-Language": language}))
            for language in ("en", "zh-CN", "en") for path in ("/", "/user/Ann")]
    english = [("page", "Home", "简体中文"), (None, "Home", "简体中文")]
    assert seen == english + [("page", "首页", "English"), (None, "首页", "English")] + english
