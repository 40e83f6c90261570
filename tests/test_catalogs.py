"""The Chinese catalog: every marked string translated, none fuzzy, in step with the source and with its .mo file."""

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from flasky.cli import TRANSLATIONS, extract_messages

CATALOGS = sorted(TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def read(path, reader=read_po):
    """Read a .po or .mo file into a Babel catalog."""
    with open(path, "rb") as file:
        return reader(file)


def entries(catalog):
    """Map each message id of a catalog (the header aside) to its translation; plurals as tuples."""

    def plain(value):
        return tuple(value) if isinstance(value, (list, tuple)) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


def test_there_is_a_chinese_catalog():
    assert [path.parts[-3] for path in CATALOGS] == ["zh"]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_every_string_is_translated_none_fuzzy_and_placeholders_kept(path):
    catalog = read(path)
    untranslated = [message.id for message in catalog if message.id and not all(
        message.string if isinstance(message.string, tuple) else [message.string])]
    fuzzy = [message.id for message in catalog if message.id and message.fuzzy]
    assert (untranslated, fuzzy) == ([], [])
    assert [(message.id, [str(error) for error in errors]) for message, errors in catalog.check()] == []


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_the_catalog_holds_exactly_what_the_source_marks(path, tmp_path):
    extract_messages(tmp_path / "fresh.pot")
    fresh = set(entries(read(tmp_path / "fresh.pot")))
    held = set(entries(read(path)))
    assert (fresh - held, held - fresh) == (set(), set()), "run: flask --app flasky translate update"


@pytest.mark.parametrize("path", CATALOGS, ids=lambda path: path.parts[-3])
def test_the_compiled_catalog_matches_its_source(path):
    compiled = Path(path).with_suffix(".mo")
    assert entries(read(compiled, read_mo)) == entries(read(path)), "run: flask --app flasky translate compile"


def test_the_checks_catch_an_untranslated_or_stale_catalog(tmp_path):
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale="zh")
    catalog.add("Hello", "你好")
    catalog.add("Bye", "")
    catalog.add("%(n)d apples", "%(m)d 个苹果", flags=["python-format"])
    assert [message.id for message in catalog if message.id and not message.string] == ["Bye"]
    assert [message.id for message, errors in catalog.check() if errors] == ["%(n)d apples"]
