"""The embedded delivery thread: one per app process, woken after each commit that queued mail."""

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from ..extensions import db
from ..schema import schema_watch
from .delivery import deliver_due

logger = logging.getLogger("flasky.mail")


class Worker:
    """A daemon thread that delivers this process's outbox: woken after each commit, polling for retries."""

    def __init__(self, app):
        self.app = app
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        """Start the thread (once); pending mail left by an earlier crash goes out on its first pass."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="flasky-mail", daemon=True)
            self._thread.start()

    def wake(self):
        """Ask for a delivery pass now."""
        self._wake.set()

    def stop(self, timeout=10):
        """Stop the thread after its current pass."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self):
        # A short pause first, so one-off commands (`flask db upgrade`) end before any pass.
        self._wake.wait(min(1.0, self.app.config["FLASKY_MAIL_POLL_SECONDS"]))
        while not self._stop.is_set():
            self._wake.clear()
            self._wake.wait(self.run_pass())

    def run_pass(self):
        """Run one delivery pass in the app's context; return how long to wait before the next one."""
        poll = self.app.config["FLASKY_MAIL_POLL_SECONDS"]
        watch = schema_watch(self.app)
        with self.app.app_context():
            try:
                next_due = deliver_due()
                watch.recheck(db.engine)  # a schema the log said was missing or behind: say when it is fixed
                return poll if next_due is None else min(poll, next_due)
            except SQLAlchemyError as error:  # the database may be down or not migrated yet: keep trying
                if watch.explain(error, db.engine) is None:  # a schema not migrated yet is told once, not every pass
                    logger.warning("Outbox delivery pass failed, retrying in %.1f s: %s", poll,
                                   error.__class__.__name__)
                    logger.debug("Outbox delivery pass failure", exc_info=True)
            except Exception:
                logger.exception("Outbox delivery pass failed, retrying in %.1f s", poll)
            finally:
                db.session.remove()
        return poll
