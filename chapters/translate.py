"""Keep the chapters' catalog in step with their source: python -m chapters.translate update, translate the new
entries in chapters/translations/zh/LC_MESSAGES/messages.po, then python -m chapters.translate compile.

更新 chapters/ 的翻译：先 update，在 messages.po 里翻译新条目，再 compile（.mo 文件要提交）。
"""

import sys
import tempfile
from contextlib import chdir
from pathlib import Path

from flasky.cli import pybabel

from chapters.common import HERE, TRANSLATIONS

EXTRACT_ARGS = ["-F", str(HERE / "babel.cfg"), "-k", "_l", "--no-location", "--sort-output", "--no-wrap",
                "--project=Flasky chapters", "--copyright-holder=Flasky"]


# The main app's exchange inspector, which the steps show under flask run --debug (common.py init_inspector()).
INSPECTOR_TEMPLATES = ["templates/inspector", "partials/inspector-exchanges.html"]


def extract_messages(pot_file):
    """Write every marked string of chapters/, and of the inspector's templates, to a .pot template."""
    with chdir(HERE.parent):  # the inspector's paths are the repository's
        pybabel("extract", *EXTRACT_ARGS, "-o", str(pot_file), str(HERE), *INSPECTOR_TEMPLATES)


def update():
    """Extract again and merge into the catalogs (new strings arrive untranslated, gone ones are dropped)."""
    with tempfile.TemporaryDirectory() as folder:
        pot_file = Path(folder) / "messages.pot"
        extract_messages(pot_file)
        pybabel("update", "-i", str(pot_file), "-d", str(TRANSLATIONS), "--no-wrap", "--ignore-obsolete")


def compile_catalogs():
    """Compile the catalogs to the .mo files the steps read (committed: nothing to build after a clone)."""
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


if __name__ == "__main__":
    {"update": update, "compile": compile_catalogs}[sys.argv[1]]()
