"""Languages: the visitor's choice (the switcher's cookie), else the best match of Accept-Language, else English.

Catalogs are named by the bare language ("zh"), so every Chinese tag a browser sends (zh-CN, zh, zh-Hans-CN,
zh-SG, and zh-TW/zh-HK too: Simplified is closer to a Traditional reader than English) finds it; pages declare the
full tag (<html lang="zh-CN">, Content-Language).
"""

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from babel.core import negotiate_locale
from flask import current_app, has_request_context, request
from flask_babel import LazyString, force_locale, get_locale, get_translations
from jinja2 import pass_eval_context
from markupsafe import Markup

from .text import has_control_characters

LANGUAGE_COOKIE = "lang"
CATALOGS_KEY = "flasky.catalogs"
FUNCTIONS_KEY = "flasky.template_gettext"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


@dataclass(frozen=True)
class Language:
    """A language the app speaks: its catalog, the tag pages declare, its own name, and moment.js's locale."""

    code: str
    tag: str
    name: str
    moment_locale: str


LANGUAGES = {language.code: language for language in (
    Language("en", "en", "English", "en"),
    Language("zh", "zh-CN", "简体中文", "zh-cn"),
)}
DEFAULT_LANGUAGE = "en"


def best_language(accept_language_values):
    """Return the catalog for a visitor's languages in order of preference (None: none of ours).

    Babel's negotiation, not werkzeug's best_match(): for "zh-CN,en;q=0.8" (Chrome's default) best_match() prefers
    the exact "en" to the primary-tag match "zh"; negotiation goes by the visitor's order.
    """
    found = negotiate_locale(accept_language_values, list(LANGUAGES), sep="-")
    return found.lower() if found and found.lower() in LANGUAGES else None


def select_locale():
    """Choose this request's catalog, for Flask-Babel (outside a request: the default, unless forced)."""
    if not has_request_context():
        return None
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LANGUAGES:
        return chosen
    return best_language([value for value, _ in request.accept_languages])


def current_language():
    """Return the Language of this request (or of force_locale())."""
    locale = get_locale()
    return LANGUAGES.get(locale.language if locale else DEFAULT_LANGUAGE, LANGUAGES[DEFAULT_LANGUAGE])


def remember_choice(response, code):
    """Keep the visitor's language for a year in its own cookie (the session cookie ends with the browser)."""
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=LANGUAGE_COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def same_site_path(target):
    """Return target if it is a path on this site ("/user/Ann?x=1"), else None: the switcher never sends elsewhere."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or has_control_characters(target) or len(target) > 2048:
        return None
    return target


def return_path():
    """Return this page's path and query, percent-encoded: where the switcher comes back to, never raw text."""
    path = quote(request.path, safe="/!$&'()*+,;=:@")
    query = quote(request.query_string, safe="/?&=+%:@!$'()*,;")  # escapes the client sent stay as they are
    return f"{path}?{query}" if query else path


def catalog(code):
    """Return a language's translations, looked up through Flask-Babel once per app and then kept."""
    catalogs = current_app.extensions[CATALOGS_KEY]
    found = catalogs.get(code)
    if found is None:
        with force_locale(code):
            found = catalogs[code] = get_translations()
    return found


def gettext(string, **variables):
    """Translate for Python code, as Flask-Babel's gettext() does, through the catalog kept per language."""
    text = catalog(current_language().code).ugettext(string)
    return text % variables if variables else text


def ngettext(singular, plural, num, **variables):
    """Translate a count for Python code; %(num)d is the count."""
    return catalog(current_language().code).ungettext(singular, plural, num) % {"num": num, **variables}


def lazy_gettext(string, **variables):
    """Translate when the text is used, not when it is defined (form labels, messages at class level)."""
    return LazyString(gettext, string, **variables)


def template_functions(translations):
    """Build gettext and ngettext for templates, bound to one catalog (Jinja's newstyle rules: the variables are
    escaped where the template autoescapes, %(num)d is the count)."""

    @pass_eval_context
    def gettext(eval_context, string, **variables):
        text = translations.ugettext(string)
        if eval_context.autoescape:
            text = Markup(text)
        return text % variables if variables else text

    @pass_eval_context
    def ngettext(eval_context, singular, plural, num, **variables):
        text = translations.ungettext(singular, plural, num)
        if eval_context.autoescape:
            text = Markup(text)
        return text % {"num": num, **variables}

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


def template_context():
    """Give each template the language it renders in and gettext bound to that language's catalog.

    Once per render instead of Flask-Babel's look-up per string (~7 µs each, a dozen strings a page); a template
    rendered under force_locale() (the admin's mail) gets that locale's catalog.
    """
    language = current_language()
    functions = current_app.extensions[FUNCTIONS_KEY]
    bound = functions.get(language.code)
    if bound is None:
        bound = functions[language.code] = template_functions(catalog(language.code))
    return {"language": language, **bound}


def add_content_language(response):
    """Say which language a page or fragment is in (static files are not localised)."""
    if request.endpoint != "static":
        response.headers["Content-Language"] = current_language().tag
    return response


def init_app(app):
    """Give templates their language, gettext bound to its catalog and the switcher's list; label every response."""
    app.extensions[CATALOGS_KEY] = {}
    app.extensions[FUNCTIONS_KEY] = {}
    app.after_request(add_content_language)
    app.context_processor(template_context)
    app.add_template_global(return_path)
    app.add_template_global(LANGUAGES, "languages")
