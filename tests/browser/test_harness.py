"""The browser suite itself: it fails loudly without Chromium, and the README shows the screenshots it commits."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.browser.helpers import DOCS_SCREENSHOTS

PROJECT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_browser_tests_fail_with_install_advice_when_chromium_is_missing(tmp_path):
    env = {**os.environ, "FLASKY_CHROMIUM": str(tmp_path / "no-chromium-here")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q",
         "tests/browser/test_with_js.py::test_enter_in_the_field_submits_the_form"],
        cwd=PROJECT, env=env, capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 1, result.stdout
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert "apt-get install -y chromium" in result.stdout


def test_readme_shows_every_committed_screenshot():
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\]\((docs/screenshots/[^)]+\.png)\)", readme))
    committed = {str(path.relative_to(PROJECT)) for path in DOCS_SCREENSHOTS.glob("*.png")}
    assert committed, "docs/screenshots/ holds the screenshots shown in the README"
    assert shown == committed


def test_console_errors_and_uncaught_exceptions_are_collected(page, live_server, console_errors):
    page.goto("/")
    with page.expect_event("pageerror"):
        page.evaluate(
            "() => { console.error('logged on purpose'); setTimeout(() => { throw new Error('thrown on purpose'); }); }"
        )
    assert len(console_errors.errors) == 2
    assert "logged on purpose" in console_errors.errors[0] and "thrown on purpose" in console_errors.errors[1]
    with pytest.raises(AssertionError, match="reported errors"):
        console_errors.check()
    console_errors.errors.clear()
