"""What every step shares and no chapter of the book teaches: English or Chinese by Accept-Language, the repository's
static files (pre-compressed), the strict Content-Security-Policy, and (from ch. 3 on) Flask-Moment without inline
scripts.

各章共用、书中没有讲的部分：按 Accept-Language 选择英文或中文，使用仓库的 static/ 目录，严格的内容安全策略（CSP），
以及（第 3 章起）不用内联脚本的 Flask-Moment。
"""

import json
from pathlib import Path

from flask import Blueprint, current_app, request, url_for
from flask_babel import Babel, get_locale
from jinja2 import ChoiceLoader, FileSystemLoader, PrefixLoader

from flasky import assets, inspector
from flasky.inspector import recorder
from flasky.security import CONTENT_SECURITY_POLICY
from flasky.templating import StyleFreeMoment

HERE = Path(__file__).resolve().parent
STATIC = HERE.parent / "static"  # the main app's static/: Bootstrap, htmx and moment.js are vendored there once
TRANSLATIONS = HERE / "translations"
LANGUAGES = {"en": "en", "zh": "zh-CN"}  # catalog → the tag pages declare (<html lang>, Content-Language)

# htmx settings, read from <meta name="htmx-config">: a history restore gets the full page, no eval, and a 422 (a
# form with its errors) or a 400 (a form whose CSRF token expired) is swapped like a 200; other errors are not.
HTMX_CONFIG = json.dumps({
    "historyRestoreAsHxRequest": False,
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "2..", "swap": True},
        {"code": "4(00|22)", "swap": True},
        {"code": "...", "swap": False, "error": True},
    ],
})

# chapters/static/chapters.js (sets moment's language and renders times after swaps) and /flask-moment.js.
moment_bp = Blueprint("chapters", __name__, static_folder="static", static_url_path="/chapters/static")


def select_language():
    """Pick English or Chinese from the visitor's Accept-Language (zh, zh-CN, zh-TW … all give Chinese)."""
    return request.accept_languages.best_match(LANGUAGES, default="en")


def language_tag():
    """Return the full tag of the request's language: "en" or "zh-CN"."""
    return LANGUAGES[str(get_locale())]


def add_language_and_policy(response):
    """Say the answer's language, vary caches on it, and forbid inline scripts and styles."""
    response.headers["Content-Language"] = language_tag()
    response.vary.add("Accept-Language")
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    return response


def init_app(app, chapter, summary):
    """Give a step its two languages, the static files, the CSP and the template globals its pages use: its chapter
    number and summary (a lazy string: the meta description of its home page)."""
    Babel(app, locale_selector=select_language, default_translation_directories=str(TRANSLATIONS))
    # The repository's static files as the main app sends them: the vendored ones gzip'd ahead (their .gz siblings).
    app.view_functions["static"] = lambda filename: assets.send_static_file(app, filename)
    app.after_request(add_language_and_policy)
    app.add_template_global(language_tag)
    app.add_template_global(HTMX_CONFIG, "htmx_config")
    app.add_template_global(chapter, "chapter")
    app.add_template_global(summary, "summary")


def reuse_templates(app, *earlier_steps):
    """Look for a template in this step's templates/, then in the earlier steps' (newest first): each step's folder
    holds only the templates it adds or changes."""
    folders = [HERE / step / "templates" for step in earlier_steps]
    app.jinja_loader = ChoiceLoader([app.jinja_loader, *(FileSystemLoader(folder) for folder in folders)])


@moment_bp.route("/flask-moment.js")
def moment_js():
    """Serve Flask-Moment's code as a script file: the CSP allows no inline <script>."""
    return current_app.response_class(StyleFreeMoment.flask_moment_js(), mimetype="text/javascript")


def init_moment(app):
    """Render Flask-Moment's times without inline styles, and serve its code and chapters.js as files."""
    app.extensions["moment"] = StyleFreeMoment  # Flask-Moment's, minus the style="display: none" the CSP refuses
    app.register_blueprint(moment_bp)


def init_inspector(app):
    """Under `flask run --debug` only (ch. 4 on: it keeps its lists in the session), give a step the main app's
    exchange inspector: every page lists its requests, the htmx headers that chose each answer, the view, the status
    and the templates rendered, and /dev/exchanges lists them without JavaScript (flasky/inspector/)."""
    if not app.debug:
        return
    app.config["FLASKY_INSPECTOR"] = True  # base.html shows the panel
    app.register_blueprint(inspector.bp)
    recorder.record_templates(app)
    app.add_template_global(lambda filename: url_for("static", filename=filename), "static_url")
    # The inspector's templates and partial, after the steps' own: nothing of a step's is shadowed.
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(HERE.parent / "templates"),
                                     PrefixLoader({"partials": FileSystemLoader(HERE.parent / "partials")})])
