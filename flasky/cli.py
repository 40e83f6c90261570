"""Command-line additions: the shell context, `flask test`, `flask mail`, `flask translate`, `flask users` and
`flask live`."""

import json
import subprocess
import sys
import time
from contextlib import chdir
from functools import wraps
from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .directory.seeding import CHINESE_SHARE, SeedingError, seed_users
from .extensions import db
from .i18n import force_language, gettext as _, ngettext, terminal_language
from . import hypermedia, names
from .live import events
from .main.forms import checked_name
from .models import OutboxMessage, Role, User, role_label
from .outbox import delivery
from .text import normalise_name

mail_cli = AppGroup("mail", help="Inspect and deliver the outbox of admin mail.")
translate_cli = AppGroup("translate", help="Keep the message catalogs in flasky/translations/ up to date (pybabel).")
live_cli = AppGroup("live", help="Look after the greeting events behind the live \"Recently greeted\" panel.")
hypermedia_cli = AppGroup("hypermedia", help="Show the hypermedia contract: what each endpoint answers a page, an "
                          "htmx swap and out of band.")
users_cli = AppGroup("users", help="Manage the stored users: their roles, deleting and renaming them, and fake "
                     "visitors for trying the directory.")

# The source tree: babel.cfg and the catalogs live there (an installed wheel carries only the compiled catalogs).
PROJECT = Path(__file__).resolve().parent.parent
TRANSLATIONS = PROJECT / "flasky" / "translations"
POT_FILE = TRANSLATIONS / "messages.pot"
EXTRACT_ARGS = ["-F", str(PROJECT / "babel.cfg"), "-k", "_l", "-c", "TRANSLATORS:", "--add-location=file",
                "--sort-by-file", "--no-wrap", "--project=Flasky", "--copyright-holder=Flasky"]


@mail_cli.command("status")
@click.option("--errors", "error_count", default=5, show_default=True, help="How many recent errors to list.")
def mail_status(error_count):
    """Show how many messages are pending, being sent, sent and failed, with the latest errors."""
    _echo_counts()
    failing = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.last_error.is_not(None)).order_by(OutboxMessage.id.desc())
        .limit(error_count)
    ).all()
    for message in failing:
        click.echo(f"#{message.id} {message.status} to {message.recipient} after {message.attempts} attempt(s): "
                   f"{message.last_error}")


@mail_cli.command("send-pending")
@click.option("--retry-failed", is_flag=True, help="Give failed messages another chance first.")
def mail_send_pending(retry_failed):
    """Deliver every pending message now, whatever its retry schedule."""
    if retry_failed:
        db.session.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxMessage.FAILED)
                           .values(status=OutboxMessage.PENDING, attempts=0))
        db.session.commit()
    delivery.deliver_due(ignore_schedule=True)
    counts = _echo_counts()
    if counts[OutboxMessage.PENDING] or counts[OutboxMessage.FAILED]:
        sys.exit(1)


def _echo_counts():
    """Print the outbox's count per status on one line; return the counts."""
    counts = delivery.status_counts()
    click.echo("  ".join(f"{status}: {count}" for status, count in counts.items()))
    return counts


def pybabel(*args):
    """Run a pybabel command through Babel's own command line (no reliance on PATH)."""
    CommandLineInterface().run(["pybabel", *args])


def extract_messages(pot_file=POT_FILE):
    """Write every marked string of the package and templates to a .pot template."""
    with chdir(PROJECT):  # from the project's root, so locations read "templates/base.html", wherever it sits
        pybabel("extract", *EXTRACT_ARGS, "-o", str(pot_file), ".")


@translate_cli.command("extract")
def translate_extract():
    """Extract the marked strings into flasky/translations/messages.pot."""
    extract_messages()


@translate_cli.command("init")
@click.argument("language")
def translate_init(language):
    """Start a catalog for a new language (e.g. fr) from a fresh extraction."""
    extract_messages()
    pybabel("init", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "-l", language, "--no-wrap")


@translate_cli.command("update")
def translate_update():
    """Extract again and merge the changes into every catalog (new strings appear untranslated)."""
    extract_messages()
    pybabel("update", "-i", str(POT_FILE), "-d", str(TRANSLATIONS), "--no-wrap", "--ignore-obsolete")


