"""Languages: the visitor's choice (the switcher's cookie), else the best match of Accept-Language, else English.

Catalogs are named by the bare language ("zh"), so every Chinese tag a browser sends (zh-CN, zh, zh-Hans-CN,
zh-SG, and zh-TW/zh-HK too: Simplified is closer to a Traditional reader than English) finds it; pages declare the
full tag (<html lang="zh-CN">, Content-Language).
"""

import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

from babel.core import negotiate_locale
from flask import current_app, g, has_request_context, request
from flask_babel import LazyString, force_locale, get_translations
from werkzeug.datastructures import LanguageAccept
from werkzeug.http import parse_accept_header
from jinja2 import pass_eval_context
from markupsafe import Markup

from .text import has_control_characters

LANGUAGE_COOKIE = "lang"
VOICES_KEY = "flasky.voices"
VOICE_KEY = "flasky_voice"  # on g: the Voice of this request (or of force_language()), chosen once
# Accept-Language values up to this length have their answer kept (browsers send a few dozen characters); longer
# ones, rare and possibly hostile, are negotiated each time rather than filling the cache.
KEPT_HEADER_LENGTH = 200
PLAIN_PATH = re.compile(r"[A-Za-z0-9/._~-]*")  # characters a path keeps as they are under quote()
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
TERMINAL_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")  # gettext's order: the first set one wins


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
    header = request.headers.get("Accept-Language", "")
    return _language_of(header) if len(header) <= KEPT_HEADER_LENGTH else _negotiate(header)


def _negotiate(header):
    """Return the catalog an Accept-Language value asks for, parsed as werkzeug parses request.accept_languages."""
    return best_language([value for value, _ in parse_accept_header(header, LanguageAccept)])


# Browsers send a handful of distinct values: parsing and negotiating each once saves ~10 µs a request.
_language_of = lru_cache(maxsize=256)(_negotiate)


@dataclass(frozen=True)
class Voice:
    """A Language as one app speaks it: its catalog, and gettext for templates bound to that catalog."""

    language: Language
    translations: object
    template_functions: dict


def voice(code):
    """Return the app's Voice for a language, its catalog looked up through Flask-Babel once per app and kept."""
    voices = current_app.extensions[VOICES_KEY]
    found = voices.get(code)
    if found is None:
        with force_locale(code):
            translations = get_translations()
        found = voices[code] = Voice(LANGUAGES[code], translations, template_functions(translations))
    return found


def current_voice():
    """Return the Voice of this request (or of force_language()), chosen once per request or app context."""
    try:
        found = g.get(VOICE_KEY)
    except RuntimeError:  # outside any app context: no catalog to read
        return None
    if found is None:
        found = voice(select_locale() or DEFAULT_LANGUAGE)
        setattr(g, VOICE_KEY, found)
    return found


def current_language():
    """Return the Language of this request (or of force_language())."""
    found = current_voice()
    return found.language if found else LANGUAGES[DEFAULT_LANGUAGE]


def terminal_language():
    """Return the catalog a terminal's locale asks for, read as gettext reads it (the first set of LANGUAGE, LC_ALL,
    LC_MESSAGES, LANG); English when it names none of ours, "C" included.

    Not LC_CTYPE (Babel's default_locale() reads it before LANG): Python sets it to C.UTF-8 itself where LANG names
    a locale the system lacks (PEP 538), which would hide LANG=zh_CN.UTF-8 on such a machine.
    """
    for name in TERMINAL_VARIABLES:
        value = os.environ.get(name, "")
        if name == "LANGUAGE":
            value = value.split(":")[0]
        if value:
            tag = value.split(".")[0].split("@")[0]
            return (tag not in ("C", "POSIX") and best_language([tag.replace("_", "-")])) or DEFAULT_LANGUAGE
    return DEFAULT_LANGUAGE


@contextmanager
def force_language(code):
    """Speak a given language for a while (the admin's mail), in our helpers and Flask-Babel's alike."""
    previous = g.get(VOICE_KEY)
    setattr(g, VOICE_KEY, voice(code))
    try:
        with force_locale(code):
            yield
    finally:
        if previous is None:
            g.pop(VOICE_KEY, None)
        else:
            setattr(g, VOICE_KEY, previous)


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


def from_this_site():
    """Tell whether a request came from this site's own pages (a page elsewhere can make a visitor's browser post):
    by Sec-Fetch-Site where the browser sends it (same-origin, or none: typed, bookmarked), else by Origin, compared
    with this host. A client that sends neither is no browser on another site's page: it passes."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    return origin is None or same_host(origin, request.host)


def same_host(origin, host):
    """Tell whether an Origin names this Host: its port too when Host has one; by name alone when it has none, as
    behind a proxy that passes the name it was asked for without the port (deploy/nginx/flasky.conf)."""
    origin, host = urlsplit(origin), urlsplit(f"//{host}")
    try:
        if host.port is not None:
            return origin.netloc.lower() == host.netloc.lower()
        origin.port  # noqa: B018  (raises ValueError for a port that is not a number)
    except ValueError:
        return False
    return origin.scheme in ("http", "https") and origin.hostname is not None and origin.hostname == host.hostname


def return_path():
    """Return this page's path and query, percent-encoded: where the switcher comes back to, never raw text."""
    path, query = request.path, request.query_string
    if not query and PLAIN_PATH.fullmatch(path):  # most pages: nothing to encode
        return path
    path = quote(path, safe="/!$&'()*+,;=:@")
    query = quote(query, safe="/?&=+%:@!$'()*,;")  # escapes the client sent stay as they are
    return f"{path}?{query}" if query else path


def gettext(string, translations=None, **variables):
    """Translate for Python code, as Flask-Babel's gettext() does, through the catalog kept per language (or the
    translations given, when the caller already holds them)."""
    if translations is None:
        found = current_voice()
        translations = found.translations if found else None
    text = translations.ugettext(string) if translations else string
    return text % variables if variables else text


def ngettext(singular, plural, num, translations=None, **variables):
    """Translate a count for Python code; %(num)d is the count."""
    if translations is None:
        found = current_voice()
        translations = found.translations if found else None
    text = translations.ungettext(singular, plural, num) if translations else (singular if num == 1 else plural)
    return text % {"num": num, **variables}


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
    rendered under force_language() (the admin's mail) gets that language's catalog.
    """
    found = current_voice()
    return {"language": found.language, "voice": found, **found.template_functions}


def add_content_language(response):
    """Say which language a page or fragment is in (static files are not localised)."""
    if request.endpoint != "static":
        response.headers["Content-Language"] = current_language().tag
    return response


def init_app(app):
    """Give templates their language, gettext bound to its catalog and the switcher's list; label every response."""
    app.extensions[VOICES_KEY] = {}
    app.after_request(add_content_language)
    app.context_processor(template_context)
    app.add_template_global(return_path)
    app.add_template_global(LANGUAGES, "languages")
