"""Command-line additions: the shell context and `flask test`."""

import subprocess
import sys

import click

from .extensions import db
from .models import Role, User


def init_app(app):
    """Register the shell context and commands on the app."""

    @app.shell_context_processor
    def shell_context():
        """Preload what a `flask shell` session needs."""
        return {"app": app, "db": db, "User": User, "Role": Role}

    @app.cli.command("test", context_settings={"ignore_unknown_options": True})
    @click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
    def test(pytest_args):
        """Run the test suite with pytest; extra arguments go to pytest."""
        sys.exit(subprocess.call([sys.executable, "-m", "pytest", *pytest_args]))