@translate_cli.command("compile")
def translate_compile():
    """Compile every catalog to the .mo files the app reads (commit them: installs run no build step)."""
    pybabel("compile", "-d", str(TRANSLATIONS), "--statistics")


def in_terminal_language(command):
    """Have a command speak the terminal's language (LANG=zh_CN.UTF-8: Chinese), as pages speak the visitor's; its
    --help stays English, written before any app is there to translate it."""

    @wraps(command)
    def run(*args, **kwargs):
        with force_language(terminal_language()):
            return command(*args, **kwargs)

    return run


@hypermedia_cli.command("routes")
@click.option("--json", "as_json", is_flag=True, help="Print the contract as JSON, for tools and tests.")
@in_terminal_language
def hypermedia_routes(as_json):
    """List every endpoint with its page, the fragments it swaps by target, its out-of-band partials and statuses."""
    rows = hypermedia.contracts(current_app)
    if as_json:
        plain = [{**row, "contract": row["contract"] and row["contract"].as_dict()} for row in rows]
        click.echo(json.dumps(plain, indent=2, ensure_ascii=False))
        return
    for row in rows:
        if row["endpoint"] is None:
            click.echo(_("Errors (%(handler)s)", handler=row["handler"]))
        else:
            click.echo(f"{row['endpoint']}  {' '.join(row['methods'])}  {row['rule']}")
        contract = row["contract"]
        if contract is None:
            click.echo("    " + _("no contract declared"))
            continue
        swaps = [(_("page"), contract.page), (_("media type"), contract.media),
                 (_("fragments"), _swaps(contract.fragments)), (_("out of band"), _swaps(contract.oob)),
                 (_("statuses"), " ".join(map(str, contract.statuses)))]
        for label, value in swaps:
            if value:
                click.echo(f"    {label}: {value}")
    if any(row["contract"] is None for row in rows):
        sys.exit(1)


def _swaps(partials):
    """Spell partials as the targets they swap into: "#name-form ← partials/name-form.html", comma-separated."""
    return ", ".join(f"#{hypermedia.Contract.target(name)} ← {name}" for name in partials)


@live_cli.command("prune")
@click.option("--keep", type=click.IntRange(min=0), help="How many of the newest events to keep.  [default: "
              "FLASKY_LIVE_KEEP_EVENTS, 1000]")
@click.option("--days", type=click.FloatRange(min=0), help="Also delete events older than this many days.")
@in_terminal_language
def live_prune(keep, days):
    """Delete greeting events beyond the newest N (and, with --days, older ones); the panel shows the last 10."""
    keep = current_app.config["FLASKY_LIVE_KEEP_EVENTS"] if keep is None else keep
    deleted = events.prune(keep, days)
    click.echo(ngettext("Deleted %(num)d greeting event.", "Deleted %(num)d greeting events.", deleted))


@users_cli.command("set-role")
@click.argument("name")
@click.argument("role")
@in_terminal_language
def users_set_role(name, role):
    """Give a stored user one of the roles (User, Moderator, Administrator)."""
    user = _stored_user(name)
    roles = {stored.name: stored for stored in db.session.scalars(select(Role).order_by(Role.id))}
    if role not in roles:
        # TRANSLATORS: the roles are listed as typed on the command line (User, Moderator, Administrator).
        raise click.ClickException(_("There is no role %(role)r; the roles are %(roles)s.", role=role,
                                     roles=", ".join(roles)))
    user.role = roles[role]
    db.session.commit()
    click.echo(_("%(name)s is now %(role)s.", name=user.username, role=role_label(role)))


@users_cli.command("delete")
@click.argument("name", required=False)
@click.option("--matching", "pattern", metavar="PATTERN",
              help="Delete every name matching a shell-style pattern instead: * any characters, ? one character, "
                   "anything else literal (% and _ too); case-insensitive, as the directory searches.")
