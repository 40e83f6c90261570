"""The main blueprint: the greeting, user pages and the app-wide error pages (the book's chapter 7 wiring)."""

from flask import Blueprint

bp = Blueprint("main", __name__)

# At the end, as in the book: the modules import bp to register their routes and error handlers on it.
from . import errors, views  # noqa: E402,F401
