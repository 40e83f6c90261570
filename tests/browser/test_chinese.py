"""简体中文 in a real browser: a browser asking for Chinese gets Chinese pages, swaps, errors, local times and layout.

Every page here comes from a context with locale="zh-CN" (Chromium then sends Accept-Language: zh-CN), except the
switcher's tests, which start in English (en-US) and switch. As everywhere in the suite, the console_errors fixture
fails a test whose pages logged an error or threw.
"""

import re
from datetime import datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import HAS_MARKER, PHONE, assert_fits, assert_full_page, mark, open_phone

pytestmark = pytest.mark.browser_context_args(locale="zh-CN")

CHANGED = "看起来你换了名字！"
TOO_LONG = "名字最多 64 个字符。"
# 64 characters of the Thousand Character Classic: a name as long as the form takes, with no space to break at.
LONG_NAME = "天地玄黄宇宙洪荒日月盈昃辰宿列张寒来暑往秋收冬藏闰余成岁律吕调阳云腾致雨露结为霜金生丽水玉出昆冈剑号巨阙珠称夜光果珍李柰菜重芥姜"
# moment's zh-cn "LLL": 2026年12月1日上午10点33分.
CHINESE_LOCAL_TIME = re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日(凌晨|早上|上午|中午|下午|晚上)\d{1,2}点\d{2}分$")

# What a visitor reads or hears: the page's text, its title and description, the labels and values of controls.
READABLE_TEXT = """() => [
  document.title,
  document.body.innerText,
  document.querySelector("meta[name=description]")?.content || "",
  document.body.dataset.unreachable || "",
  ...[...document.querySelectorAll("[aria-label], [title], [placeholder], [alt]")].flatMap(
    (element) => ["aria-label", "title", "placeholder", "alt"].map((name) => element.getAttribute(name) || "")),
  ...[...document.querySelectorAll("input[type=submit], input[type=button]")].map((input) => input.value),
].join("\\n")"""
# Latin words a Chinese page may show: names (the app's, the book's 《Flask Web 开发》 and htmx in the description),
# the switcher's way back to English, and the time zone.
LATIN_ALLOWED = {"Flasky", "Flask", "Web", "htmx", "English", "UTC"}


def assert_chinese(page, *names):
    """Check the page declares Chinese and leaves no English word for its visitor, beyond the given names."""
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#language-switcher button")).to_have_text("English")
    text = page.evaluate(READABLE_TEXT)
    latin = set(re.findall(r"[A-Za-z]+", text))
    allowed = LATIN_ALLOWED | {word for name in names for word in re.findall(r"[A-Za-z]+", name)}
    assert sorted(latin - allowed) == [], f"English left on a Chinese page: {text!r}"


def switch_language(page, button):
    """Click a button of the language switcher; return the switcher's answer (its 303)."""
    with page.expect_response(lambda r: r.request.method == "POST" and r.url.endswith("/language")) as answer:
        page.locator("#language-switcher").get_by_role("button", name=button).click()
    page.wait_for_load_state()
    return answer.value


# --- the first page, swaps, errors -----------------------------------------------------------------------------


def test_the_first_page_is_in_chinese_with_chinese_local_times(page, live_server):
    answer = page.goto("/")
    assert answer.headers["content-language"] == "zh-CN"
    assert "Accept-Language" in answer.headers["vary"]
    expect(page.locator("#greeting-heading")).to_have_text("你好，陌生人！")
    expect(page.locator("label[for=name]")).to_have_text("你叫什么名字？")
    expect(page.get_by_role("textbox", name="你叫什么名字？")).to_be_visible()
    expect(page.locator("#submit")).to_have_value("提交")
    expect(page.locator("nav .nav-link", has_text="首页")).to_have_attribute("aria-current", "page")
    expect(page.locator("#time-ago [data-timestamp]")).to_have_text("几秒前")
    expect(page.locator("#time-ago")).to_have_text("那是几秒前。", use_inner_text=True)
    expect(page.locator("#local-time [data-timestamp]")).to_have_text(CHINESE_LOCAL_TIME)
    expect(page.locator("#local-time")).to_have_text(re.compile(r"^本地日期和时间是 \d{4}年\d{1,2}月.*。$"),
                                                     use_inner_text=True)
    assert_chinese(page)


