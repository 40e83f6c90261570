"""中文 and English: choosing the language, the page/fragment contract in both, no English left on a Chinese page."""

import re
from datetime import datetime, timedelta
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup

from flasky.i18n import best_language
from tests.helpers import english_words, expired_token

# What a visitor reads, by element id, in each language.
TEXT = {
    "en": {
        "tag": "en",
        "accept": "en-GB,en;q=0.9",
        "stranger": "Hello, Stranger!",
        "hello": "Hello, {}!",
        "new": "Pleased to meet you!",
        "known": "Happy to see you again!",
        "changed": "Looks like you have changed your name!",
        "label": "What is your name?",
        "submit": "Submit",
        "empty": "Please enter your name.",
        "too_long": "Names can be at most 64 characters long.",
        "expired": "This form has expired, please try again.",
        "not_found": "Page not found",
        "colon": ": ",
        "nobody": "Nobody called “{}” has been here yet.",
        "not_allowed": "Method not allowed: This address does not accept that kind of request.",
        "server_error": "Something went wrong: An unexpected error happened on our side. Please try again in a moment.",
        "first_seen": "First seen",
        "role": "Role",
        "role_user": "User",
        "ago": "a few seconds ago",
        "utc": "02 January 2020, 03:04 UTC",
        "unreachable": "The server could not be reached. Please check your connection and try again.",
        "recently": "Recently greeted",
        "active": "1 visitor active in the last 5 minutes.",
        "badge_new": "new",
        "badge_returning": "returning",
        "nobody_greeted": "Nobody has been greeted yet. Tell us your name and you will be the first!",
    },
    "zh": {
        "tag": "zh-CN",
        "accept": "zh-CN,en;q=0.8",
        "stranger": "你好，陌生人！",
        "hello": "你好，{}！",
        "new": "很高兴认识你！",
        "known": "很高兴再次见到你！",
        "changed": "看起来你换了名字！",
        "label": "你叫什么名字？",
        "submit": "提交",
        "empty": "请输入你的名字。",
        "too_long": "名字最多 64 个字符。",
        "expired": "表单已过期，请重试。",
        "not_found": "页面不存在",
        "colon": "：",
        "nobody": "还没有叫“{}”的人来过这里。",
        "not_allowed": "不允许的请求方法：这个地址不接受这种请求。",
        "server_error": "出错了：我们这边发生了意外错误。请稍后再试。",
        "first_seen": "首次来访",
        "role": "角色",
        "role_user": "用户",
        "ago": "几秒前",
        "utc": "2020年1月2日 03:04（UTC）",
        "unreachable": "无法连接服务器。请检查网络连接后重试。",
        "recently": "最近的问候",
        "active": "最近 5 分钟内有 1 位访客。",
        "badge_new": "新朋友",
        "badge_returning": "再次来访",
        "nobody_greeted": "还没有人打过招呼。告诉我们你的名字，你就是第一个！",
    },
}


@pytest.fixture(params=["en", "zh"])
def language(request, client):
    """Each test once per language, asked for the way a browser does (Accept-Language)."""
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = TEXT[request.param]["accept"]
    return TEXT[request.param]


def vary(response):
    return {value.strip() for value in response.headers.get("Vary", "").split(",")}


# --- choosing the language -----------------------------------------------------------------------------------

@pytest.mark.parametrize("header, expected", [
    ("zh-CN", "zh"), ("zh", "zh"), ("zh-Hans-CN", "zh"), ("zh-SG", "zh"), ("zh-TW", "zh"), ("zh-HK", "zh"),
    ("zh-CN,en;q=0.8", "zh"), ("ZH-cn", "zh"), ("en-US,en;q=0.9,zh-CN;q=0.8", "en"), ("fr-FR,zh;q=0.5", "zh"),
    ("fr,de", None), ("", None), ("*", None), ("<script>", None), (";;;,,,q=x", None), ("zh;q=abc", None),
    ("x" * 10_000, None), ("en;q=0.1," * 500, "en"),
])
def test_the_visitor_s_own_order_picks_the_catalog(header, expected, make_app):
    with make_app().test_request_context(headers={"Accept-Language": header}):
        from flask import request

        assert best_language([value for value, _ in request.accept_languages]) == expected


