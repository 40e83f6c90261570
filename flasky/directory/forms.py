"""The directory's search form: a name's part, a role, and the page cursor."""

from flask import request
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectChoice, SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from ..i18n import lazy_gettext as _l
from ..models import ROLE_LABELS, USERNAME_MAX_LENGTH, Role
from ..text import has_control_characters, normalise_name
from .search import InvalidCursor, read_cursor

# The longest directory search: a whole name.
QUERY_MAX_LENGTH = USERNAME_MAX_LENGTH


def check_query(form, field):
    """Refuse a search with control characters (NUL, line breaks): no name holds one."""
    if field.data and has_control_characters(field.data):
        raise ValidationError(_l("A search cannot contain control characters or line breaks."))


class CursorField(HiddenField):
    """A page cursor: the signed text the address carries, read once into the position it stands for."""

    position = None  # (direction, (last_seen, id)) once validated; None for the first page

    def pre_validate(self, form):
        """Refuse a cursor the app did not issue (edited, truncated or made up); keep the position of one it did."""
        if self.data:
            try:
                self.position = read_cursor(self.data)
            except InvalidCursor:
                raise ValidationError(_l("That page link is not valid (edited or out of date). "
                                         "Search again from the first page.")) from None


class DirectoryForm(FlaskForm):
    """Search the visitors directory (a GET form: no CSRF token, nothing changes)."""

    class Meta:
        csrf = False

    q = StringField(_l("Name contains"), filters=[normalise_name], validators=[
        Optional(), Length(max=QUERY_MAX_LENGTH, message=_l("A search can be at most %(max)d characters long.")),
        check_query])
    role = SelectField(_l("Role"), choices=[SelectChoice("", _l("Any role"))] + [
        SelectChoice(name, ROLE_LABELS[name]) for name in Role.NAMES],
                       default="", validate_choice=True)
    # A label given, so WTForms asks no translation for one (Flask-WTF loads its catalog per request to do so).
    cursor = CursorField("cursor")

    def __init__(self):
        super().__init__(formdata=request.args)

    @property
    def query(self):
        """Return the search as typed (normalised), or None for none."""
        return self.q.data or None

    @property
    def chosen_role(self):
        """Return the role asked for, or None for any."""
        return self.role.data or None

    @property
    def error_message(self):
        """Return the first validation message, for the page or fragment that reports it."""
        for field in (self.q, self.role, self.cursor):
            if field.errors:
                return field.errors[0]
        return None
