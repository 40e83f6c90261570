"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1), keeping what it receives."""

import asyncio
import contextlib
import email
import email.policy
import threading

from aiosmtpd.controller import Controller

from flasky.testing import free_port


class Mailbox:
    """An aiosmtpd handler that keeps what it receives; it can refuse, or hold messages until released."""

    def __init__(self):
        self.messages = []
        self.reply = None
        self.hold = None
        self.holding = threading.Event()
        self._changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        """Wait while `hold` is set and not released; then refuse with `reply` when set, else keep the message."""
        if self.hold is not None:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.hold.wait, 30)
        if self.reply:
            return self.reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._changed:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            self._changed.notify_all()
        return "250 Message accepted for delivery"

    def wait_for(self, count, timeout=15):
        """Wait until at least `count` messages arrived (bounded); return all of them."""
        with self._changed:
            self._changed.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)


class SMTPServer:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 that can be stopped and started again on its port."""

    def __init__(self, port):
        self.port = port
        self.mailbox = Mailbox()
        self.controller = None

    def start(self):
        """Listen on the port (again); return the server."""
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return self

    def stop(self):
        """Stop listening, if it does; the mailbox keeps what it received."""
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@contextlib.contextmanager
def running_smtp_server():
    """Run an SMTP server on a free port; afterwards release any messages it holds, and stop it."""
    server = SMTPServer(free_port()).start()
    try:
        yield server
    finally:
        if server.mailbox.hold is not None:
            server.mailbox.hold.set()
        server.stop()