@pytest.mark.parametrize("header, tag", [
    ("zh-CN,zh;q=0.9", "zh-CN"), ("zh-Hans-CN", "zh-CN"), ("zh-TW", "zh-CN"), ("en-US", "en"), ("fr", "en"),
    ("\x00\xff garbage", "en"), ("zh-" + "x" * 10_000, "zh-CN"), ("q=1;" * 2000, "en"),
])
def test_pages_and_fragments_declare_the_full_tag_and_never_fail(client, header, tag):
    for response in (client.get("/", headers={"Accept-Language": header}),
                     client.hx_get("/", headers={"Accept-Language": header})):
        assert response.status_code == 200
        assert response.headers["Content-Language"] == tag
        assert {"Accept-Language", "Cookie", "HX-Request"} <= vary(response)
        assert "garbage" not in response.get_data(as_text=True) and "xxxxxxxx" not in response.get_data(as_text=True)
    assert client.get("/", headers={"Accept-Language": header}).soup.html["lang"] == tag


def test_the_switcher_s_choice_beats_accept_language_and_lasts_a_year(client):
    page = client.get("/", headers={"Accept-Language": "en"})
    switcher = page.soup.select_one("#language-switcher")
    assert switcher["method"] == "post" and switcher["hx-boost"] == "false", "a full navigation: new <html lang>"
    [button] = switcher.select("button[name=lang]")
    assert (button["value"], button["lang"], button.get_text()) == ("zh", "zh-CN", "简体中文")
    answer = client.post("/language", data={"lang": "zh", "next": "/user/Nobody?x=1"})
    assert (answer.status_code, answer.headers["Location"]) == (303, "/user/Nobody?x=1")
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("lang=zh;") and "Max-Age=31536000" in cookie
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    chosen = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert chosen.soup.html["lang"] == "zh-CN" and chosen.text_of("greeting") == TEXT["zh"]["stranger"]
    client.post("/language", data={"lang": "en", "next": "/"})
    assert client.get("/", headers={"Accept-Language": "zh-CN"}).soup.html["lang"] == "en"


def hidden_fields(soup, form):
    """Return what a browser sends of a form's hidden fields: those inside it and those tied to it by form=."""
    fields = form.select("input[type=hidden]:not([form])") + soup.select(f'input[type=hidden][form="{form["id"]}"]')
    return {field["name"]: field["value"] for field in fields}


def test_without_js_the_switcher_brings_the_visitor_back_to_the_same_page(client, greet):
    greet("Ann")
    page = client.get("/user/Ann")
    form = page.soup.select_one("#language-switcher")
    data = hidden_fields(page.soup, form) | {"lang": "zh"}
    back = client.post(form["action"], data=data, follow_redirects=True)
    assert back.request.path == "/user/Ann" and back.text_of("user-heading") == "你好，Ann！"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil.example", "\\\\evil",
                                    "javascript:alert(1)", "/ok\r\nSet-Cookie: x=1", "evil.example", "",
                                    "/" + "x" * 5000, "/%0d%0aX: y"])
def test_the_switcher_only_ever_redirects_to_a_path_of_this_site(client, target):
    answer = client.post("/language", data={"lang": "zh", "next": target})
    assert answer.status_code == 303
    location = answer.headers["Location"]
    assert location == ("/%0d%0aX:%20y" if target == "/%0d%0aX: y" else "/")
    assert "\n" not in location and "evil" not in location


