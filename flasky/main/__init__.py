"""The main blueprint (the book's chapter 7 wiring): the greeting, user pages, the language switcher, Flask-Moment's
script and the app-wide error pages."""

from flask import Blueprint

bp = Blueprint("main", __name__)

# At the end, as in the book: the modules import bp to register their routes and error handlers on it.
from . import errors, views  # noqa: E402,F401
