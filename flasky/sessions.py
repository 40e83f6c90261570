"""Flask's signed-cookie session, minus the cost of building its signing serializer twice per request."""

from flask.sessions import SecureCookieSessionInterface


class SessionInterface(SecureCookieSessionInterface):
    """Sign and check session cookies exactly as Flask does, with one serializer per set of secret keys."""

    def __init__(self):
        self._serializers = {}

    def get_signing_serializer(self, app):
        """Return the serializer Flask would build for the app's current keys, built once per set of keys."""
        keys = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        serializer = self._serializers.get(keys)
        if serializer is None and app.secret_key:
            # Flask's serializer validates its arguments with a trial dumps(): worth doing once, not per request.
            serializer = self._serializers[keys] = super().get_signing_serializer(app)
        return serializer
