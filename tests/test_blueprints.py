"""The feature blueprints: registered only when their flag is on, and the directory's two views, one per answer."""

from urllib.parse import parse_qs, urlsplit

import pytest

from flasky.live.hub import Hub
from flasky.live.panel import PANELS_KEY
from tests.helpers import listed


@pytest.mark.parametrize("flag, blueprint, rules", [
    ("FLASKY_DIRECTORY", "directory", {"/users", "/users/more"}),
    ("FLASKY_LIVE_FEED", "live", {"/greetings/recent", "/greetings/stream"}),
])
def test_a_feature_turned_off_has_no_blueprint_and_no_routes(make_app, flag, blueprint, rules):
    on, off = make_app(), make_app(**{flag: False})
    assert blueprint in on.blueprints and rules <= {rule.rule for rule in on.url_map.iter_rules()}
    assert blueprint not in off.blueprints and not rules & {rule.rule for rule in off.url_map.iter_rules()}
    assert {"main", "health"} <= set(off.blueprints)


def test_the_live_feed_s_hub_comes_with_its_blueprint(make_app):
    on, off = make_app(), make_app(FLASKY_LIVE_FEED=False)
    assert isinstance(on.extensions[Hub.KEY], Hub) and on.extensions[PANELS_KEY] == {}
    assert Hub.KEY not in off.extensions and PANELS_KEY not in off.extensions


@pytest.fixture
def twenty_five(met):
    """Store 25 names, so that the directory has a second page; return them, most recently seen first."""
    names = [f"visitor{number:02d}" for number in range(25)]
    met(names)
    return names


def more_link(client, url="/users"):
    """Return the "More names" link of a directory page."""
    return client.get(url).soup.select_one("#directory-more a[rel=next]")


def test_more_names_asks_its_own_view_and_its_href_the_list(client, twenty_five):
    link = more_link(client)
    assert urlsplit(link["href"]).path == "/users" and urlsplit(link["hx-get"]).path == "/users/more"
    assert parse_qs(urlsplit(link["href"]).query) == parse_qs(urlsplit(link["hx-get"]).query)
    answer = client.hx_get(link["hx-get"], target="directory-more")
    assert answer.status_code == 200 and "HX-Push-Url" in answer.headers and answer.headers["HX-Push-Url"] == "false"
    appended = answer.soup.select_one('[hx-swap-oob="beforeend:#directory-rows"]')
    assert [row.get_text() for row in appended.select("li a")] == twenty_five[20:]


@pytest.mark.parametrize("headers", [{}, {"HX-Request": "true", "HX-Boosted": "true"},
                                     {"HX-Request": "true", "HX-History-Restore-Request": "true"}])
def test_a_plain_request_for_more_names_goes_to_the_list_at_the_same_place(client, twenty_five, headers):
    link = more_link(client)
    answer = client.get(link["hx-get"], headers=headers)
    assert answer.status_code == 303
    assert answer.headers["Location"] == link["href"]
    page = client.get(answer.headers["Location"])
    assert listed(page) == twenty_five[20:]


def test_more_names_passes_on_only_the_search_s_own_fields(client):
    answer = client.get("/users/more?q=ann&_external=1&_anchor=x&role=&next=//evil.example")
    assert answer.status_code == 303 and answer.headers["Location"] == "/users?q=ann"


@pytest.mark.parametrize("query", ["cursor=forged", "role=Wizard", "q=a%00b"])
def test_more_names_with_a_bad_field_says_why_in_place(client, query):
    answer = client.hx_get(f"/users/more?{query}", target="directory-more")
    assert answer.status_code == 400
    assert answer.soup.select_one('[hx-swap-oob="beforeend:#directory-rows"] #directory-error').get_text().strip()
    assert answer.soup.select_one("#directory-more a") is None
