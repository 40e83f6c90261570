"""Text rules shared by the name form, the views and the mail layer."""

import unicodedata

# Control characters (CR, LF, NUL, ESC …) and the Unicode line and paragraph separators.
CONTROL_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})


def has_control_characters(value):
    """Tell whether a string holds a control character or line break (never part of a name or a mail header)."""
    return any(unicodedata.category(char) in CONTROL_CATEGORIES for char in value)