@pytest.mark.parametrize(("headers", "allowed"), [
    ({}, True),  # curl, or a browser too old to say: no page elsewhere made it post
    ({"Sec-Fetch-Site": "same-origin"}, True),
    ({"Sec-Fetch-Site": "none"}, True),  # typed, bookmarked
    ({"Sec-Fetch-Site": "same-origin", "Origin": "http://localhost"}, True),
    ({"Origin": "http://localhost"}, True),
    ({"Origin": "http://LOCALHOST"}, True),
    ({"Sec-Fetch-Site": "cross-site"}, False),
    ({"Sec-Fetch-Site": "same-site"}, False),  # another origin of the same site: a subdomain
    ({"Sec-Fetch-Site": "cross-site", "Origin": "http://localhost"}, False),
    ({"Sec-Fetch-Site": "", "Origin": "http://localhost"}, False),
    ({"Sec-Fetch-Site": "Same-Origin"}, False),
    ({"Origin": "https://evil.example"}, False),
    ({"Origin": "http://localhost.evil.example"}, False),
    ({"Origin": "null"}, False),  # a sandboxed frame, a data: page
    ({"Origin": ""}, False),
    # A proxy in front may pass the name alone (nginx's Host $host): then the name is what counts, not the port.
    ({"Host": "localhost", "Origin": "http://localhost:8080"}, True),
    ({"Host": "localhost", "Origin": "http://evil.example:8080"}, False),
    ({"Host": "localhost", "Origin": "http://localhost:port"}, False),
    ({"Host": "localhost", "Origin": "localhost"}, False),
    ({"Host": "localhost:8080", "Origin": "http://localhost:8080"}, True),
    ({"Host": "localhost:8080", "Origin": "http://localhost:9090"}, False),  # Host names its port: another origin
    ({"Host": "localhost:8080", "Origin": "http://localhost"}, False),
    ({"Host": "[::1]:8080", "Origin": "http://[::1]:8080"}, True),
    ({"Host": "[::1]", "Origin": "http://[::1]:8080"}, True),
    ({"Host": "[::1]", "Origin": "http://[::2]:8080"}, False),
])
def test_the_switcher_refuses_a_post_from_another_site_with_a_clear_400(client, headers, allowed):
    answer = client.post("/language", data={"lang": "zh", "next": "/users"}, headers=headers)
    if allowed:
        assert answer.status_code == 303 and answer.headers["Location"] == "/users"
        assert "lang=zh" in answer.headers["Set-Cookie"]
        return
    assert answer.status_code == 400 and "Set-Cookie" not in answer.headers
    assert answer.text_of("error-message") == ("The language was not changed: the request came from another site. "
                                               "Use the switcher at the top of this page to change it.")
    assert answer.soup.select_one("#language-switcher"), "the page offers the switcher it speaks of"
    assert client.get("/").soup.html["lang"] == "en", "the visitor's language is unchanged"


@pytest.mark.parametrize("htmx", [False, True])
def test_the_refusal_of_another_site_s_switch_speaks_the_visitor_s_language(client, htmx):
    request = client.hx_post if htmx else client.post
    answer = request("/language", data={"lang": "en", "next": "/"},
                     headers={"Accept-Language": "zh-CN", "Sec-Fetch-Site": "cross-site"})
    assert answer.status_code == 400 and "Set-Cookie" not in answer.headers
    shown = answer.text_of("flashes") if htmx else answer.text_of("error-message")
    assert "语言没有切换：这个请求来自其他网站。请使用本页顶部的语言切换按钮。" in shown


def test_the_page_s_own_address_is_sent_back_percent_encoded(client):
    page = client.get("/user/" + quote("Zoë\u202e") + "?q=%3Cb%3E&x=1")
    next_field = hidden_fields(page.soup, page.soup.select_one("#language-switcher"))["next"]
    assert next_field == "/user/Zo%C3%AB%E2%80%AE?q=%3Cb%3E&x=1"


@pytest.mark.parametrize("htmx", [False, True])
@pytest.mark.parametrize("lang", ["fr", "", "zh-Hant", "<b>zh</b>", "zh\x00"])
def test_an_unknown_language_code_is_a_clear_400_never_echoed(client, htmx, lang):
    request = client.hx_post if htmx else client.post
    answer = request("/language", data={"lang": lang, "next": "/"}, headers={"Accept-Language": "zh-CN"})
    assert answer.status_code == 400 and "Set-Cookie" not in answer.headers
    shown = answer.text_of("flashes") if htmx else answer.text_of("error-message")
    assert "本站不提供这种语言。" in shown
    if lang:
        assert lang not in answer.get_data(as_text=True)


