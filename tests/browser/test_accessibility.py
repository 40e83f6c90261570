"""Everyone: no serious axe violations in any state, every control reachable and usable by keyboard, visible focus."""

import pytest
from playwright.sync_api import expect

# Screenshots of these states are also committed in docs/screenshots/ (see README).
DOCS_STATES = {("js", "index-errors"), ("js", "greeting"), ("js", "user"), ("nojs", "greeting")}


def reach_index(page, submit_name, expire_csrf_token, console_errors):
    """Open the index as a first-time visitor."""
    page.goto("/")


def reach_index_errors(page, submit_name, expire_csrf_token, console_errors):
    """Send a name that is too long."""
    console_errors.allow_status(422)
    page.goto("/")
    assert submit_name(page, "x" * 70).status == 422
    expect(page.locator("#name-error")).to_be_visible()


def reach_greeting(page, submit_name, expire_csrf_token, console_errors):
    """Greet two names, so the greeting comes with a flash."""
    page.goto("/")
    submit_name(page, "Alice")
    submit_name(page, "Bob")
    expect(page.locator("#flashes .alert")).to_be_visible()


def reach_user(page, submit_name, expire_csrf_token, console_errors):
    """Follow the greeting's link to the user page."""
    page.goto("/")
    submit_name(page, "Bob")
    page.locator("#greeting-heading a").click()
    expect(page.locator("#user-heading")).to_have_text("Hello, Bob!")


def reach_not_found(page, submit_name, expire_csrf_token, console_errors):
    """Open the page of a name nobody used."""
    console_errors.allow_status(404)
    assert page.goto("/user/Nobody").status == 404


def reach_expired_form(page, submit_name, expire_csrf_token, console_errors):
    """Send the form with an expired CSRF token."""
    console_errors.allow_status(400)
    page.goto("/")
    expire_csrf_token(page)
    assert submit_name(page, "Kim").status == 400
    expect(page.locator("#form-error")).to_be_visible()


def reach_server_error(page, submit_name, expire_csrf_token, console_errors):
    """Open the test-only route that fails."""
    console_errors.allow_status(500)
    assert page.goto("/test/explode").status == 500


