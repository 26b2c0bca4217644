"""A real SMTP server on loopback for the tests (aiosmtpd), recording what it receives and refusing
the recipients it is told to refuse."""

import email
import email.policy
import socket

import aiosmtpd.controller


class RecordingHandler:
    def __init__(self, refuse=(), tempfail=()):
        self.refuse = set(refuse)
        self.tempfail = set(tempfail)  # refused once with a temporary error, then accepted
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 Mailbox unavailable"
        if address in self.tempfail:
            self.tempfail.discard(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.SMTP)
        self.messages.append({"rcpt_tos": list(envelope.rcpt_tos), "message": message})
        return "250 Message accepted for delivery"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalSMTPServer:
    """Context manager: ``with LocalSMTPServer(refuse={...}) as server: server.port, server.messages``."""

    def __init__(self, refuse=(), tempfail=(), port=None):
        self.handler = RecordingHandler(refuse, tempfail)
        self.port = port or free_port()
        self.controller = aiosmtpd.controller.Controller(
            self.handler, hostname="127.0.0.1", port=self.port, server_hostname="localhost"
        )

    @property
    def messages(self):
        return self.handler.messages

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
        return False

    @staticmethod
    def body_of(message, subtype="html"):
        part = message.get_body(preferencelist=(subtype,))
        return part.get_content() if part else ""
