"""Mail, the book's chapter 6, through an outbox: a caller only ever uses send_email().

    from flasky.outbox import send_email
    send_email(admin, "New User", "new_user", username=name)   # then commit as usual

The message is written to the mail_outbox table in the caller's transaction (queue.py) and delivered after the
commit by one delivery pass (delivery.py, SMTP in smtp.py), which runs in this process's worker thread (worker.py)
or, when CELERY_BROKER_URL is set, in Celery workers (tasks.py, started with celery_worker.py).
"""

from .queue import DELIVERY_KEY, listen_for_commits, queue_email, send_email

__all__ = ["send_email", "queue_email", "init_app"]


def init_app(app):
    """Choose how this app delivers mail: Celery when CELERY_BROKER_URL is set, else the embedded worker thread."""
    listen_for_commits()
    if app.config.get("CELERY_BROKER_URL"):
        from .tasks import init_celery  # Celery is an optional extra: imported only when configured

        app.extensions[DELIVERY_KEY] = init_celery(app)
    elif app.config["FLASKY_MAIL_WORKER"]:
        from .worker import Worker

        worker = app.extensions[DELIVERY_KEY] = Worker(app)
        worker.start()
