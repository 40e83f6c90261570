"""The yardstick: a bare Flask route returning a constant 1 KB page, served exactly like Flasky."""

from flask import Flask

PAGE = "<!doctype html><title>hello</title><p>" + "x" * (1024 - 38)

app = Flask(__name__)


@app.get("/")
def hello():
    """Return the constant page."""
    return PAGE
