"""Keep the chapters' catalog in step with their source: python -m chapters.translate update, translate the new
entries in chapters/translations/zh/LC_MESSAGES/messages.po, then python -m chapters.translate compile.

更新 chapters/ 的翻译：先 update，在 messages.po 里翻译新条目，再 compile（.mo 文件要提交）。
"""

import sys
import tempfile
from pathlib import Path

from flasky.cli import pybabel

from chapters.common import HERE, TRANSLATIONS

EXTRACT_ARGS = ["-F", str(HERE / "babel.cfg"), "-k", "_l", "--no-location", "--sort-output", "--no-wrap",
                "--project=Flasky chapters", "--copyright-holder=Flasky"]


def extract_messages(pot_file):
    """Write every marked string of chapters/ to a .pot template."""
    pybabel("extract", *EXTRACT_ARGS, "-o", str(pot_file), str(HERE))


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