def test_without_javascript_local_times_are_chinese_text(nojs_page, live_server):
    page = nojs_page
    page.goto("/")
    expect(page.locator("#local-time")).to_have_text(
        re.compile(r"^本地日期和时间是 \d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}（UTC）。$"), use_inner_text=True
    )
    expect(page.locator("#time-ago")).to_have_text("那是几秒前。", use_inner_text=True)
    assert_chinese(page)


def test_a_chinese_name_swaps_the_greeting_in_place(page, live_server, submit_name, usernames, screenshot):
    page.clock.install(time=datetime.now())
    page.goto("/")
    mark(page)
    heading, ago = page.locator("#greeting-heading"), page.locator("#time-ago [data-timestamp]")
    answer = submit_name(page, "张三")
    assert answer.status == 200
    assert answer.headers["content-language"] == "zh-CN"
    expect(heading).to_have_text("你好，张三！")
    expect(page.locator("#greeting-status")).to_have_text("很高兴认识你！")
    expect(heading).to_be_focused()
    expect(ago).to_have_text("几秒前")
    assert page.evaluate(HAS_MARKER), "no page load"
    assert page.url == f"{live_server}/"

    submit_name(page, "李四")
    expect(page.locator("#flashes")).to_have_text(CHANGED)
    expect(page.get_by_role("status")).to_have_text(CHANGED)
    expect(page.locator("#flashes .alert")).to_be_visible()
    expect(heading).to_have_text("你好，李四！")
    expect(heading).to_be_focused()
    expect(ago).to_have_text("几秒前")
    expect(page.locator("#local-time [data-timestamp]")).to_have_text(CHINESE_LOCAL_TIME)
    assert page.evaluate(HAS_MARKER)
    assert page.url == f"{live_server}/"
    assert_chinese(page)
    screenshot(page, "zh-js-greeting-with-flash")

    page.clock.run_for(timedelta(minutes=3).total_seconds() * 1000)
    expect(ago).to_have_text("3 分钟前")
    submit_name(page, "李四")
    expect(page.locator("#greeting-status")).to_have_text("很高兴再次见到你！")
    expect(page.locator("#flashes")).to_have_text("")
    page.clock.run_for(timedelta(minutes=2).total_seconds() * 1000)
    expect(ago).to_have_text("5 分钟前")
    assert usernames() == ["张三", "李四"]


def test_a_chinese_name_too_long_shows_the_error_in_chinese_and_64_characters_pass(
    page, live_server, submit_name, assert_name_error, console_errors, usernames
):
    console_errors.allow_status(422)
    page.goto("/")
    mark(page)
    answer = submit_name(page, "张" * 65)
    assert answer.headers["content-language"] == "zh-CN"
    assert_name_error(page, answer, TOO_LONG, "张" * 65)
    expect(page.get_by_role("textbox", name="你叫什么名字？")).to_be_focused()
    expect(page.locator("#greeting-heading")).to_have_text("你好，陌生人！")
    assert_chinese(page)
    assert usernames() == []

    assert submit_name(page, "张" * 64).status == 200
    expect(page.locator("#greeting-heading")).to_have_text(f"你好，{'张' * 64}！")
    expect(page.locator("#name-error")).to_have_text("")
    expect(page.locator("#name")).to_have_attribute("aria-invalid", "false")
    assert page.evaluate(HAS_MARKER)
    assert usernames() == ["张" * 64]


