"""The directory's views: the list (a page, or its rows for a search as you type) and the names "More names" adds."""

from flask import redirect, request, url_for

from .. import hypermedia
from . import bp
from .forms import DirectoryForm
from .search import find


def search():
    """Read the search form from the address and find its page of names (None when the form is not valid)."""
    form = DirectoryForm()
    return form, find(form.query, form.chosen_role, form.cursor.position) if form.validate() else None


@bp.get("/users")
@hypermedia.answers("directory/index.html", fragments=["partials/directory-rows.html"],
                    oob=["partials/directory-count.html", "partials/directory-more.html"], statuses=[200, 400])
def index():
    """List the names the app has met, most recently seen first: searched, filtered by role, a page at a time."""
    form, found = search()
    # A search pushes the address a bookmark needs, no more ("?q=ann", not "?q=ann&role=").
    address = url_for(".index", q=form.query, role=form.chosen_role) if found else None
    return hypermedia.render("directory/index.html", "partials/directory-rows.html",
                             oob=("partials/directory-count.html", "partials/directory-more.html"),
                             status=200 if found else 400, push_url=address, form=form, found=found)


@bp.get("/users/more")
@hypermedia.answers(fragments=["partials/directory-more.html"], oob=["partials/directory-rows.html"],
                    statuses=[200, 303, 400])
def more():
    """Append the next names to the list in place, and replace "More names" (htmx); any other request gets the list
    at the same place, as the link's href does without JavaScript."""
    if not hypermedia.wants_fragment():
        return redirect(url_for(".index", **{key: request.args.get(key) or None for key in ("q", "role", "cursor")}),
                        303)
    form, found = search()
    return hypermedia.render("directory/index.html", "partials/directory-more.html",
                             oob=("partials/directory-rows.html",), status=200 if found else 400, push_url=False,
                             form=form, found=found, appending=True)
