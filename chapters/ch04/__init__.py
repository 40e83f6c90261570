"""Chapter 4, Web Forms: hello.py of ch. 3 with a name form. Run: flask --app chapters/ch04 run

New since ch. 3: SECRET_KEY and Flask-WTF's CSRF token; NameForm (a stripped name, 1 to 64 characters, no < or >);
one view for GET and POST / as in the book. Without JavaScript the form posts and gets a 303 redirect back to /
(Post/Redirect/Get: reloading never posts again). With htmx the same form is posted by hx-post and swapped in place:
a fresh form, with the greeting and the flash sent out of band (greeted.html). A rejected name answers 422 with the
message beside the field (the whole page, or for htmx the form alone, the focus on the field), a failed CSRF check
400 (common.py tells htmx to swap both). The session keeps the name; flash() says when it changed. templates/ holds
only what is new; the rest (base.html, user.html …) comes from ch03/templates/. With `flask run --debug`, every page
has the main app's exchange inspector: which template answered each request, and the htmx headers that chose it.

第 4 章 Web 表单：第 3 章的 hello.py 加上名字表单。运行：flask --app chapters/ch04 run
新内容：SECRET_KEY 和 Flask-WTF 的 CSRF 令牌；NameForm（去掉首尾空白，1 到 64 个字符，不含 < 或 >）；和书中一样，
一个视图处理 GET 和 POST /。不启用 JavaScript 时表单提交后得到 303 重定向回 /（提交/重定向/获取，刷新不会重复提交）；
启用 htmx 时同一个表单由 hx-post 提交并就地替换：新的表单，问候和 flash 消息带外（out of band）发送（greeted.html）。
名字不合格时返回 422，错误提示在输入框旁边（整页，或 htmx 只得到表单，焦点移到输入框），CSRF 检查失败返回 400
（common.py 让 htmx 替换这两种响应）。会话记住名字，名字变了用 flash() 提示。templates/ 里只有新增或改动的模板，其余
（base.html、user.html……）来自 ch03/templates/。用 `flask run --debug` 运行时，每个页面都有主程序的交换检查面板：
每个请求由哪个模板应答，以及决定它的 htmx 首部。
"""

import os

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_moment import Moment
from flask_wtf import FlaskForm
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from chapters import common

app = Flask(__name__, static_folder=common.STATIC)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "hard to guess string")  # the book's: set your own
common.init_app(app, chapter=4, summary=_l("Flask Web Development, chapter 4 in htmx: a form that works with and "
                                           "without JavaScript."))
common.reuse_templates(app, "ch03")
moment = Moment(app)
common.init_moment(app)
common.init_inspector(app)  # flask run --debug: every page lists its exchanges


def strip(value):
    """Drop the spaces around a name, so that spaces alone count as no name."""
    return value.strip() if isinstance(value, str) else value


class NameForm(FlaskForm):
    name = StringField(_l("What is your name?"), filters=[strip], validators=[
        DataRequired(_l("Please enter your name.")),
        Length(max=64, message=_l("A name is at most 64 characters long.")),
        Regexp(r"^[^<>]*$", message=_l("A name cannot contain < or >.")),
    ])
    submit = SubmitField(_l("Submit"))


def wants_fragment():
    """Tell an htmx swap (HX-Request: true) from a page the browser loads itself (a link, a reload, Back)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"


@app.route("/", methods=["GET", "POST"])
def index():
    """Show the form; take a name: PRG without JS, the form and greeting in place with htmx."""
    form = NameForm()
    if form.validate_on_submit():
        old_name = session.get("name")
        if old_name is not None and old_name != form.name.data:
            flash(_("Looks like you have changed your name!"))
        session["name"] = form.name.data
        if not wants_fragment():
            return redirect(url_for("index"), 303)  # 303 See Other: the browser GETs / next
        return render_template("greeted.html", form=NameForm(formdata=None), name=session["name"])
    status = 200 if request.method == "GET" else 400 if form.csrf_token.errors else 422
    template = "partials/name-form.html" if wants_fragment() else "index.html"
    return render_template(template, form=form, name=session.get("name")), status


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
