"""Celery delivery: web processes only enqueue a pass; Celery workers run it against the same outbox."""

import logging

from celery import Celery, Task
from celery.signals import worker_ready

from . import delivery

logger = logging.getLogger("flasky.mail")
TASK_NAME = "flasky.deliver_outbox"


def deliver_outbox(task):
    """Deliver what is due; schedule the next pass while messages wait for a retry."""
    next_due = delivery.deliver_due()
    if next_due is not None:
        task.apply_async(countdown=max(next_due, 0.1))


class CeleryDelivery:
    """Wake delivery by enqueuing a Celery task instead of waking a thread."""

    def __init__(self, celery):
        self.celery = celery

    def wake(self):
        """Enqueue a delivery pass; if the broker is down the message stays pending in the outbox."""
        try:
            self.celery.tasks[TASK_NAME].apply_async(retry=False)
        except Exception as error:  # the outbox keeps it: the next pass or worker start sends it
            logger.warning("Could not enqueue mail delivery (%s); it stays pending in the outbox", error)


def init_celery(app):
    """Create the Celery app whose tasks run inside this Flask app's context (Flask's documented pattern)."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery = Celery(app.import_name, task_cls=FlaskTask)
    celery.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        task_ignore_result=True,
        broker_connection_retry_on_startup=True,
        broker_connection_timeout=3,
        task_acks_late=True,
    )

    # One module-level callable for every app: Celery refuses a task name bound to two different functions.
    celery.task(name=TASK_NAME, bind=True)(deliver_outbox)
    app.extensions["celery"] = celery
    return CeleryDelivery(celery)


@worker_ready.connect
def _deliver_on_start(sender, **kwargs):
    """Deliver mail left pending while no worker ran, as soon as a worker starts."""
    sender.app.tasks[TASK_NAME].delay()
