"""The name rule shared by the name form and the user view, the directory's search key, the control-character
check mail headers use too, and an error said in one log line."""

import unicodedata

# Control characters (CR, LF, NUL, ESC …) and the Unicode line and paragraph separators.
CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# Unicode's noncharacters (U+FDD0-U+FDEF, and the last two of each plane): "not for interchange", and no HTML page
# may hold one, so no stored name may either.
NONCHARACTERS = frozenset(map(chr, [*range(0xFDD0, 0xFDF0),
                                    *(plane * 0x10000 + low for plane in range(17) for low in (0xFFFE, 0xFFFF))]))


def has_control_characters(value):
    """Tell whether a string holds a control character, a line break or a noncharacter (never part of a name, a
    search or a mail header)."""
    return any(unicodedata.category(char) in CONTROL_CATEGORIES or char in NONCHARACTERS for char in value)


def normalise_name(value):
    """Return a name in the form it is stored and looked up in: Unicode NFC, surrounding white space removed."""
    if value is None:
        return value
    return unicodedata.normalize("NFC", value).strip()


def search_key(value):
    """Return the form names are searched in: NFC, fully case-folded ("ÅNGSTRÖM" and "Ångström" meet), NFC again."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).casefold())


def error_line(error):
    """Name an error in one log line: the driver's own error under SQLAlchemy's wrapper, its type and first line
    (never a multi-line dump, which may quote a statement and its parameters)."""
    original = getattr(error, "orig", None) or error
    return f"{type(original).__name__}: {(str(original).strip().splitlines() or [''])[0][:200]}"
