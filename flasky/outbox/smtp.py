"""Compose a mail from templates/mail/ and hand it to SMTP (or to the log), saying whether a failure is final."""

import logging
import smtplib
from urllib.parse import urlsplit

from flask import current_app, render_template
from flask_mail import BadHeaderError, Connection, Message

logger = logging.getLogger("flasky.mail")


class TemporaryFailure(Exception):
    """Delivery failed this time (no connection, a 4xx reply): try again later."""


class PermanentFailure(Exception):
    """Delivery can never succeed (a 5xx reply, a malformed message): give up on it."""


def external_url(endpoint, **values):
    """Build an absolute URL from FLASKY_BASE_URL, never from the Host header of some request."""
    base = urlsplit(current_app.config["FLASKY_BASE_URL"])
    adapter = current_app.url_map.bind(base.netloc, script_name=base.path or "/", url_scheme=base.scheme)
    return adapter.build(endpoint, values, force_external=True)


def compose(recipient, subject, template, context, *, message_id):
    """Render a message's plain-text and HTML parts, in the current locale, into a Flask-Mail Message."""
    config = current_app.config
    message = Message(
        config["FLASKY_MAIL_SUBJECT_PREFIX"] + subject,
        sender=config["FLASKY_MAIL_SENDER"],
        recipients=[recipient],
    )
    message.body = render_template(f"mail/{template}.txt", external_url=external_url, **context)
    message.html = render_template(f"mail/{template}.html", external_url=external_url, **context)
    message.msgId = message_id
    return message


def deliver(message):
    """Send a composed message over SMTP, or write it to the log when no MAIL_SERVER is configured."""
    if not current_app.config.get("MAIL_SERVER"):
        logger.info("No MAIL_SERVER set; mail to %s not sent: %s\n%s", ", ".join(message.recipients),
                    message.subject, message.body)
        return
    try:
        with TimeoutConnection(current_app.extensions["mail"]) as connection:
            connection.send(message)
    except BadHeaderError as error:
        raise PermanentFailure("malformed header") from error
    except smtplib.SMTPRecipientsRefused as error:
        replies = [f"{code} {reply.decode(errors='replace')}" for code, reply in error.recipients.values()]
        failure = PermanentFailure if all(code >= 500 for code, _ in error.recipients.values()) else TemporaryFailure
        raise failure("recipient refused: " + "; ".join(replies)) from error
    except smtplib.SMTPResponseException as error:
        failure = PermanentFailure if error.smtp_code >= 500 else TemporaryFailure
        raise failure(f"{error.smtp_code} {_text(error.smtp_error)}") from error
    except (smtplib.SMTPException, OSError) as error:
        raise TemporaryFailure(f"{type(error).__name__}: {error}") from error


def _text(reply):
    return reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)


class TimeoutConnection(Connection):
    """Flask-Mail's SMTP connection, opened with MAIL_TIMEOUT (Flask-Mail 0.10 opens it with none)."""

    def configure_host(self):
        smtp = smtplib.SMTP_SSL if self.mail.use_ssl else smtplib.SMTP
        host = smtp(self.mail.server, self.mail.port, timeout=current_app.config["MAIL_TIMEOUT"])
        host.set_debuglevel(int(self.mail.debug))
        if self.mail.use_tls:
            host.starttls()
        if self.mail.username and self.mail.password:
            host.login(self.mail.username, self.mail.password)
        return host

    def __exit__(self, exc_type, exc_value, tb):
        try:
            super().__exit__(exc_type, exc_value, tb)
        except (smtplib.SMTPException, OSError):
            if exc_type is not None:
                return
            # The server accepted the message already; a failed QUIT must not make us send it twice.
            logger.debug("SMTP QUIT failed after a successful send", exc_info=True)
