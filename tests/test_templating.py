"""render_once() may only cache templates that use nothing per request but the URL prefix."""

import re
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, FileSystemLoader, meta, nodes

ROOT = Path(__file__).resolve().parent.parent
# What a template rendered once may use: static_url() and url_for(), whose output depends on the URL prefix only,
# which is render_once()'s cache key. A CSP nonce, the locale, the session or a header would be frozen for everyone.
ALLOWED_NAMES = {"static_url", "url_for"}


def rendered_once():
    """Find every template the layouts and partials hand to render_once()."""
    sources = [*(ROOT / "templates").rglob("*.html"), *(ROOT / "partials").rglob("*.html")]
    calls = re.compile(r"render_once\(\s*[\"']([^\"']+)")
    return sorted({name for path in sources for name in calls.findall(path.read_text())})


def per_request_names(app, template_name):
    """Return the names a template uses beyond ALLOWED_NAMES, and the templates it pulls in."""
    source = app.jinja_loader.get_source(app.jinja_env, template_name)[0]
    tree = app.jinja_env.parse(source)
    # Every name read, the environment's globals (request, session, g, config ...) included, less the template's own.
    read = {name.name for name in tree.find_all(nodes.Name) if name.ctx == "load"}
    own = {name.name for name in tree.find_all(nodes.Name) if name.ctx in ("store", "param")}
    return read - own - ALLOWED_NAMES, set(meta.find_referenced_templates(tree))


def test_the_layout_renders_its_asset_tags_once():
    assert rendered_once() == ["layout/assets.html"]


@pytest.mark.parametrize("template_name", rendered_once())
def test_a_template_rendered_once_uses_nothing_per_request(app, template_name):
    assert per_request_names(app, template_name) == (set(), set())


def test_the_check_catches_a_nonce_a_locale_or_an_include(app, tmp_path):
    doctored = {
        "nonce.html": ('<script nonce="{{ csp_nonce() }}" src="{{ static_url("app.js") }}"></script>', {"csp_nonce"}),
        "locale.html": ('<html lang="{{ get_locale() }}">', {"get_locale"}),
        "request.html": ("{{ request.headers['Accept-Language'] }}{% set v = session.v %}{{ v }}",
                         {"request", "session"}),
    }
    for name, (source, names) in doctored.items():
        (tmp_path / name).write_text(source)
    (tmp_path / "include.html").write_text('{% include "partials/flashes.html" %}')
    app.jinja_loader = ChoiceLoader([FileSystemLoader(tmp_path), app.jinja_loader])
    for name, (_, names) in doctored.items():
        assert per_request_names(app, name) == (names, set())
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
