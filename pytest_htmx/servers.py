"""Real servers for tests and benchmarks: any command serving HTTP on 127.0.0.1, or gunicorn serving a WSGI app.

Bounded waits, nothing left running::

    from pytest_htmx import Gunicorn

    with Gunicorn("myapp:create_app()", workers=2) as server:   # gunicorn -w 2 -b 127.0.0.1:<free port> ...
        page = requests.get(server.url("/"))
        text_of(page, "greeting")                               # the soup helpers take `requests` responses too
    server.log_text()                                           # what gunicorn and the app logged

`Server(command, port=...)` runs any other command the same way; it is ready when `ready_path` answers 200.
"""

import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

# The running interpreter's scripts folder: where gunicorn, flask and the like of this environment live.
BIN = Path(sys.executable).parent


def free_port():
    """Return a TCP port on 127.0.0.1 that nothing listens on right now (for servers a test or benchmark starts)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """A server process on 127.0.0.1 (its own process group), for tests and benchmarks: bounded waits, nothing left
    running.

    `command` must serve on `port`. `env` is laid over os.environ; the log (stdout and stderr) goes to `log_path`, or a
    temporary file, and stays readable with log_text() after stop(). Starting waits until `ready_path` answers 200.
    """

    def __init__(self, command, *, port, env=None, log_path=None, ready_path="/healthz", ready_timeout=30,
                 stop_timeout=10, cwd=None):
        self.command, self.port = command, port
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, **(env or {})}
        self.log_path, self.ready_path, self.cwd = log_path, ready_path, cwd
        self.ready_timeout, self.stop_timeout = ready_timeout, stop_timeout
        self.process = self._log = self._final_log = None

    def url(self, path=""):
        """Return the URL of a path on this server."""
        return self.base + path

    def start(self):
        """Start the server and wait until it is ready; stop it again if it is not."""
        self._log = open(self.log_path, "w+b") if self.log_path else tempfile.TemporaryFile()
        self._final_log = None
        try:
            # Its own process group, so that stop() can kill the workers with the master.
            self.process = subprocess.Popen(self.command, env=self.env, cwd=self.cwd, stdout=self._log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_until_ready(self):
        """Poll ready_path until it answers 200, failing when the server exits or ready_timeout passes."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # no *_proxy detour for 127.0.0.1
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.command[0]} exited with {self.process.returncode}:\n{self.log_text()}")
            try:
                with opener.open(self.url(self.ready_path), timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:  # answering, not ready yet
                error.close()
            except (OSError, http.client.HTTPException):  # not listening yet, or workers still booting
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.command[0]} gave no 200 at {self.ready_path} in {self.ready_timeout} s:\n"
                           f"{self.log_text()}")

    def stop(self):
        """Stop the server gracefully (SIGTERM), killing its whole process group after stop_timeout seconds."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=self.stop_timeout)
        if self._log is not None:
            self._final_log = self.log_text()
            self._log.close()
        self.process = self._log = None

    def log_text(self):
        """Return what the server and the app logged so far."""
        if self._log is None:
            return self._final_log or ""
        # pread leaves the offset alone, which the server shares and writes at.
        size = os.fstat(self._log.fileno()).st_size
        return os.pread(self._log.fileno(), size, 0).decode(errors="replace")

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()


class Gunicorn(Server):
    """A gunicorn master and its workers serving the WSGI `target` ("module:app" or "module:factory()") on
    127.0.0.1 (a Server); gunicorn 25.1 or later (it passes --no-control-socket)."""

    def __init__(self, target, *, workers=2, worker_class="sync", threads=None,
                 worker_connections=None, keep_alive=None, port=None, **options):
        port = port or free_port()
        settings = [*(["--threads", str(threads)] if threads else []),
                    *(["--worker-connections", str(worker_connections)] if worker_connections else []),
                    *(["--keep-alive", str(keep_alive)] if keep_alive is not None else [])]
        super().__init__([str(BIN / "gunicorn"), "-k", worker_class, "-w", str(workers), *settings,
                          "-b", f"127.0.0.1:{port}", "--no-control-socket", target], port=port, **options)
