"""The visitors directory: search, role filter, keyset pages, as pages and htmx fragments, in both languages."""

from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update

from flasky.directory import search
from flasky.extensions import db
from flasky.models import Role, User
from tests.helpers import DIRECTORY_NAMES as NAMES, english_words, listed



def test_the_page_lists_everyone_most_recently_seen_first_with_role_and_times(client, met):
    met(NAMES, roles={"Bob": Role.MODERATOR})
    page = client.get("/users")
    assert page.status_code == 200
    assert listed(page) == NAMES
    assert page.text_of("directory-count") == "8 names"
    bob = page.soup.select("#directory-rows li")[NAMES.index("Bob")]
    assert bob.a["href"] == "/user/Bob" and bob.select_one(".badge").get_text() == "Moderator"
    assert [span["data-function"] for span in bob.select(".flask-moment")] == ["fromNow", "fromNow"]
    assert page.soup.title.get_text() == "Visitors – Flasky"
    assert page.soup.select_one("#navbar-links a[aria-current=page]").get_text() == "Visitors"
    assert page.soup.select_one("#directory-more a") is None, "one page: no paging links"


@pytest.mark.parametrize("query, expected", [
    ("", NAMES),
    ("   ", NAMES),
    ("ÅNGSTRÖM", ["Zoë Ångström"]),
    ("zoe\u0308", ["Zoë Ångström"]),  # decomposed: NFC first
    ("张", ["张三丰"]),
    ("三丰", ["张三丰"]),
    ("ann", ["Ann", "Anna"]),
    ("ANNA", ["Anna"]),
    ("%", ["50%_off\\x"]),
    ("_", ["50%_off\\x"]),
    ("\\", ["50%_off\\x"]),
    ("%_o", ["50%_off\\x"]),
    ("a%", []),
    ("STRASSE", ["Straße"]),
    ("ｆｕｌｌ", ["Ｆｕｌｌ Width"]),
    ('"', []),
    ("<script>alert(1)</script>", []),
    ("nobody", []),
])
def test_search_is_a_case_folded_substring_match_where_wildcards_match_themselves(client, met, query, expected):
    met(NAMES)
    page = client.get("/users", query_string={"q": query})
    assert page.status_code == 200 and listed(page) == expected
    fragment = client.hx_get("/users", query_string={"q": query}, target="directory-rows")
    assert fragment.status_code == 200 and listed(fragment) == expected
    assert fragment.soup.select_one("#directory-count")["hx-swap-oob"] == "true"


@pytest.mark.parametrize("query, expected", [
    ("", NAMES), ("ÅNGSTRÖM", ["Zoë Ångström"]), ("张", ["张三丰"]), ("ann", ["Ann", "Anna"]), ("%", ["50%_off\\x"]),
    ("_", ["50%_off\\x"]), ("\\", ["50%_off\\x"]), ("a%", []), ("STRASSE", ["Straße"]), ('"', []),
])
def test_a_crowded_search_walks_the_directory_order_and_finds_the_same_names(client, met, monkeypatch, query,
                                                                              expected):
    monkeypatch.setattr(search, "COUNT_LIMIT", 0)  # every match "more than the bound": the walk, not the index
    met(NAMES)
    assert listed(client.get("/users", query_string={"q": query})) == expected


def test_a_crowded_search_is_counted_once_a_minute_and_exact_counts_every_time(client, met, statements,
                                                                               monkeypatch):
    monkeypatch.setattr(search, "COUNT_LIMIT", 2)
    clock = [1000.0]
    monkeypatch.setattr(search, "monotonic", lambda: clock[0])
    met(["Ann", "Anna", "Annabel", "Bob"])

    def count_of(query):
        statements.clear()
        return client.get("/users", query_string={"q": query}).text_of("directory-count"), len(statements)

    assert count_of("ann") == ("More than 2 names", 2)
    assert count_of("ann") == ("More than 2 names", 1), "the bound is remembered: the rows only"
    assert count_of("bob") == ("1 name", 2)
    met(["Bobby"])
    assert count_of("bob") == ("2 names", 2), "an exact count is never kept"
    clock[0] += search.CROWDED_SECONDS
    assert count_of("ann") == ("More than 2 names", 2), "counted again after a minute"