def test_a_forged_language_cookie_is_ignored(client):
    client.set_cookie("lang", "<script>")
    page = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert page.soup.html["lang"] == "zh-CN" and "<script>" not in page.get_data(as_text=True)


# --- the page/fragment contract, in both languages ---------------------------------------------------------

def test_the_first_visit_page(client, language):
    page = client.get("/")
    assert page.soup.html["lang"] == language["tag"] and page.headers["Content-Language"] == language["tag"]
    assert page.text_of("greeting") == language["stranger"]
    assert page.soup.select_one("label[for=name]").get_text() == language["label"]
    assert page.soup.select_one("#submit")["value"] == language["submit"]
    assert page.soup.select_one("#time-ago noscript").get_text() == language["ago"]
    assert page.soup.select_one('meta[name="description"]')["content"]
    assert page.soup.body["data-unreachable"] == language["unreachable"], "app.js shows it when the server is gone"
    assert {"Accept-Language", "Cookie"} <= vary(page)


def test_a_new_name_then_a_known_one_then_a_change(greet, client, language, usernames):
    first = greet("张三", htmx=True)
    assert first.status_code == 200 and first.soup.html is None
    assert first.text_of("greeting-heading") == language["hello"].format("张三")
    assert first.text_of("greeting-status") == language["new"]
    assert first.headers["Content-Language"] == language["tag"]
    again = greet("张三", htmx=True)
    assert again.text_of("greeting-status") == language["known"]
    changed = greet("李四", htmx=True)
    assert changed.text_of("flashes") == language["changed"]
    assert usernames() == ["张三", "李四"]


def test_without_js_the_flash_survives_the_redirect_in_the_visitor_s_language(greet, client, language):
    greet("Ann")
    assert greet("Bob").status_code == 303
    page = client.get("/")
    assert page.text_of("flashes") == language["changed"] and page.text_of("greeting-status") == language["new"]


@pytest.mark.parametrize("htmx", [False, True])
def test_invalid_names_are_explained_in_the_visitor_s_language(greet, language, htmx):
    for name, key in (("   ", "empty"), ("张" * 65, "too_long")):
        answer = greet(name, htmx=htmx)
        assert (answer.status_code, answer.text_of("name-error")) == (422, language[key])
    assert greet("张" * 64, htmx=htmx).status_code == (200 if htmx else 303), "the limit counts characters"


def test_inline_validation_speaks_the_visitor_s_language(client, language):
    answer = client.hx_post("/validate/name", data={"name": ""})
    assert answer.text_of("name-error") == language["empty"]


@pytest.mark.parametrize("htmx", [False, True])
def test_an_expired_form_is_explained_in_the_visitor_s_language(app, client, language, monkeypatch, htmx):
    answer = client.submit(expired_token(client, monkeypatch), "#name-form", htmx=htmx, name="Ann")
    assert (answer.status_code, answer.text_of("form-error")) == (400, language["expired"])


def test_the_user_page_and_its_fragment(greet, client, language):
    greet("张三")
    for page in (client.get("/user/" + quote("张三")), client.hx_get("/user/" + quote("张三"))):
        assert page.status_code == 200
        assert page.text_of("user-heading") == language["hello"].format("张三")
        terms = [term.get_text() for term in page.soup.select("#user-card dt")]
        assert terms[0] == language["role"] and terms[1] == language["first_seen"]
        assert page.text_of("user-role") == language["role_user"]
    link = client.get("/").soup.select_one("#greeting-heading a")["href"]
    assert link == "/user/" + quote("张三")


