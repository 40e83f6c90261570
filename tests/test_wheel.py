"""The package installs as a wheel that carries its templates, partials, static files, migrations and catalogs, and
the pytest-htmx plugin (pytest_htmx/) with its pytest11 entry point."""

import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent

SMOKE = textwrap.dedent(
    """
    from importlib.metadata import entry_points

    import flasky
    import pytest_htmx
    from flasky import create_app
    from flask_migrate import upgrade

    assert "site-packages" in flasky.__file__, flasky.__file__
    assert "site-packages" in pytest_htmx.__file__, pytest_htmx.__file__
    [plugin] = entry_points(group="pytest11", name="htmx")
    assert plugin.value == "pytest_htmx.plugin", plugin
    app = create_app("production", SQLALCHEMY_DATABASE_URI="sqlite:///" + DB)
    with app.app_context():
        upgrade()
    client = app.test_client()
    page = client.get("/")
    assert page.status_code == 200 and "What is your name?" in page.text, page.status_code
    chinese = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert '<html lang="zh-CN">' in chinese.text and "你叫什么名字？" in chinese.text, "the compiled catalog is there"
    fragment = client.get("/", headers={"HX-Request": "true"})
    assert 'id="name-form"' in fragment.text and "<html" not in fragment.text
    with client.get("/static/vendor/htmx-2.0.11/htmx.min.js") as script:
        assert script.status_code == 200
    print("wheel ok")
    """
)


@pytest.mark.slow
def test_wheel_installs_and_serves_from_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, PROJECT],
                   check=True, timeout=300, capture_output=True)
    [wheel] = dist.glob("flasky-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for expected in ("flasky/templates/base.html", "flasky/partials/name-form.html", "flasky/static/app.js",
                     "flasky/static/vendor/htmx-2.0.11/htmx.min.js", "flasky/migrations/env.py",
                     "flasky/migrations/versions/0001_create_roles_and_users.py",
                     "flasky/translations/zh/LC_MESSAGES/messages.mo",
                     "flasky/static/vendor/moment-2.31.0/locale/zh-cn.js", "pytest_htmx/__init__.py",
                     "pytest_htmx/plugin.py", "pytest_htmx/linter.py"):
        assert expected in names
    assert not [name for name in names if name.startswith("chapters/")], "the chapters are for learners, not installs"
    [entry_points] = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
    assert "[pytest11]\nhtmx = pytest_htmx.plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=120)
    python = venv / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "-q", wheel], check=True, timeout=600, capture_output=True)
    env = {**os.environ, "SECRET_KEY": "s" * 48}
    env.pop("PYTHONPATH", None)
    script = f"DB = {str(tmp_path / 'wheel.sqlite')!r}\n" + SMOKE
    result = subprocess.run([python, "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "wheel ok" in result.stdout
