"""Every step runs as the README says (flask --app chapters/<step> …, from the repository's root), and never under a
module name another step, the app or a test could take."""

import gzip
import os
import subprocess
import sys
import tomllib
from contextlib import chdir
from pathlib import Path

import pytest
from flask.cli import prepare_import

from tests.chapters.helpers import LANGUAGES, ROOT, STEPS, headers, step_app, upgraded
from tests.helpers import html_errors

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


def test_every_step_s_pages_are_valid_html(step_environment, tmp_path):
    pages = {}
    for step in STEPS[:-1]:  # ch07 is the main app, whose pages tests/test_hypermedia_contract.py checks
        app = upgraded(step, step_environment).app if step in ("ch05", "ch06") else step_app(step)
        client = app.test_client()
        for language in LANGUAGES:
            for path in ("/", "/user/Ann", "/nowhere"):
                answer = client.get(path, headers=headers(language))
                if step == "ch02" and answer.status_code == 404:
                    continue  # Flask's own 404: the steps' error pages come with ch. 3
                pages[f"{step}{path}-{language}"] = answer.get_data(as_text=True)
    assert len(pages) == 28
    assert html_errors(pages, tmp_path) == []


@pytest.mark.parametrize("step", ["ch02", "ch03", "ch04"])  # ch05 and ch06 too (common.py), imported with their settings
def test_each_step_sends_the_vendored_files_gzip_d_to_browsers_that_take_it(step):
    client = step_app(step).test_client()
    path = "/static/vendor/htmx-2.0.11/htmx.min.js"
    with client.get(path, headers={"Accept-Encoding": "gzip, br"}) as packed, client.get(path) as plain:
        assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
        assert gzip.decompress(packed.data) == plain.data and "Content-Encoding" not in plain.headers