def test_the_live_panel_its_poll_fragment_and_the_recent_page(greet, client, language):
    assert client.get("/").text_of("recent-greetings-empty") == language["nobody_greeted"]
    greet("张三")
    greet("张三")
    page, fragment, recent = client.get("/"), client.hx_get("/greetings/recent"), client.get("/greetings/recent")
    assert page.text_of("live-greetings-heading") == language["recently"]
    assert recent.text_of("recent-heading") == language["recently"]
    assert recent.soup.title.get_text() == f"{language['recently']} – Flasky"
    for answer in (page, fragment, recent):
        assert answer.headers["Content-Language"] == language["tag"]
        assert answer.text_of("active-visitors") == language["active"]
        badges = [badge.get_text() for badge in answer.soup.select("#recent-greetings .badge")]
        assert badges == [language["badge_returning"], language["badge_new"]]
        assert answer.soup.select_one("#recent-greetings noscript").get_text() == language["ago"]


@pytest.fixture
def explode(errors_reach_handlers, app):
    """A route that fails with an unhandled exception (a 500), added before any request."""
    app.add_url_rule("/explode", "explode", lambda: 1 / 0)


@pytest.mark.parametrize("htmx", [False, True])
def test_errors_in_the_visitor_s_language(explode, client, language, htmx):
    get = client.hx_get if htmx else client.get
    missing, wrong, broken = get("/user/Nobody"), client.hx_request("DELETE", "/") if htmx else client.delete("/"), \
        get("/explode")
    assert [missing.status_code, wrong.status_code, broken.status_code] == [404, 405, 500]
    if htmx:
        assert missing.text_of("flashes") == language["not_found"] + language["colon"] + language["nobody"].format(
            "Nobody")
        assert wrong.text_of("flashes") == language["not_allowed"]
        assert broken.text_of("flashes").startswith(language["server_error"])
        assert all(answer.headers["HX-Reswap"] == "none" for answer in (missing, wrong, broken))
    else:
        assert missing.text_of("error-heading") == language["not_found"]
        assert missing.text_of("error-message") == language["nobody"].format("Nobody")
        assert missing.soup.title.get_text() == f"{language['not_found']} – Flasky"
    assert all(answer.headers["Content-Language"] == language["tag"] for answer in (missing, wrong, broken))


def test_local_times_without_javascript_are_written_by_babel(language, make_app):
    from flasky.templating import time_ago, utc_datetime

    with make_app().test_request_context(headers={"Accept-Language": language["accept"]}):
        assert utc_datetime(datetime(2020, 1, 2, 3, 4)) == language["utc"]
        now = datetime(2020, 1, 2, 3, 4)
        assert time_ago(datetime(2020, 1, 2, 3, 3, 58), now) == language["ago"]
        three_minutes, one_day = time_ago(datetime(2020, 1, 2, 3, 1), now), time_ago(datetime(2020, 1, 1, 3, 4), now)
    assert (three_minutes, one_day) == (("3 minutes ago", "a day ago") if language["tag"] == "en" else
                                        ("3 分钟前", "1 天前"))


# moment.js 2.31's fromNow() at 2020-01-02 03:04 UTC (node, en and zh-cn), across each of its steps' edges: the
# server writes the same words, so the text moment.js writes keeps the room the server's kept (no layout shift).
NOW = datetime(2020, 1, 2, 3, 4)
FROM_NOW = [
    (timedelta(seconds=44), "a few seconds ago", "几秒前"),
    (timedelta(seconds=45), "a minute ago", "1 分钟前"),
    (timedelta(seconds=89), "a minute ago", "1 分钟前"),
    (timedelta(seconds=90), "2 minutes ago", "2 分钟前"),
    (timedelta(minutes=44, seconds=29), "44 minutes ago", "44 分钟前"),
    (timedelta(minutes=44, seconds=30), "an hour ago", "1 小时前"),
    (timedelta(minutes=90), "2 hours ago", "2 小时前"),
    (timedelta(hours=21, minutes=29), "21 hours ago", "21 小时前"),
    (timedelta(hours=21, minutes=30), "a day ago", "1 天前"),
    (timedelta(hours=36), "2 days ago", "2 天前"),
    (timedelta(days=25), "25 days ago", "25 天前"),
    (timedelta(days=25, hours=12), "a month ago", "1 个月前"),
    (timedelta(days=45), "a month ago", "1 个月前"),
    (timedelta(days=46), "2 months ago", "2 个月前"),
    (timedelta(days=304), "10 months ago", "10 个月前"),
    (timedelta(days=319), "a year ago", "1 年前"),  # 10 calendar months and 17 days: 11 of moment's months
    (timedelta(days=547), "a year ago", "1 年前"),
    (timedelta(days=549), "2 years ago", "2 年前"),
    (timedelta(days=3650), "10 years ago", "10 年前"),
]