def test_a_search_that_finds_nobody_says_so_and_escapes_the_query(client, met):
    met(NAMES)
    page = client.get("/users", query_string={"q": "<b>x</b>"})
    assert page.text_of("directory-empty") == "Nobody whose name contains “<b>x</b>” has been here yet."
    assert "<b>x</b>" not in page.get_data(as_text=True)
    assert page.soup.select_one("#q")["value"] == "<b>x</b>"
    assert page.text_of("directory-count") == "0 names"


@pytest.mark.parametrize("query, message", [
    ("x" * 65, "A search can be at most 64 characters long."),
    ("x" * 10_000, "A search can be at most 64 characters long."),
    ("a\x00b", "A search cannot contain control characters or line breaks."),
    ("a\r\nb", "A search cannot contain control characters or line breaks."),
    ("a\U0010ffff", "A search cannot contain control characters or line breaks."),
])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_bad_search_is_a_400_with_a_message_never_a_500(client, met, query, message, htmx):
    met(NAMES)
    get = client.hx_get if htmx else client.get
    answer = get("/users", query_string={"q": query})
    assert answer.status_code == 400
    assert answer.text_of("directory-error") == message


def test_direction_controls_in_a_search_are_searched_for_not_obeyed(client, met):
    met(NAMES)
    page = client.get("/users", query_string={"q": "\u202eann"})
    assert page.status_code == 200 and listed(page) == []


def test_the_role_filter_combines_with_the_search(client, met):
    met(NAMES, roles={"Ann": Role.MODERATOR, "Bob": Role.MODERATOR, "Anna": Role.ADMINISTRATOR})
    assert listed(client.get("/users?role=Moderator")) == ["Ann", "Bob"]
    assert listed(client.get("/users?role=Moderator&q=an")) == ["Ann"]
    assert listed(client.hx_get("/users?role=Administrator")) == ["Anna"]
    page = client.get("/users?role=Moderator")
    assert page.soup.select_one("#role option[selected]")["value"] == "Moderator"


@pytest.mark.parametrize("role", ["Nobody", "moderator", "<b>", "User\x00"])
def test_an_unknown_role_is_a_400_not_a_500(client, met, role):
    met(NAMES)
    answer = client.get("/users", query_string={"role": role})
    assert answer.status_code == 400 and answer.text_of("directory-error") == "Not a valid choice."


def follow_next(client, url, most=50):
    """Walk the no-JS Next links from url; return every page's names (failing past `most` pages: a loop)."""
    pages = []
    while url:
        assert len(pages) < most, f"Next links still going after {most} pages: {pages[-2:]}"
        page = client.get(url)
        assert page.status_code == 200
        pages.append(listed(page))
        following = page.soup.select_one("#directory-more a[rel=next]")
        url = following["href"] if following else None
    return pages


def test_next_links_visit_every_matching_name_exactly_once_and_previous_goes_back(client, met):
    names = [f"user{number:03d}" for number in range(45)]
    met(names)
    pages = follow_next(client, "/users")
    assert [len(page) for page in pages] == [20, 20, 5]
    assert sum(pages, []) == names
    last = client.get(client.get(client.get("/users").soup.select_one("a[rel=next]")["href"])
                      .soup.select_one("a[rel=next]")["href"])
    back = client.get(last.soup.select_one("#directory-more a[rel=prev]")["href"])
    assert listed(back) == names[20:40]
    paging = [link.get_text() for link in back.soup.select("#directory-more a")]
    assert paging == ["Previous names", "Next names"]
    assert back.soup.select_one("#directory-more")["aria-label"] == "More visitors"
    assert back.soup.select_one("#directory-rows li span").get_text().startswith("User first seen ")
    first = client.get(back.soup.select_one("a[rel=prev]")["href"])
    assert listed(first) == names[:20] and first.soup.select_one("a[rel=prev]") is None


