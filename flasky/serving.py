"""The README's production worker: gunicorn's gevent worker, telling the app how many requests it serves at once.

    gunicorn -k flasky.serving.StreamWorker -w 2 --worker-connections 4000 --keep-alive 0 ... "flasky:create_app()"

Every request is a greenlet, so a live stream waiting minutes for the next greeting costs one greenlet and a socket,
not a thread (28 KB measured: docs/performance.md). The worker puts its worker_connections in each request's environ
(flasky.live.capacity.SLOTS_KEY): the app holds streams in at most a share of them and pages keep the rest. It raises
the process's open-file limit to fit them, and when it stops it ends its streams at once, so that browsers reconnect
(each after its own random delay, with their Last-Event-ID) to the workers serving next. docs/architecture.md
(Decisions) says why gevent, and what it means for SQLite, mail and Celery.
"""

import resource
import signal

import gevent
from gunicorn.errors import AppImportError
from gunicorn.workers.ggevent import GeventWorker

from .config import StartupError

from .live.capacity import SLOTS_KEY
from .live.hub import close_hub
from .ratelimit import unshared_limits_warning

# Files a worker needs besides its connections: the listening socket, database files and connections, logs.
SPARE_FILES = 64


class StreamWorker(GeventWorker):
    """Serve each request in a greenlet, telling the app how many this process serves at once."""

    def init_process(self):
        # Until gunicorn installs this worker's signal handlers (after patching for gevent), a SIGTERM reaches the
        # master's handler, inherited with the fork, and is lost: a worker still starting when the server is stopped
        # would then serve on until the master kills it (seen: a stop that took 10 s). Note it from the start.
        signal.signal(signal.SIGTERM, self.stop_once_started)
        self.worker_connections = self.raise_open_files(self.worker_connections)
        super().init_process()  # patches the standard library for gevent, then loads the app and serves

    def stop_once_started(self, sig, frame):
        """Have a worker that is still starting stop as soon as it has (gunicorn's run loop checks `alive`)."""
        self.alive = False

    def load_wsgi(self):
        try:
            super().load_wsgi()
        except StartupError as error:  # a setting to fix: gunicorn prints the one line, no traceback, and stops
            raise AppImportError(error.format_message()) from None
        self.flask_app = self.wsgi
        self.wsgi = with_slots(self.wsgi, self.worker_connections)
        if self.age == 1:  # the master's first worker: said once per master, not again by each worker it restarts
            self.warn_unshared_limits()

    def warn_unshared_limits(self):
        """Warn when the app counts its rate limits in each worker's memory while the master runs several workers."""
        warning = unshared_limits_warning(self.flask_app, self.cfg.workers)
        if warning:
            self.log.warning(warning)

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        self.close_streams()

    def handle_quit(self, sig, frame):
        super().handle_quit(sig, frame)
        self.close_streams()

    def close_streams(self):
        """End the app's streams (none before it is loaded), in a greenlet: a signal handler must not take locks."""
        gevent.spawn(close_hub, getattr(self, "flask_app", None))

    def raise_open_files(self, connections):
        """Raise this process's open-file limit to fit `connections` (up to the hard limit); return how many
        connections fit."""
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        wanted = connections + SPARE_FILES
        if hard != resource.RLIM_INFINITY and wanted > hard:
            fitting = max(hard - SPARE_FILES, 0)
            self.log.warning("Live feed: --worker-connections %d does not fit the open-file limit %d; serving %d "
                             "at once (raise it with ulimit -n)", connections, hard, fitting)
            wanted, connections = hard, fitting
        if wanted > soft:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        return connections


def with_slots(app, slots):
    """Wrap a WSGI app so that each request's environ says how many requests this process serves at once."""

    def application(environ, start_response):
        environ[SLOTS_KEY] = slots
        return app(environ, start_response)

    return application
