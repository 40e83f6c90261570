"""Static files: the committed .gz sibling of a vendored file for clients that accept gzip, never compressed per request."""

import mimetypes
import os

from flask import request, send_from_directory
from werkzeug.security import safe_join


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
