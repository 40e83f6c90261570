"""Chapter 3, Templates: hello.py of ch. 2 with Jinja2 templates. Run: flask --app chapters/ch03 run

New since ch. 2: the page moves from a string into templates/ — base.html, the layout with blocks (title,
description, content) the other pages extend; partials/greeting.html, a partial the pages include and /user/<name>
returns alone to htmx (page and swap come from one file, so they cannot drift apart); error.html for errors (the
book's 404.html and 500.html in one); url_for() for every link. Local times with Flask-Moment: moment.js comes from
static/vendor and Flask-Moment's own code from /flask-moment.js (the book's include_moment() writes inline scripts,
which a strict Content-Security-Policy refuses); chapters/static/chapters.js gives moment.js the page's language.
No Flask-Bootstrap (it brings Bootstrap 3 from a CDN): Bootstrap 5 is linked from the repository's static/vendor.

第 3 章 模板：第 2 章的 hello.py 加上 Jinja2 模板。运行：flask --app chapters/ch03 run
新内容：页面从字符串移到 templates/——base.html 是带块（title、description、content）的布局，其他页面继承它；
partials/greeting.html 是片段，页面包含它，htmx 请求 /user/<name> 时单独返回它（整页和片段出自同一个文件，
不会不一致）；error.html 是错误页面（书中的 404.html 和 500.html 合为一个）；所有链接用 url_for()。
用 Flask-Moment 显示本地时间：moment.js 来自 static/vendor，Flask-Moment 自己的代码由 /flask-moment.js 提供
（书中的 include_moment() 写内联脚本，严格的内容安全策略不允许）；chapters/static/chapters.js 让 moment.js
使用页面的语言。不用 Flask-Bootstrap（它从 CDN 加载 Bootstrap 3），直接链接仓库 static/vendor 里的 Bootstrap 5。
"""

from datetime import datetime, timezone

from flask import Flask, render_template, request
from flask_babel import lazy_gettext as _l
from flask_moment import Moment

from chapters import common

app = Flask(__name__, static_folder=common.STATIC)
common.init_app(app, chapter=3, summary=_l("Flask Web Development, chapter 3 in htmx: templates, a layout, a "
                                           "partial, error pages and local times."))
moment = Moment(app)
common.init_moment(app)


def wants_fragment():
    """Tell an htmx swap (HX-Request: true) from a page the browser loads itself (a link, a reload, Back)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


@app.route("/")
def index():
    """Greet a stranger and show the time."""
    return render_template("index.html", current_time=datetime.now(timezone.utc))


@app.route("/user/<name>")
def user(name):
    """Greet one name: the page, or for htmx the greeting partial the page includes."""
    return render_template("partials/greeting.html" if wants_fragment() else "user.html", name=name)


@app.errorhandler(404)
def page_not_found(error):
    """Answer an unknown address with a page of our own."""
    return render_template("error.html", code=404), 404


@app.errorhandler(500)
def internal_server_error(error):
    """Answer a failure with a page of our own, never a stack trace."""
    return render_template("error.html", code=500), 500


@app.after_request
def vary_on_htmx(response):
    """One URL gives a page or a fragment: tell caches (and Back) to keep them apart."""
    response.vary.update(["HX-Request", "HX-Boosted"])
    return response
