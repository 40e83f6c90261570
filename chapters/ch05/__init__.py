"""Chapter 5, Databases: hello.py of ch. 4 remembering names. Run: flask --app chapters/ch05 db upgrade, then
flask --app chapters/ch05 run

New since ch. 4: Flask-SQLAlchemy with the book's Role and User models (instance/ch05.sqlite, or the URL in
CHAPTERS_DATABASE_URL); Flask-Migrate with this step's own migrations/ (flask --app chapters/ch05 db upgrade makes
the tables; a database without them gets a page that says so, not a 500). The view looks the name up: a new one is
added ("Pleased to meet you!"), a known one is greeted again ("Happy to see you again!"); session["known"] carries
that to the page after the redirect, and htmx gets it in the greeting sent out of band. Queries are SQLAlchemy 2.0's
select() instead of the book's User.query. The app is still built when the module is imported, as in the book:
chapter 7's factory is what lets tests give each app its own database (here they set CHAPTERS_DATABASE_URL first).
The main app does more: a unique index settles two first posts of one name at once (flasky/greeting.py remember()).

第 5 章 数据库：第 4 章的 hello.py 记住名字。运行：先 flask --app chapters/ch05 db upgrade，再 flask --app chapters/ch05 run
新内容：Flask-SQLAlchemy 和书中的 Role、User 模型（数据库在 instance/ch05.sqlite，或 CHAPTERS_DATABASE_URL 指定的地址）；
Flask-Migrate 和本章自己的 migrations/（flask --app chapters/ch05 db upgrade 创建表；没有表时页面会说明，而不是 500）。
视图在数据库里查这个名字：新名字就添加（“很高兴认识你！”），认识的名字再次问候（“很高兴再次见到你！”）；
session["known"] 把结果带到重定向后的页面，htmx 则在带外发送的问候里得到它。查询用 SQLAlchemy 2.0 的 select()，
不用书中的 User.query。和书中一样，程序在导入模块时创建：第 7 章的工厂函数才让测试能给每个程序自己的数据库
（这里测试先设置 CHAPTERS_DATABASE_URL）。主程序做得更多：唯一索引处理同一个名字同时两次首次提交（flasky/greeting.py remember()）。
"""

import os
from pathlib import Path

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_migrate import Migrate
from flask_moment import Moment
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import FlaskForm
from sqlalchemy.exc import OperationalError
from wtforms import StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from chapters import common

app = Flask(__name__, static_folder=common.STATIC)
app.config["SECRET_KEY"] = os.environ.get("SECRET_KEY", "hard to guess string")  # the book's: set your own
# A relative SQLite path lands in the instance folder (the repository's instance/, beside the main app's database).
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("CHAPTERS_DATABASE_URL", "sqlite:///ch05.sqlite")
common.init_app(app, chapter=5, summary=_l("Flask Web Development, chapter 5 in htmx: names remembered in a database "
                                           "with Flask-SQLAlchemy and Flask-Migrate."))
common.reuse_templates(app, "ch04", "ch03")
moment = Moment(app)
common.init_moment(app)
common.init_inspector(app)  # flask run --debug: every page lists its exchanges
db = SQLAlchemy(app)
migrate = Migrate(app, db, directory=str(Path(__file__).with_name("migrations")))


class Role(db.Model):
    __tablename__ = "roles"
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(64), unique=True)
    users = db.relationship("User", backref="role", lazy="dynamic")

    def __repr__(self):
        return f"<Role {self.name!r}>"


class User(db.Model):
    __tablename__ = "users"
    id = db.Column(db.Integer, primary_key=True)
    username = db.Column(db.String(64), unique=True, index=True)
    role_id = db.Column(db.Integer, db.ForeignKey("roles.id"))

    def __repr__(self):
        return f"<User {self.username!r}>"


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


@app.shell_context_processor
def make_shell_context():
    """Preload the database and models in flask --app chapters/ch05 shell."""
    return {"db": db, "User": User, "Role": Role}


@app.route("/", methods=["GET", "POST"])
def index():
    """Show the form; take a name, add it if new: PRG without JS, the form and greeting in place with htmx."""
    form = NameForm()
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).filter_by(username=form.name.data))
        if user is None:
            db.session.add(User(username=form.name.data))
            db.session.commit()
            session["known"] = False
        else:
            session["known"] = True
        old_name = session.get("name")
        if old_name is not None and old_name != form.name.data:
            flash(_("Looks like you have changed your name!"))
        session["name"] = form.name.data
        if not wants_fragment():
            return redirect(url_for("index"), 303)  # 303 See Other: the browser GETs / next
        return render_template("greeted.html", form=NameForm(formdata=None), name=session["name"],
                               known=session["known"])
    status = 200 if request.method == "GET" else 400 if form.csrf_token.errors else 422
    template = "partials/name-form.html" if wants_fragment() else "index.html"
    return render_template(template, form=form, name=session.get("name"), known=session.get("known", False)), status


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


@app.errorhandler(OperationalError)
def no_tables(error):
    """Tell the visitor the command that creates the tables (a fresh clone has none), rather than a 500."""
    db.session.rollback()
    return render_template("no-tables.html"), 503


@app.after_request
def vary_on_htmx(response):
    """One URL gives a page or a fragment: tell caches (and Back) to keep them apart."""
    response.vary.update(["HX-Request", "HX-Boosted"])
    return response
