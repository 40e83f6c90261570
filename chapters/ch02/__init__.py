"""Chapter 2, Basic Application Structure: the book's hello.py, htmx edition. Run: flask --app chapters/ch02 run

New: an app, two routes (/ and /user/<name>), the request object (its headers say whether htmx asked), the response
object and a hook (after_request adds Vary). The first page-or-fragment decision: a link followed by the browser gets
the whole page; the same link followed by htmx (HX-Request: true) gets only <h1 id="greeting">, swapped in place.
Unlike the book, the name is never pasted into HTML with '%s': Jinja escapes it (the book's version is an XSS hole).
The page is a template string here; chapter 3 moves it into template files.

第 2 章 程序的基本结构：书中的 hello.py（htmx 版）。运行：flask --app chapters/ch02 run
新内容：程序实例、两个路由（/ 和 /user/<name>）、请求对象（从请求头判断是不是 htmx 发来的）、响应对象和一个请求钩子
（after_request 加上 Vary 首部）。第一次“整页还是片段”的判断：浏览器直接打开链接得到整页；htmx 打开同一链接
（HX-Request: true）只得到 <h1 id="greeting">，就地替换。和书中不同，名字不用 '%s' 拼进 HTML，而由 Jinja 转义
（书中的写法有 XSS 漏洞）。这里页面还是 Python 里的模板字符串，第 3 章把它移到模板文件里。
"""

from flask import Flask, render_template_string, request
from flask_babel import gettext as _, lazy_gettext as _l

from chapters import common

app = Flask(__name__, static_folder=common.STATIC)
common.init_app(app, chapter=2, summary=_l("Flask Web Development, chapter 2 in htmx: routes, the request and "
                                           "response objects, a hook."))

# The fragment htmx swaps in: the page's greeting, alone.
GREETING = """<h1 id="greeting">{{ heading }}</h1>"""

# The whole page around it.
PAGE = """<!doctype html>
<html lang="{{ language_tag() }}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="htmx-config" content="{{ htmx_config }}">
  <title>{{ title }}</title>
  <meta name="description" content="{{ summary }}">
  <link rel="icon" href="{{ url_for('static', filename='favicon.svg') }}" type="image/svg+xml">
  <link rel="stylesheet" href="{{ url_for('static', filename='vendor/bootstrap-5.3.9/bootstrap.min.css') }}">
  <script src="{{ url_for('static', filename='vendor/htmx-2.0.11/htmx.min.js') }}" defer></script>
</head>
<body>
  <main class="container py-4">
    """ + GREETING + """
    <p id="friends">{{ say_hello }}
      {% for friend in ["Miguel", "李雷"] %}
      <a href="{{ url_for('user', name=friend) }}" hx-get="{{ url_for('user', name=friend) }}"
         hx-target="#greeting" hx-swap="outerHTML" hx-push-url="true">{{ friend }}</a>
      {% endfor %}
    </p>
  </main>
</body>
</html>
"""


def wants_fragment():
    """Tell an htmx swap (HX-Request: true) from a page the browser loads itself (a link, a reload, Back)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


def greet(name=None):
    """Answer the whole page, or for an htmx swap only the greeting, in the visitor's language."""
    heading = _("Hello, %(name)s!", name=name) if name else _("Hello World!")
    if wants_fragment():
        return render_template_string(GREETING, heading=heading)
    title = _("%(name)s · Chapter 2", name=name) if name else _("Chapter 2 · Flasky")
    return render_template_string(PAGE, heading=heading, title=title, say_hello=_("Say hello to:"))


@app.route("/")
def index():
    """Greet the world."""
    return greet()


@app.route("/user/<name>")
def user(name):
    """Greet one name."""
    return greet(name)


@app.after_request
def vary_on_htmx(response):
    """One URL gives a page or a fragment: the response object tells caches (and Back) to keep them apart."""
    response.vary.update(["HX-Request", "HX-Boosted"])
    return response