@pytest.mark.parametrize(("ago", "english", "chinese"), FROM_NOW)
def test_time_ago_says_what_moment_s_from_now_says(app, ago, english, chinese):
    from flasky.templating import time_ago

    for accept, expected in (("en", english), ("zh-CN", chinese)):
        with app.test_request_context(headers={"Accept-Language": accept}):
            assert time_ago(NOW - ago, NOW) == expected


def test_chinese_pages_load_moment_s_chinese_locale_and_english_ones_do_not(client, language):
    scripts = [tag["src"] for tag in client.get("/").soup.select("script[src]")]
    chinese = [src for src in scripts if "/locale/zh-cn.js" in src]
    assert len(chinese) == (1 if language["tag"] == "zh-CN" else 0)
    if chinese:
        with client.get(chinese[0]) as script:
            assert script.status_code == 200
        assert scripts.index(chinese[0]) > max(i for i, src in enumerate(scripts) if "moment.min.js" in src)


# --- no English word on a Chinese page -----------------------------------------------------------------------

def test_a_chinese_visitor_meets_no_english_word_in_any_state(explode, client, greet, monkeypatch):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9,en;q=0.8"
    states = {"first visit": client.get("/"), "invalid": greet(" ", htmx=False), "too long": greet("x" * 70, htmx=True)}
    states["new name (htmx)"] = greet("Ann", htmx=True)
    assert greet("Bob").status_code == 303
    states["changed name (no JS)"] = client.get("/")
    states["known (htmx)"] = greet("Bob", htmx=True)
    states["user page"] = client.get("/user/Bob")
    states["user fragment"] = client.hx_get("/user/Bob")
    states["inline validation"] = client.hx_post("/validate/name", data={"name": "\u202eevil"})
    states["404 page"], states["404 fragment"] = client.get("/user/Nobody"), client.hx_get("/no/such/page")
    states["405"], states["500"] = client.put("/"), client.get("/explode")
    states["500 fragment"] = client.hx_get("/explode")
    states["400 language"] = client.post("/language", data={"lang": "xx"})
    states["csrf expired"] = client.submit(expired_token(client, monkeypatch), "#name-form", name="Ann")
    states["directory"], states["directory search"] = client.get("/users"), client.hx_get("/users?q=an&role=User")
    states["directory nobody"] = client.get("/users?q=Nobody")
    states["recent page"], states["recent fragment"] = client.get("/greetings/recent"), client.hx_get("/greetings/recent")
    client.application.config.update(FLASKY_LIVE_MAX_EVENTS=1, FLASKY_LIVE_TAIL_SECONDS=0.02)  # one event, then it ends
    stream = client.get("/greetings/stream").get_data(as_text=True)
    data = "\n".join(line[len("data: "):] for line in stream.splitlines() if line.startswith("data: "))
    states["stream event"] = BeautifulSoup(data, "html.parser")
    assert "最近 5 分钟内" in data
    states["directory 400"], states["directory bad cursor"] = client.get("/users?q=a%00"), client.get("/users?cursor=x")
    for state, response in states.items():
        soup = response if isinstance(response, BeautifulSoup) else response.soup
        assert english_words(soup, names=("Ann", "Bob", "Nobody", "xxxxxxxxxx", "evil")) == set(), state
    assert states["first visit"].soup.select_one("#live-greetings") is not None
    assert states["user page"].soup.select_one("#first-seen noscript").get_text().endswith("（UTC）")


