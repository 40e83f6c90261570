"""Static files: URLs that carry a hash of the file's content, and the committed .gz sibling of a vendored file.

Hand-written rather than Flask-Static-Digest, which needs a compile step: docs/architecture.md says why.
"""

import hashlib
import mimetypes
import os
from pathlib import Path

from flask import current_app, request, send_from_directory, url_for
from werkzeug.security import safe_join

from .caching import keep

STATIC_URLS = "flasky.static_urls"
STATIC_DIGESTS = "flasky.static_digests"


def static_url(filename):
    """Return a static file's URL carrying a hash of its content, so browsers may keep it for a year."""
    cache = current_app.extensions[STATIC_URLS]
    key = (request.script_root, filename)
    url = cache.get(key)
    if url is None:
        url = keep(cache, key, url_for("static", filename=filename, v=_digest(filename)))
    return url


def _digest(filename):
    """Hash a static file's content once per app: kept apart from the URLs, so many prefixes never evict it."""
    digests = current_app.extensions[STATIC_DIGESTS]
    digest = digests.get(filename)
    if digest is None:
        digest = hashlib.sha256(Path(current_app.static_folder, filename).read_bytes()).hexdigest()[:12]
        keep(digests, filename, digest)
    return digest


def send_static_file(app, filename):
    """Send a static file, or its pre-compressed .gz sibling when there is one and the client takes gzip."""
    max_age = app.get_send_file_max_age(filename)
    compressed = safe_join(app.static_folder, filename + ".gz")
    if compressed is None or not os.path.isfile(compressed):
        return send_from_directory(app.static_folder, filename, max_age=max_age)
    if request.accept_encodings["gzip"]:
        mimetype = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        response = send_from_directory(app.static_folder, filename + ".gz", max_age=max_age, mimetype=mimetype)
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = send_from_directory(app.static_folder, filename, max_age=max_age)
    response.vary.add("Accept-Encoding")
    return response


def init_app(app):
    """Give the app its URL and digest caches, and static_url() to its templates."""
    app.extensions[STATIC_URLS] = {}
    app.extensions[STATIC_DIGESTS] = {}
    app.add_template_global(static_url)
