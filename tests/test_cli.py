"""The flask command line: the shell context and `flask test`."""

import os
import subprocess
import sys

FLASK = os.path.join(os.path.dirname(sys.executable), "flask")


def run_flask(*args, cwd, input=None):
    env = {**os.environ, "FLASK_CONFIG": "testing"}
    return subprocess.run([FLASK, "--app", "flasky", *args], cwd=cwd, env=env, input=input,
                          capture_output=True, text=True, timeout=300)


def test_shell_context_preloads_app_db_and_models(app):
    with app.app_context():
        context = app.make_shell_context()
    assert {"app", "db", "User", "Role"} <= set(context)
    assert context["User"].__tablename__ == "users"


def test_flask_shell_runs_with_the_models_loaded(tmp_path):
    result = run_flask("shell", cwd=tmp_path, input="print(User.__tablename__, Role.__tablename__, db.engine.dialect.name)\n")
    assert result.returncode == 0, result.stderr
    assert "users roles sqlite" in result.stdout


def test_flask_test_runs_pytest_and_passes_its_exit_code(tmp_path):
    project = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    passing = run_flask("test", "tests/test_config.py", "-q", "-k", "unknown_config", "-p", "no:cacheprovider", cwd=project)
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed" in passing.stdout
    failing = tmp_path / "test_fails.py"
    failing.write_text("def test_fails():\n    assert False\n")
    result = run_flask("test", str(failing), "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), cwd=project)
    assert result.returncode == 1
    assert "1 failed" in result.stdout
