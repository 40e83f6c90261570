"""Every step runs as the README says (flask --app chapters/<step> …, from the repository's root), and never under a
module name another step, the app or a test could take."""

import os
import subprocess
import sys
import tomllib
from contextlib import chdir
from pathlib import Path

import pytest
from flask.cli import prepare_import

from tests.chapters.helpers import ROOT, STEPS

FLASK = Path(sys.executable).with_name("flask")  # the venv's own flask command, as the README runs it


@pytest.mark.slow
@pytest.mark.parametrize("step", STEPS)
def test_flask_app_path_runs_from_the_repository_root(step):
    done = subprocess.run([FLASK, "--app", f"chapters/{step}", "routes"], cwd=ROOT, capture_output=True, text=True,
                          timeout=60, env={**os.environ, "FLASK_DEBUG": "0"})
    assert done.returncode == 0, done.stderr
    assert " /user/<name>" in done.stdout


@pytest.mark.parametrize("step", STEPS)
def test_each_step_is_a_module_of_the_chapters_package(step):
    path = sys.path.copy()
    with chdir(ROOT):
        assert prepare_import(f"chapters/{step}") == f"chapters.{step}"
    sys.path[:] = path


def test_the_suite_collects_nothing_from_chapters():
    options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert options["testpaths"] == ["tests"]
    assert not list((ROOT / "chapters").rglob("test_*.py"))