@pytest.mark.parametrize("autoescape, expected", [(True, "你好，&lt;b&gt;O&#39;Brien&lt;/b&gt;！"),
                                                  (False, "你好，<b>O'Brien</b>！")])
def test_template_gettext_escapes_variables_only_where_the_template_autoescapes(make_app, autoescape, expected):
    app = make_app()
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        from flask import render_template_string

        source = '{% autoescape ' + ("true" if autoescape else "false") + ' %}{{ _("Hello, %(name)s!", name=who) }}' \
                 '{% endautoescape %}'
        assert render_template_string(source, who="<b>O'Brien</b>") == expected


@pytest.mark.parametrize("target, location", [("/user/Ann", "/flasky/user/Ann"), ("//evil.example", "/flasky/")])
def test_under_a_url_prefix_the_switcher_comes_back_under_it(client, target, location):
    answer = client.post("/language", data={"lang": "zh", "next": target}, base_url="http://localhost/flasky/")
    assert (answer.status_code, answer.headers["Location"]) == (303, location)


def test_force_language_switches_our_catalog_and_flask_babel_s_then_restores_both(make_app):
    from flask_babel import get_locale

    from flasky.i18n import current_language, force_language, gettext

    with make_app().test_request_context(headers={"Accept-Language": "en"}):
        assert (gettext("Home"), current_language().tag) == ("Home", "en")
        with force_language("zh"):
            assert (gettext("Home"), current_language().tag, str(get_locale())) == ("首页", "zh-CN", "zh")
        assert (gettext("Home"), current_language().tag, str(get_locale())) == ("Home", "en", "en")


# moment.js 2.31's "LLL" of these times in UTC (node, en and zh-cn). Babel names the Chinese day periods by CLDR's
# hours (下午 at 18:59 where moment says 晚上): always two characters, the same room.
LLL = [
    (datetime(2026, 1, 9, 0, 0), "January 9, 2026 12:00 AM", "2026年1月9日凌晨12点00分"),
    (datetime(2026, 1, 9, 8, 30), "January 9, 2026 8:30 AM", "2026年1月9日早上8点30分"),
    (datetime(2026, 12, 31, 13, 5), "December 31, 2026 1:05 PM", "2026年12月31日下午1点05分"),
    (datetime(2026, 12, 31, 18, 59), "December 31, 2026 6:59 PM", "2026年12月31日晚上6点59分"),
]
DAY_PERIOD = re.compile(r"(?<=日)\w\w(?=\d)")


@pytest.mark.parametrize(("when", "english", "chinese"), LLL)
def test_a_local_time_holds_a_text_of_moment_s_shape(app, when, english, chinese):
    from flasky.templating import local_text

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert local_text(when) == english
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert DAY_PERIOD.sub("..", local_text(when)) == DAY_PERIOD.sub("..", chinese)


# The shape of moment.js's "LLL" in each language.
LLL_SHAPE = {"en": re.compile(r"[A-Z][a-z]+ \d{1,2}, \d{4} \d{1,2}:\d{2} [AP]M"),
             "zh-CN": re.compile(r"\d{4}年\d{1,2}月\d{1,2}日\w\w\d{1,2}点\d{2}分")}


@pytest.mark.parametrize("path", ["/", "/user/Alice", "/users"])
def test_each_time_holds_a_text_of_moment_s_shape_and_noscript_its_own(client, language, greet, path):
    greet("Alice")
    times = client.get(path).soup.select("main [data-timestamp]")
    assert times
    for time in times:
        held, without_js = time.get_text(), time.find_next_sibling("noscript").get_text()
        if time["data-function"] == "fromNow":
            assert held == without_js == language["ago"]
        else:
            assert LLL_SHAPE[language["tag"]].fullmatch(held), held
            assert without_js.endswith({"en": " UTC", "zh-CN": "（UTC）"}[language["tag"]])  # the UTC time Babel wrote