STATES = {
    "index": reach_index,
    "index-errors": reach_index_errors,
    "greeting": reach_greeting,
    "user": reach_user,
    "not-found": reach_not_found,
    "expired-form": reach_expired_form,
    "server-error": reach_server_error,
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_no_serious_accessibility_violations(
    request, mode, state, axe, screenshot, submit_name, expire_csrf_token, console_errors
):
    page = request.getfixturevalue("page" if mode == "js" else "nojs_page")
    STATES[state](page, submit_name, expire_csrf_token, console_errors)
    screenshot(page, f"{mode}-{state}", docs=(mode, state) in DOCS_STATES)
    axe(page, f"{mode}-{state}")


def test_no_serious_accessibility_violations_in_an_htmx_error_message(
    page, live_server, axe, screenshot, submit_name, console_errors
):
    console_errors.allow_status(500)
    page.goto("/")
    page.route(f"{live_server}/", lambda route: route.continue_(url=f"{live_server}/test/explode")
               if route.request.method == "POST" else route.continue_())
    submit_name(page, "Lou")
    expect(page.locator("#flashes .alert-danger")).to_be_visible()
    screenshot(page, "js-htmx-server-error")
    axe(page, "js-htmx-server-error")


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_axe_reports_violations_when_there_are_some(request, mode, axe, live_server):
    page = request.getfixturevalue("page" if mode == "js" else "nojs_page")
    page.goto("/")
    page.locator("label[for=name]").evaluate("label => label.remove()")
    with pytest.raises(AssertionError, match="violations"):
        axe(page, "broken on purpose")


# What a keyboard user meets, in order, from the top of the page.
TAB_ORDER = ["Skip to main content", "Flasky", "Home", "Visitors", "简体中文", "name", "Submit"]
TAB_ORDER_GREETED = ["Skip to main content", "Flasky", "Home", "Visitors", "简体中文", "Bob", "name", "Submit"]

# What has focus, and whether it shows: an opaque outline, or an opaque box-shadow with some blur or spread
# (Bootstrap's focus rings), measured once any transition has finished.
FOCUSED = """async () => {
  const element = document.activeElement;
  await Promise.all(element.getAnimations().map((animation) => animation.finished.catch(() => null)));
  const style = getComputedStyle(element);
  const opaque = (color) => !/^rgba\\(.*,\\s*0\\)$/.test(color) && color !== "transparent";
  const outlined = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0 && opaque(style.outlineColor);
  const shadows = [...style.boxShadow.matchAll(/(rgba?\\([^)]*\\))\\s+([^,]+)/g)];
  const shadowed = shadows.some(([, color, lengths]) => {
    const [, , blur = "0", spread = "0"] = lengths.trim().split(/\\s+/);
    return opaque(color) && (parseFloat(blur) > 0 || parseFloat(spread) > 0);
  });
  return {
    label: element.id === "name" ? "name" : (element.tagName === "BUTTON" ? element.textContent : element.value || element.textContent).trim(),
    visible: outlined || shadowed,
  };
}"""


def tab_through(page, stops):
    """Reload the page, press Tab once per expected stop, and return what got focus and whether it showed."""
    page.reload()
    visited = []
    for _ in stops:
        page.keyboard.press("Tab")
        visited.append(page.evaluate(FOCUSED))
    return visited


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_keyboard_reaches_every_control_with_visible_focus_and_enter_submits(
    request, mode, live_server, usernames
):
    page = request.getfixturevalue("page" if mode == "js" else "nojs_page")
    page.goto("/")
    visited = tab_through(page, TAB_ORDER)
    assert [stop["label"] for stop in visited] == TAB_ORDER
    assert [stop["label"] for stop in visited if not stop["visible"]] == [], "focus must be visible"

    page.keyboard.press("Shift+Tab")
    expect(page.locator("#name")).to_be_focused()
    page.keyboard.type("Alice")
    page.keyboard.press("Enter")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Alice!")

    visited = tab_through(page, TAB_ORDER_GREETED)
    assert [stop["label"] for stop in visited] == [label.replace("Bob", "Alice") for label in TAB_ORDER_GREETED]
    assert [stop["label"] for stop in visited if not stop["visible"]] == [], "focus must be visible"
    page.keyboard.press("Shift+Tab")
    page.keyboard.type("Bob")
    page.keyboard.press("Tab")
    expect(page.locator("#submit")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Bob!")
    assert usernames() == ["Alice", "Bob"]

    visited = tab_through(page, TAB_ORDER_GREETED[:6])
    assert visited[-1]["label"] == "Bob"
    page.keyboard.press("Enter")
    expect(page.locator("#user-heading")).to_have_text("Hello, Bob!")
    user_page_order = ["Skip to main content", "Flasky", "Home", "Visitors", "简体中文", "Back to the greeting"]
    visited = tab_through(page, user_page_order)
    assert [stop["label"] for stop in visited] == user_page_order
    assert [stop["label"] for stop in visited if not stop["visible"]] == [], "focus must be visible"
    page.keyboard.press("Enter")
    expect(page.locator("#greeting-heading")).to_have_text("Hello, Bob!")


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_skip_link_moves_focus_to_the_main_content(request, mode, live_server):
    page = request.getfixturevalue("page" if mode == "js" else "nojs_page")
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.locator("a", has_text="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#name")).to_be_focused()


def test_after_swaps_focus_is_visible_and_tab_goes_on_from_there(page, live_server, submit_name, console_errors):
    console_errors.allow_status(422)
    page.goto("/")
    submit_name(page, "", key="Enter")
    expect(page.locator("#name")).to_be_focused()
    assert page.evaluate(FOCUSED)["visible"], "the focused field shows its focus"
    submit_name(page, "Alice", key="Enter")
    expect(page.locator("#greeting-heading")).to_be_focused()
    assert page.evaluate(FOCUSED)["visible"], "the focused heading shows its focus"
    page.keyboard.press("Tab")
    expect(page.locator("#greeting-heading a")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#user-heading")).to_be_focused()
    assert page.evaluate(FOCUSED)["visible"], "the focused heading shows its focus"
    page.keyboard.press("Tab")
    expect(page.locator("#user-card a", has_text="Back to the greeting")).to_be_focused()


@pytest.mark.parametrize(
    "style",
    [
        "outline: none !important; box-shadow: none !important;",
        "outline: 2px solid transparent !important; box-shadow: none !important;",
        "outline: none !important; box-shadow: 0 0 0 0 rgba(0, 0, 0, 0) !important;",
        "outline: none !important; box-shadow: 0 0 0 4px rgba(13, 110, 253, 0) !important;",
    ],
)
def test_the_focus_probe_sees_a_missing_focus_indicator(page, live_server, style):
    page.goto("/")
    # A constructed style sheet: the page's CSP (rightly) refuses an injected <style> element.
    page.evaluate("""css => {
        const sheet = new CSSStyleSheet();
        sheet.replaceSync(css);
        document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
    }""", f"*:focus {{ {style} }}")
    page.locator("#name").focus()
    assert page.evaluate(FOCUSED) == {"label": "name", "visible": False}


@pytest.mark.parametrize("mode", ["js", "nojs"])
def test_focus_stays_visible_in_forced_colors_mode(request, mode, new_context, live_server, console_errors):
    # High-contrast themes drop box-shadows, which are Bootstrap's focus rings.
    context = new_context(forced_colors="active", java_script_enabled=mode == "js")
    page = console_errors.watch(context.new_page())
    page.goto("/")
    visited = tab_through(page, TAB_ORDER)
    assert [stop["label"] for stop in visited] == TAB_ORDER
    assert [stop["label"] for stop in visited if not stop["visible"]] == [], "focus must be visible"
