"""Security headers on every response, and the proxy trust that makes request.is_secure and remote_addr true.

A small module rather than Flask-Talisman: we need six fixed headers, and Talisman's defaults (an HTTPS redirect,
overriding SESSION_COOKIE_SECURE, the obsolete X-XSS-Protection) would each have to be switched off again.
"""

from flask import request
from werkzeug.middleware.proxy_fix import ProxyFix

# Everything is served from our own origin; no inline script or style, no eval, no framing.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",  # Bootstrap's icons (navbar toggler, validation) are data: SVGs
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), geolocation=(), microphone=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}
# Sent only over TLS (browsers ignore it on plain HTTP); no includeSubDomains, which would bind sibling hosts too.
STRICT_TRANSPORT_SECURITY = "max-age=31536000"
PROXY_FIX_HEADERS = ("for", "proto", "host", "port", "prefix")


def add_security_headers(response):
    """Add the security headers a view has not set itself, and HSTS when the request came over TLS."""
    headers = response.headers
    present = {name.lower() for name in headers.keys()}  # one pass, rather than a scan per header
    headers.extend([(name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present])
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", STRICT_TRANSPORT_SECURITY)
    return response


def init_app(app):
    """Register the header hook, and trust X-Forwarded-* headers as far as PROXY_FIX_X_* says."""
    app.after_request(add_security_headers)
    hops = {f"x_{name}": app.config.get(f"PROXY_FIX_X_{name.upper()}", 0) for name in PROXY_FIX_HEADERS}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, **hops)
