"""Chapter 6, Email: hello.py of ch. 5 mailing the admin about each new name. Run: flask --app chapters/ch06 db
upgrade, then flask --app chapters/ch06 run (FLASKY_ADMIN=you@example.com to get mail)

New since ch. 5: Flask-Mail and the book's send_email(to, subject, template, **kwargs), which renders
templates/mail/new_user.txt and .html and sends them in a thread (send_async_email, inside an app context), so the
visitor does not wait for the SMTP server. Settings come from the environment as in the book (MAIL_SERVER,
MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD, FLASKY_ADMIN); with MAIL_SERVER unset the mail is written to
the log instead, so you need no mail server to try it. The admin reads the mail in FLASKY_ADMIN_LOCALE (en or zh),
whatever the visitor's language. The tables are ch. 5's: this step uses ch05/migrations/ (instance/ch06.sqlite).
A thread loses its mail when the process stops or crashes before the SMTP server has it, and when the server is down;
the main app keeps mail in an outbox table written in the same transaction as the new name, and delivers it with
retries (flasky/outbox/).

第 6 章 电子邮件：第 5 章的 hello.py，每个新名字都给管理员发邮件。运行：先 flask --app chapters/ch06 db upgrade，
再 flask --app chapters/ch06 run（设置 FLASKY_ADMIN=你的邮箱 才会收到邮件）
新内容：Flask-Mail 和书中的 send_email(to, subject, template, **kwargs)：渲染 templates/mail/new_user.txt 和 .html，
在线程里发送（send_async_email，在程序上下文中），访客不必等待 SMTP 服务器。设置和书中一样来自环境变量（MAIL_SERVER、
MAIL_PORT、MAIL_USE_TLS、MAIL_USERNAME、MAIL_PASSWORD、FLASKY_ADMIN）；没有设置 MAIL_SERVER 时邮件写进日志，
不需要邮件服务器也能试。管理员收到的邮件用 FLASKY_ADMIN_LOCALE（en 或 zh）的语言，与访客的语言无关。
表和第 5 章一样：本章使用 ch05/migrations/（数据库 instance/ch06.sqlite）。进程在 SMTP 服务器收下邮件之前停止或崩溃时，
或服务器宕机时，线程里的邮件就丢了；主程序把邮件和新名字在同一个事务里写进发件箱表，再带重试地发送（flasky/outbox/）。
"""

import os
from pathlib import Path
from threading import Thread

from flask import Flask, flash, redirect, render_template, request, session, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
from flask_mail import Mail, Message
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
app.config["SQLALCHEMY_DATABASE_URI"] = os.environ.get("CHAPTERS_DATABASE_URL", "sqlite:///ch06.sqlite")
app.config["MAIL_SERVER"] = os.environ.get("MAIL_SERVER")  # unset: mail goes to the log
app.config["MAIL_PORT"] = int(os.environ.get("MAIL_PORT", "587"))
app.config["MAIL_USE_TLS"] = os.environ.get("MAIL_USE_TLS", "true").lower() in {"true", "1", "yes", "on"}
app.config["MAIL_USERNAME"] = os.environ.get("MAIL_USERNAME")
app.config["MAIL_PASSWORD"] = os.environ.get("MAIL_PASSWORD")
app.config["FLASKY_MAIL_SUBJECT_PREFIX"] = "[Flasky]"
app.config["FLASKY_MAIL_SENDER"] = "Flasky Admin <flasky@example.com>"
app.config["FLASKY_ADMIN"] = os.environ.get("FLASKY_ADMIN")
app.config["FLASKY_ADMIN_LOCALE"] = os.environ.get("FLASKY_ADMIN_LOCALE", "en")
common.init_app(app, chapter=6, summary=_l("Flask Web Development, chapter 6 in htmx: a mail to the admin for every "
                                           "new name, with Flask-Mail."))
common.reuse_templates(app, "ch05", "ch04", "ch03")
moment = Moment(app)
common.init_moment(app)
common.init_inspector(app)  # flask run --debug: every page lists its exchanges
db = SQLAlchemy(app)
migrate = Migrate(app, db, directory=str(Path(__file__).parent.parent / "ch05" / "migrations"))
mail = Mail(app)


def send_async_email(app, msg):
    """Send one message from a thread, inside an app context (Flask-Mail reads the app's settings)."""
    with app.app_context():
        mail.send(msg)


def send_email(to, subject, template, **kwargs):
    """Mail templates/<template>.txt and .html in the admin's language (subject: a lazy string, translated here):
    from a thread, or to the log without MAIL_SERVER. Return the thread, if any."""
    with force_locale(app.config["FLASKY_ADMIN_LOCALE"]):
        msg = Message(f"{app.config['FLASKY_MAIL_SUBJECT_PREFIX']} {subject}",
                      sender=app.config["FLASKY_MAIL_SENDER"], recipients=[to])
        msg.body = render_template(template + ".txt", **kwargs)
        msg.html = render_template(template + ".html", **kwargs)
    if not app.config["MAIL_SERVER"]:
        app.logger.warning("MAIL_SERVER is not set, so this mail was logged, not sent:\nTo: %s\nSubject: %s\n\n%s",
                           to, msg.subject, msg.body)
        return None
    thread = Thread(target=send_async_email, args=[app, msg])
    thread.start()
    return thread


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
    """Preload the database and models in flask --app chapters/ch06 shell."""
    return {"db": db, "User": User, "Role": Role}


@app.route("/", methods=["GET", "POST"])
def index():
    """Show the form; take a name, add it if new and tell the admin: PRG without JS, the form and greeting in place
    with htmx."""
    form = NameForm()
    if form.validate_on_submit():
        user = db.session.scalar(db.select(User).filter_by(username=form.name.data))
        if user is None:
            user = User(username=form.name.data)
            db.session.add(user)
            db.session.commit()
            session["known"] = False
            if app.config["FLASKY_ADMIN"]:
                send_email(app.config["FLASKY_ADMIN"], _l("New User"), "mail/new_user", user=user)
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
