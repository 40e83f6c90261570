"""A throwaway PostgreSQL cluster for the test run: initdb in a temporary directory, a free port, no fsync."""

import glob
import os
import shutil
import subprocess
import tempfile

from flasky.testing import free_port

INSTALL_HINT = (
    "PostgreSQL server binaries (initdb, pg_ctl) were not found, and the test suite runs on PostgreSQL too. "
    "Install them (Debian/Ubuntu: apt-get install -y postgresql), or point PG_BIN at their directory."
)


class PostgresUnavailable(RuntimeError):
    """PostgreSQL cannot be started on this machine."""


def find_bin_dir():
    """Return the directory holding initdb and pg_ctl: PG_BIN, the PATH, or Debian's versioned directories."""
    candidates = [os.environ.get("PG_BIN", "")]
    on_path = shutil.which("pg_ctl")
    if on_path:
        candidates.append(os.path.dirname(on_path))
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version, reverse=True)
    for directory in filter(None, candidates):
        if all(os.access(os.path.join(directory, tool), os.X_OK) for tool in ("initdb", "pg_ctl")):
            return directory
    raise PostgresUnavailable(INSTALL_HINT)


def _version(path):
    """Sort key for /usr/lib/postgresql/<version>/bin."""
    number = path.split("/")[-2]
    return int(number) if number.isdigit() else 0


class PostgresCluster:
    """One PostgreSQL server on 127.0.0.1, trusting local connections, deleted when stopped."""

    def __init__(self):
        self.bin_dir = find_bin_dir()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="flasky-pg-")
        self.data = os.path.join(self.dir, "data")
        # initdb and postgres refuse to run as root: CI runs as root, so run them as the postgres user.
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            shutil.chown(self.dir, "postgres")

    def url(self, database="postgres"):
        """Return the SQLAlchemy URL of a database on this server."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, tool, *args):
        """Run a server tool, raising with its output when it fails."""
        command = [*self.as_user, os.path.join(self.bin_dir, tool), *args]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            log = os.path.join(self.dir, "pg.log")
            tail = open(log).read()[-2000:] if os.path.exists(log) else ""
            raise PostgresUnavailable(f"{tool} failed: {result.stdout}{result.stderr}{tail}")

    def init(self):
        """Create the cluster's data directory."""
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8",
                  "--no-sync")
        return self

    def start(self):
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "pg.log"), "-w", "-o", options, "start")
        return self

    def stop(self):
        """Stop the server at once (its data stays until cleanup)."""
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def create_database(self, name):
        """Create an empty database and return its URL."""
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def cleanup(self):
        """Stop the server if it runs, and delete everything it wrote."""
        try:
            self.stop()
        except PostgresUnavailable:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