def test_inline_validation_speaks_chinese_while_typing(page, live_server, usernames):
    page.goto("/")
    field, error = page.locator("#name"), page.locator("#name-error")
    field.press_sequentially("张/", delay=20)
    expect(error).to_have_text("名字不能包含“/”，也不能只是“.”或“..”。")
    expect(field).to_have_accessible_description(
        "名字不能包含“/”，也不能只是“.”或“..”。 你填写的名字所有人都能看到：它会列在“访客”名录里，并显示在“最近的问候”中。")
    expect(field).to_have_attribute("aria-invalid", "true")
    field.press("Backspace")
    expect(error).to_have_text("")
    expect(field).to_have_attribute("aria-invalid", "false")
    assert usernames() == []


# --- the language switcher -------------------------------------------------------------------------------------


def english_tab_then_chinese(page, live_server, submit_name):
    """Greet Alice then Bob in English through boosted pages, then switch to Chinese on Bob's page.

    htmx then holds English snapshots of / and /user/Alice in sessionStorage; the Chinese page starts a new document.
    """
    page.goto("/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    submit_name(page, "Alice")
    page.locator("#greeting-heading a").click()
    expect(page.locator("#user-heading")).to_have_text("Hello, Alice!")
    page.locator("#user-card a", has_text="Back to the greeting").click()
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Alice!")
    submit_name(page, "Bob")
    page.locator("#greeting-heading a").click()
    expect(page).to_have_url(f"{live_server}/user/Bob")
    expect(page.locator("#user-heading")).to_have_text("Hello, Bob!")
    english_snapshots = page.evaluate("() => sessionStorage.getItem('htmx-history-cache')")
    assert "Hello, Alice!" in english_snapshots, "htmx kept English snapshots for Back"
    mark(page)
    answer = switch_language(page, "简体中文")
    assert answer.status == 303
    assert answer.headers["location"] == "/user/Bob"
    expect(page).to_have_url(f"{live_server}/user/Bob")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert not page.evaluate(HAS_MARKER), "a language switch is a full page load"
    return english_snapshots


def go_back_to(page, live_server, path, heading):
    """Press Back; check the browser shows the full Chinese page at path."""
    page.go_back()
    expect(page).to_have_url(f"{live_server}{path}")
    expect(page.locator("main h1")).to_have_text(heading)
    assert_full_page(page, heading)


@pytest.mark.browser_context_args(locale="en-US")
def test_the_switcher_reloads_the_same_page_in_chinese_and_back_never_restores_english(
    page, live_server, submit_name
):
    english_tab_then_chinese(page, live_server, submit_name)
    expect(page.locator("#user-heading")).to_have_text("你好，Bob！")
    expect(page.locator("#first-seen [data-function=fromNow]")).to_have_text("几秒前")
    expect(page).to_have_title("Bob – Flasky")
    assert_chinese(page, "Bob")
    assert "Hello" not in (page.evaluate("() => sessionStorage.getItem('htmx-history-cache')") or "")

    mark(page)
    page.locator("nav .nav-link", has_text="首页").click()
    expect(page).to_have_url(f"{live_server}/")
    assert_full_page(page, "你好，Bob！")
    expect(page.locator("#greeting-heading")).to_be_focused()
    expect(page.locator("#time-ago [data-timestamp]")).to_have_text("几秒前")
    assert page.evaluate(HAS_MARKER), "the navbar's links stay boosted"
    assert_chinese(page, "Alice", "Bob")  # the home page's live panel lists both

    # Back through the whole tab: the Chinese document, then the English one's entries, which Chromium loads
    # again and, within that new document, htmx restores from its cache. None may come back in English.
    for path, heading in [("/user/Bob", "你好，Bob！"), ("/user/Bob", "你好，Bob！"), ("/", "你好，Bob！"),
                          ("/user/Alice", "你好，Alice！"), ("/", "你好，Bob！")]:
        go_back_to(page, live_server, path, heading)
        assert_chinese(page, "Alice", "Bob")
    expect(page.locator("#time-ago [data-timestamp]")).to_have_text("几秒前")
    page.go_forward()
    expect(page.locator("#user-heading")).to_have_text("你好，Alice！")
    expect(page.locator("#first-seen [data-function=fromNow]")).to_have_text("几秒前")
    assert_chinese(page, "Alice", "Bob")  # htmx keeps <head>: the description still names Bob


@pytest.mark.browser_context_args(locale="en-US")
def test_back_would_restore_english_if_the_history_cache_were_kept(page, live_server, submit_name):
    # The trap the test above guards against: put back the snapshots app.js drops on a language change.
    english_snapshots = english_tab_then_chinese(page, live_server, submit_name)
    page.evaluate("snapshots => sessionStorage.setItem('htmx-history-cache', snapshots)", english_snapshots)
    page.go_back()  # the English document's last entry: Chromium loads it again, in Chinese
    expect(page.locator("#user-heading")).to_have_text("你好，Bob！")
    page.go_back()  # within that new document: htmx restores / from its cache
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("main h1")).to_have_text("Hello, Bob!")
    expect(page.locator("html"), "an English page inside a Chinese one").to_have_attribute("lang", "zh-CN")


