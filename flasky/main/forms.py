"""The name form and the rules a name must follow."""

import unicodedata

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from ..i18n import lazy_gettext as _l
from ..models import USERNAME_MAX_LENGTH
from ..text import has_control_characters, normalise_name

# Bidirectional embeddings, overrides and isolates can make a name display as something it is not.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Joiners shape emoji sequences and several scripts, so they may appear inside a visible name.
JOINERS = frozenset("\u200c\u200d")
# Names that the URL /user/<name> could not carry back to the app ("/" is refused too).
URL_UNSAFE_NAMES = frozenset({".", ".."})

# What a failed CSRF check means to a visitor, keyed by Flask-WTF's own message.
CSRF_MESSAGES = {
    "The CSRF token has expired.": _l("This form has expired, please try again."),
    "The CSRF token is missing.": _l("This form was sent without its security token, please try again."),
    "The CSRF session token is missing.": _l("Your session has expired (are cookies allowed?), please try again."),
    # Also what a lost session cookie looks like: loading the form starts a new session.
    "The CSRF tokens do not match.": _l("Your session changed since this form was loaded, please try again."),
}
CSRF_FALLBACK_MESSAGE = _l("This form's security token is not valid, please try again.")


def check_characters(form, field):
    """Reject names with control, direction-changing or invisible characters, or that no URL can carry."""
    name = field.data
    categories = [unicodedata.category(char) for char in name]
    if has_control_characters(name):
        raise ValidationError(_l("Names cannot contain control characters or line breaks."))
    if any(char in BIDI_CONTROLS for char in name):
        raise ValidationError(_l("Names cannot contain characters that change the text direction."))
    visible = [char for char, category in zip(name, categories) if not _is_invisible(char, category)]
    if not visible:
        raise ValidationError(_l("Please enter a name with at least one visible character."))
    if any(category == "Cf" and char not in JOINERS for char, category in zip(name, categories)):
        raise ValidationError(_l("Names cannot contain invisible formatting characters."))
    if "/" in name or name in URL_UNSAFE_NAMES:
        raise ValidationError(_l("Names cannot contain “/” or be just “.” or “..”."))


def _is_invisible(char, category):
    """Tell whether a character shows nothing by itself: spaces, formatting and combining marks."""
    return char.isspace() or category in {"Cf", "Mn", "Me", "Zs"}


class NameForm(FlaskForm):
    """Ask for the visitor's name."""

    name = StringField(
        _l("What is your name?"),
        filters=[normalise_name],
        validators=[
            DataRequired(_l("Please enter your name.")),
            Length(max=USERNAME_MAX_LENGTH, message=_l("Names can be at most %(max)d characters long.")),
            check_characters,
        ],
    )
    submit = SubmitField(_l("Submit"))

    def cleared(self):
        """Empty the name field after a successful submission: the fresh form for the next name, same CSRF token."""
        self.name.data = self.name.raw_data = None
        return self

    @property
    def csrf_message(self):
        """Return a visitor-friendly explanation of a failed CSRF check, or None when it passed."""
        errors = getattr(self, "csrf_token", None) and self.csrf_token.errors
        if not errors:
            return None
        return CSRF_MESSAGES.get(errors[0], CSRF_FALLBACK_MESSAGE)


def checked_name(value):
    """Apply the name form's filter and rules to a name given outside a request (the command line): return the name
    as it would be stored and its first error, or None."""
    form = NameForm(formdata=MultiDict({"name": value}), meta={"csrf": False})
    form.validate()
    return form.name.data, next(iter(form.name.errors), None)