def test_a_crowded_search_pages_both_ways_through_the_walk(client, met, monkeypatch):
    monkeypatch.setattr(search, "COUNT_LIMIT", 0)  # every page found by the walk (PostgreSQL's index-only one)
    names = [f"user{number:03d}" for number in range(45)]
    met([name for pair in zip(names, (f"other{number:03d}" for number in range(45))) for name in pair])
    pages = follow_next(client, "/users?q=USER")
    assert [len(page) for page in pages] == [20, 20, 5]
    assert sum(pages, []) == names
    last = client.get("/users?q=USER")
    for _ in range(2):
        last = client.get(last.soup.select_one("a[rel=next]")["href"])
    back = client.get(last.soup.select_one("a[rel=prev]")["href"])
    assert listed(back) == names[20:40]
    first = client.get(back.soup.select_one("a[rel=prev]")["href"])
    assert listed(first) == names[:20] and first.soup.select_one("a[rel=prev]") is None


def test_paging_keeps_the_search_and_the_role(client, met):
    names = [f"ann{number:02d}" for number in range(25)] + ["bob"]
    met(names)
    page = client.get("/users?q=ANN&role=User")
    link = page.soup.select_one("a[rel=next]")["href"]
    assert parse_qs(urlsplit(link).query)["q"] == ["ANN"] and parse_qs(urlsplit(link).query)["role"] == ["User"]
    assert sum(follow_next(client, "/users?q=ANN&role=User"), []) == names[:25]


def test_load_more_appends_the_next_rows_out_of_band_and_replaces_itself(client, met):
    names = [f"user{number:03d}" for number in range(25)]
    met(names)
    page = client.get("/users")
    more = page.soup.select_one("#directory-more a[rel=next]")
    assert more["hx-target"] == "#directory-more" and more["hx-swap"] == "outerHTML"
    answer = client.hx_get(more["hx-get"], target="directory-more")
    assert answer.status_code == 200
    soup = answer.soup
    appended = soup.select_one('[hx-swap-oob="beforeend:#directory-rows"]')
    assert [link.get_text() for link in appended.select("li a")] == names[20:]
    assert soup.select_one("#directory-more") is not None and soup.select_one("#directory-more a[rel=next]") is None
    assert soup.select_one("#directory-rows") is None, "the list itself is not replaced"


@pytest.mark.parametrize("forge", [
    lambda cursor: cursor[:-3],
    lambda cursor: cursor[:5],
    lambda cursor: "x" + cursor[1:],
    lambda cursor: "garbage",
    lambda cursor: "",  # an empty cursor is the first page
])
@pytest.mark.parametrize("htmx", [False, True])
def test_a_cursor_the_app_did_not_issue_is_a_400_with_a_message(client, met, forge, htmx):
    met([f"user{number:03d}" for number in range(25)])
    cursor = parse_qs(urlsplit(client.get("/users").soup.select_one("a[rel=next]")["href"]).query)["cursor"][0]
    forged = forge(cursor)
    get = client.hx_get if htmx else client.get
    answer = get("/users", query_string={"cursor": forged})
    if not forged:
        assert answer.status_code == 200
        return
    assert answer.status_code == 400
    assert answer.text_of("directory-error").startswith("That page link is not valid")


def test_a_cursor_signed_with_another_key_is_refused(app, make_app, database_url, met):
    met([f"user{number:03d}" for number in range(25)])
    other = make_app(SQLALCHEMY_DATABASE_URI=database_url, SECRET_KEY="another key entirely")
    with other.test_request_context():
        forged = search._encode(search.AFTER, type("Row", (), {"last_seen": datetime(2030, 1, 1), "id": 1}))
    assert app.test_client().get("/users", query_string={"cursor": forged}).status_code == 400


def test_the_count_is_bounded(app, client, met, monkeypatch):
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    met([f"user{number:03d}" for number in range(8)])
    assert client.get("/users").text_of("directory-count") == "More than 5 names"
    assert client.get("/users?q=user00").text_of("directory-count") == "More than 5 names"
    assert client.get("/users?q=user007").text_of("directory-count") == "1 name"