@pytest.mark.browser_context_args(locale="en-US")
def test_a_language_switched_in_another_tab_never_mixes_languages_in_this_one(
    page, context, live_server, submit_name, console_errors
):
    # The lang cookie is shared by the tabs; each tab's <html lang>, <head> and moment's locale stay as loaded.
    page.goto("/")
    submit_name(page, "Alice")
    other = console_errors.watch(context.new_page())
    other.goto("/")
    switch_language(other, "简体中文")
    expect(other.locator("html")).to_have_attribute("lang", "zh-CN")
    page.locator("nav .nav-link", has_text="Home").click()
    # The boosted answer is Chinese now: the page is loaded again, whole, in Chinese, not patched into English.
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#greeting-heading")).to_have_text("你好，Alice！")
    expect(page.locator("#time-ago")).to_have_text("那是几秒前。")


@pytest.mark.browser_context_args(locale="en-US")
def test_the_switcher_works_without_javascript(nojs_page, live_server, submit_name):
    page = nojs_page
    page.goto("/")
    submit_name(page, "Alice")
    page.locator("#greeting-heading a").click()
    expect(page.locator("#user-heading")).to_have_text("Hello, Alice!")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    answer = switch_language(page, "简体中文")
    assert answer.status == 303
    assert answer.headers["location"] == "/user/Alice"
    expect(page).to_have_url(f"{live_server}/user/Alice")
    expect(page.locator("#user-heading")).to_have_text("你好，Alice！")
    expect(page).to_have_title("Alice – Flasky")
    assert_chinese(page, "Alice")
    [cookie] = [cookie for cookie in page.context.cookies() if cookie["name"] == "lang"]
    assert cookie["value"] == "zh"
    page.locator("#user-card a", has_text="返回问候页").click()
    expect(page.locator("#greeting-heading")).to_have_text("你好，Alice！")
    assert_chinese(page, "Alice")

    answer = switch_language(page, "English")
    assert answer.status == 303
    assert answer.headers["location"] == "/"
    expect(page).to_have_url(f"{live_server}/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Alice!")
    expect(page.locator("#language-switcher button")).to_have_text("简体中文")
    page.locator("#greeting-heading a").click()
    expect(page.locator("#user-heading")).to_have_text("Hello, Alice!")


# --- everyone: accessibility, phones ---------------------------------------------------------------------------


def reach_index(page, submit_name, console_errors):
    """Open the index as a first-time visitor."""
    page.goto("/")


def reach_index_errors(page, submit_name, console_errors):
    """Send a Chinese name one character too long."""
    console_errors.allow_status(422)
    page.goto("/")
    assert submit_name(page, "张" * 65).status == 422
    expect(page.locator("#name-error")).to_have_text(TOO_LONG)


def reach_greeting(page, submit_name, console_errors):
    """Greet two names, so the greeting comes with its flash."""
    page.goto("/")
    submit_name(page, "张三")
    submit_name(page, "李四")
    expect(page.locator("#flashes .alert")).to_have_text(CHANGED)


