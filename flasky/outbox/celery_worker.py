"""Entry point for Celery workers: `celery -A flasky.outbox.celery_worker worker` (builds the app on import, by design)."""

from .. import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