def test_kept_rows_follow_the_language_the_url_prefix_and_the_row(app, client, met):
    met(["Ann", "Bob"], roles={"Bob": Role.MODERATOR})

    def bob(**environ):
        row = client.get("/users", environ_overrides=environ).soup.select("#directory-rows li")[1]
        return row.a["href"], row.select_one(".badge").get_text(), " ".join(row.select_one("span").get_text().split(" ")[:2])

    assert bob() == ("/user/Bob", "Moderator", "Moderator first")
    assert bob(HTTP_ACCEPT_LANGUAGE="zh-CN") == ("/user/Bob", "协管员", "协管员 首次到访")
    assert bob(SCRIPT_NAME="/flasky")[0] == "/flasky/user/Bob"
    with app.app_context():
        db.session.execute(update(User).where(User.username == "Bob")
                           .values(role_id=select(Role.id).where(Role.name == Role.ADMINISTRATOR).scalar_subquery()))
        db.session.commit()
    assert bob()[1] == "Administrator", "a changed row is a new key"


def test_responses_vary_on_htmx_and_language(client, met):
    met(NAMES)
    vary = {value.strip() for value in client.hx_get("/users?q=a").headers["Vary"].split(",")}
    assert {"HX-Request", "Accept-Language", "Cookie"} <= vary


def test_the_directory_in_chinese(client, met):
    met(NAMES, roles={"Bob": Role.ADMINISTRATOR})
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    page = client.get("/users")
    assert page.soup.title.get_text() == "访客 – Flasky"
    assert page.text_of("directory-count") == "8 个名字"
    assert page.soup.select_one("label[for=q]").get_text() == "名字包含"
    options = [option.get_text() for option in page.soup.select("#role option")]
    assert options == ["所有角色", "用户", "协管员", "管理员"]
    assert page.soup.select("#directory-rows .badge")[NAMES.index("Bob")].get_text() == "管理员"
    empty = client.hx_get("/users?q=无人")
    assert empty.text_of("directory-empty") == "还没有名字包含“无人”的人来过这里。"
    assert client.get("/users?q=" + "x" * 65).text_of("directory-error") == "搜索内容最多 64 个字符。"
    assert client.get("/users?cursor=garbage").text_of("directory-error").startswith("这个翻页链接无效")
    assert page.soup.select_one("#navbar-links a[aria-current=page]").get_text() == "访客"


def test_an_empty_directory_says_so(client):
    page = client.get("/users")
    assert page.text_of("directory-empty") == "Nobody has been here yet."
    assert page.text_of("directory-count") == "0 names"


def test_the_directory_can_be_turned_off(make_app, database_url):
    app = make_app(SQLALCHEMY_DATABASE_URI=database_url, create_tables=True, FLASKY_DIRECTORY=False)
    client = app.test_client()
    assert client.get("/users").status_code == 404
    assert client.get("/").soup.select_one('#navbar-links a[href="/users"]') is None


def test_paging_counts_and_the_empty_directory_in_chinese(client, met, monkeypatch):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    assert client.get("/users").text_of("directory-empty") == "还没有人来过这里。"
    monkeypatch.setattr(search, "COUNT_LIMIT", 5)
    met([f"user{number:03d}" for number in range(25)])
    first = client.get("/users")
    assert first.text_of("directory-count") == "超过 5 个名字"
    assert first.soup.select_one("#directory-more")["aria-label"] == "更多访客"
    assert first.soup.select_one("#directory-more a[rel=next]").get_text() == "下一页"
    second = client.get(first.soup.select_one("a[rel=next]")["href"])
    assert second.soup.select_one("#directory-more a[rel=prev]").get_text() == "上一页"
    assert second.soup.select_one("#directory-rows li span").get_text().startswith("用户 首次到访")
    assert first.soup.select_one("#directory-search")["aria-label"] == "搜索访客"
    assert first.text_of("directory-loading") == "正在搜索…"
    assert first.soup.select_one('meta[name="description"]')["content"].startswith("Flasky 问候过的每一个人")
    control = client.get("/users", query_string={"q": "a\x00"})
    assert control.text_of("directory-error") == "搜索内容不能包含控制字符或换行符。"
    for page in (first, second, control):
        assert english_words(page.soup, names=("user",)) == set()
