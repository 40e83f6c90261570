"""The visitors directory: everyone the app has met, searched as you type, filtered by role, a page at a time.

Registered by create_app() only when FLASKY_DIRECTORY is on. As in main/, the views module imports bp, so it comes
last.
"""

from flask import Blueprint

bp = Blueprint("directory", __name__)

from . import views  # noqa: E402,F401
