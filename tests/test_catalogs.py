"""The Chinese catalogs (the app's, and chapters/'s): every marked string translated, none fuzzy, in step with the
source and with its .mo file."""

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from chapters import translate as chapters_translate
from chapters.common import TRANSLATIONS as CHAPTERS_TRANSLATIONS
from flasky.cli import TRANSLATIONS, extract_messages

# Each catalog folder, and how its source is extracted (the command to run when it is out of step).
EXTRACTORS = {
    TRANSLATIONS: (extract_messages, "flask --app flasky translate"),
    CHAPTERS_TRANSLATIONS: (chapters_translate.extract_messages, "python -m chapters.translate"),
}
CATALOGS = sorted(path for folder in EXTRACTORS for path in folder.glob("*/LC_MESSAGES/messages.po"))
ROOT = TRANSLATIONS.parent.parent


def catalog_id(path):
    """Name a catalog by its folder and language: flasky/zh, chapters/zh."""
    return f"{path.relative_to(ROOT).parts[0]}/{path.parts[-3]}"


def read(path, reader=read_po):
    """Read a .po or .mo file into a Babel catalog."""
    with open(path, "rb") as file:
        return reader(file)


def entries(catalog):
    """Map each message id of a catalog (the header aside) to its translation; plurals as tuples."""

    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def test_there_is_a_chinese_catalog_for_the_app_and_one_for_the_chapters():
    assert [catalog_id(path) for path in CATALOGS] == ["chapters/zh", "flasky/zh"]


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_id)
def test_every_string_is_translated_none_fuzzy_and_placeholders_kept(path):
    catalog = read(path)
    untranslated = [message.id for message in catalog if message.id and not all(
        message.string if isinstance(message.string, tuple) else [message.string])]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert (untranslated, fuzzy) == ([], [])
    assert [(message.id, [str(error) for error in errors]) for message, errors in catalog.check()] == []


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_id)
def test_the_catalog_holds_exactly_what_the_source_marks(path, tmp_path):
    extract, command = EXTRACTORS[path.parents[2]]
    extract(tmp_path / "fresh.pot")
    fresh = set(entries(read(tmp_path / "fresh.pot")))
    held = set(entries(read(path)))
    assert (fresh - held, held - fresh) == (set(), set()), f"run: {command} update"


@pytest.mark.parametrize("path", CATALOGS, ids=catalog_id)
def test_the_compiled_catalog_matches_its_source(path):
    compiled = Path(path).with_suffix(".mo")
    assert entries(read(compiled, read_mo)) == entries(read(path)), f"run: {EXTRACTORS[path.parents[2]][1]} compile"


def test_the_checks_catch_an_untranslated_or_stale_catalog(tmp_path):
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="zh")
    catalog.add("Hello", "你好")
    catalog.add("Bye", "")
    catalog.add("%(n)d apples", "%(m)d 个苹果", flags=["python-format"])
    assert [message.id for message in catalog if message.id and not message.string] == ["Bye"]
    assert [message.id for message, errors in catalog.check() if errors] == ["%(n)d apples"]
