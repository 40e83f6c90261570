"""pytest-htmx: test a Flask + htmx app's hypermedia contract at the server, as a pytest plugin.

The `htmx_client` fixture (pytest_htmx.plugin) sends requests as htmx sends them and parses what comes back; the
assertions (pytest_htmx.assertions) say what a fragment, a page, an out-of-band swap, htmx's headers, Vary and an
event stream's wiring must be, and show what was there when they are not; the linter (pytest_htmx.linter) finds
htmx attributes that would fail in the browser. docs/testing-htmx.md has the guide.

Names load on first use, so that importing the package (as pytest does for the plugin) costs nothing.
"""

from importlib import import_module

__all__ = [
    "HtmxClient", "soup_of", "text_of",
    "SSEEvent", "SSEStream", "parse_sse",
    "assert_fragment", "assert_full_page", "assert_oob", "assert_hx_headers", "assert_vary_covers",
    "assert_error_fragment", "assert_sse_wiring",
    "lint", "assert_lint_clean", "Problem", "HTMX_ATTRIBUTES",
    "Server", "Gunicorn", "free_port",
]

# Which module defines each public name.
_HOMES = {
    "HtmxClient": "client", "soup_of": "client", "text_of": "client",
    "SSEEvent": "sse", "SSEStream": "sse", "parse_sse": "sse",
    "assert_fragment": "assertions", "assert_full_page": "assertions", "assert_oob": "assertions",
    "assert_hx_headers": "assertions", "assert_vary_covers": "assertions", "assert_error_fragment": "assertions",
    "assert_sse_wiring": "assertions",
    "lint": "linter", "assert_lint_clean": "linter", "Problem": "linter", "HTMX_ATTRIBUTES": "linter",
    "Server": "servers", "Gunicorn": "servers", "free_port": "servers",
}


def __getattr__(name):
    """Import a public name from its module on first use."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{_HOMES[name]}", __name__), name)


def __dir__():
    return sorted(__all__)