@click.option("--dry-run", is_flag=True, help="List and count the names that would be deleted; delete nothing.")
@click.option("--yes", is_flag=True, help="Delete several names without asking first.")
@in_terminal_language
def users_delete(name, pattern, dry_run, yes):
    """Delete a name everywhere it shows, in one transaction: its page, the directory, the live "Recently greeted"
    panel and the admin mail not yet sent about it (sent mail stays)."""
    if (name is None) == (pattern is None):
        raise click.UsageError(_("Give either a name or --matching PATTERN."))
    if name is not None:
        users = [_stored_user(name)]
    else:
        pattern = normalise_name(pattern)
        if not pattern:
            raise click.ClickException(_("Please give a pattern to match names with."))
        users = names.matching(pattern)
        if not users:
            raise click.ClickException(_("No name matches %(pattern)r.", pattern=pattern))
    for user in users:
        click.echo(user.username)
    if dry_run:
        click.echo(ngettext("%(num)d name would be deleted; nothing was (--dry-run).",
                            "%(num)d names would be deleted; nothing was (--dry-run).", len(users)))
        return
    if len(users) > 1 and not yes and not click.confirm(_("Delete these %(num)d names everywhere?", num=len(users))):
        raise click.ClickException(_("Nothing was deleted."))
    deleted = names.delete_users(users)
    db.session.commit()
    click.echo(ngettext("Deleted %(num)d name.", "Deleted %(num)d names.", deleted.users))


@users_cli.command("rename")
@click.argument("old")
@click.argument("new")
@in_terminal_language
def users_rename(old, new):
    """Rename a user everywhere the name shows; the new name must follow the name form's rules and be free. Admin mail
    not yet sent about the user names the new name."""
    user = _stored_user(old)
    new_name, error = checked_name(new)
    if not new_name:
        raise click.ClickException(_("Please give the new name."))
    if error:
        raise click.ClickException(_("%(name)r cannot be a name: %(reason)s", name=new_name, reason=error))
    if new_name == user.username:
        raise click.ClickException(_("The user is already named %(name)s.", name=new_name))
    taken = click.ClickException(_("The name %(name)r is taken.", name=new_name))
    if db.session.scalar(select(User.id).where(User.username == new_name)) is not None:
        raise taken
    old_name = user.username  # the user's attributes follow the rename
    try:
        names.rename_user(user, new_name)
        db.session.commit()
    except IntegrityError:  # taken since we looked: the unique index decides
        db.session.rollback()
        raise taken from None
    click.echo(_("Renamed %(old)s to %(new)s.", old=old_name, new=new_name))


def _stored_user(typed):
    """Return the user stored under a typed name, normalised as the app stores names; fail the command when there is
    none."""
    username = normalise_name(typed)
    if not username:
        raise click.ClickException(_("Please give a user's name."))
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(_("No user is named %(name)r.", name=username))
    return user


# Unknown options stay arguments, so that `seed -1` reaches the range check instead of "No such option: -1".
@users_cli.command("seed", context_settings={"ignore_unknown_options": True})
@click.argument("count", metavar="N", type=int)
@click.option("--seed", type=int, help="Seed the random choices, for a reproducible run.")
@click.option("--chinese-share", type=float, default=CHINESE_SHARE, show_default="1/3",
              help="The share of Chinese names, from 0 to 1.")
@in_terminal_language
def users_seed(count, seed, chinese_share):
    """Add N new fake visitors, English and Chinese names, seen over the last two years."""
    start = time.perf_counter()
    step = max(count // 10, 1)
    reported = [0]

    def progress(inserted):
        if inserted < count and inserted // step > reported[0] // step:
            click.echo(_("%(done)d of %(count)d names added...", done=inserted, count=count))
            reported[0] = inserted

    try:
        inserted = seed_users(count, seed=seed, chinese_share=chinese_share, progress=progress)
    except SeedingError as error:
        raise click.ClickException(str(error)) from None
    click.echo(ngettext("Added %(num)d name in %(seconds).1f s.", "Added %(num)d names in %(seconds).1f s.", inserted,
                        seconds=time.perf_counter() - start))


def init_app(app):
    """Register the shell context and commands on the app."""
    app.cli.add_command(mail_cli)
    app.cli.add_command(translate_cli)
    app.cli.add_command(live_cli)
    app.cli.add_command(hypermedia_cli)
    app.cli.add_command(users_cli)

    @app.shell_context_processor
    def shell_context():
        """Preload what a `flask shell` session needs."""
        return {"app": app, "db": db, "User": User, "Role": Role}

    @app.cli.command("test", context_settings={"ignore_unknown_options": True})
    @click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
    def test(pytest_args):
        """Run the test suite with pytest; extra arguments go to pytest."""
        sys.exit(subprocess.call([sys.executable, "-m", "pytest", *pytest_args]))