def reach_user(page, submit_name, console_errors):
    """Follow the greeting's link to the user page."""
    page.goto("/")
    submit_name(page, "李四")
    page.locator("#greeting-heading a").click()
    expect(page.locator("#user-heading")).to_have_text("你好，李四！")


def reach_not_found(page, submit_name, console_errors):
    """Open the page of a name nobody used."""
    console_errors.allow_status(404)
    assert page.goto("/user/无名氏").status == 404
    expect(page.locator("#error-heading")).to_have_text("页面不存在")
    expect(page.locator("#error-message")).to_have_text("还没有叫“无名氏”的人来过这里。")


STATES = {
    "index": reach_index,
    "index-errors": reach_index_errors,
    "greeting": reach_greeting,
    "user": reach_user,
    "not-found": reach_not_found,
}
# Screenshots of these states (with JavaScript) are also committed in docs/screenshots/ (see README).
DOCS_STATES = {"index-errors", "greeting", "user"}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_no_serious_accessibility_violations_in_chinese(
    request, mode, state, axe, screenshot, submit_name, console_errors
):
    page = request.getfixturevalue("page" if mode == "js" else "nojs_page")
    STATES[state](page, submit_name, console_errors)
    assert_chinese(page)
    name = f"zh-{state}" if mode == "js" else f"zh-nojs-{state}"
    screenshot(page, name, docs=mode == "js" and state in DOCS_STATES)
    axe(page, name)


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_no_horizontal_scrolling_with_the_longest_chinese_name(
    mode, new_context, live_server, submit_name, console_errors, screenshot
):
    console_errors.allow_status(404, 422)
    phone = open_phone(new_context, console_errors, js=mode == "js")
    phone.goto("/")
    expect(phone.locator("html")).to_have_attribute("lang", "zh-CN")
    assert phone.viewport_size == PHONE

    def assert_no_sideways_scroll(state):
        assert_fits(phone, state)
        scroll, client = phone.evaluate(
            "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll <= client, f"{state}: the document is {scroll} px wide for {client} px"

    assert_no_sideways_scroll("index")
    submit_name(phone, LONG_NAME + "张")
    expect(phone.locator("#name-error")).to_have_text(TOO_LONG)
    assert_no_sideways_scroll("index with errors")
    submit_name(phone, LONG_NAME[:-1])
    submit_name(phone, LONG_NAME)
    expect(phone.locator("#greeting-heading")).to_have_text(f"你好，{LONG_NAME}！")
    expect(phone.locator("#flashes .alert")).to_have_text(CHANGED)
    assert_chinese(phone)
    assert_no_sideways_scroll("greeting")
    screenshot(phone, "phone-zh-greeting" if mode == "js" else "phone-zh-nojs-greeting", docs=mode == "js")
    phone.locator("#greeting-heading a").click()
    expect(phone.locator("#user-heading")).to_have_text(f"你好，{LONG_NAME}！")
    assert_no_sideways_scroll("user page")
    phone.goto(f"/user/{LONG_NAME}{LONG_NAME}")
    expect(phone.locator("#error-heading")).to_have_text("页面不存在")
    assert_no_sideways_scroll("not found")


def test_the_chinese_navbar_opens_on_a_phone_and_its_switcher_fits(
    new_context, live_server, console_errors, screenshot
):
    phone = open_phone(new_context, console_errors, js=True)
    phone.goto("/")
    toggler = phone.get_by_role("button", name="展开或收起导航")
    switcher = phone.locator("#language-switcher").get_by_role("button", name="English")
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(switcher).to_be_hidden()
    toggler.click()
    expect(phone.locator("#navbar-links")).to_have_class(re.compile(r"\bcollapse show\b"))  # opened, not opening
    expect(switcher).to_be_in_viewport()
    expect(phone.locator("#navbar-links .nav-link", has_text="首页")).to_be_in_viewport()
    screenshot(phone, "phone-zh-navbar-open", docs=True)
    assert_fits(phone, "navbar open")

