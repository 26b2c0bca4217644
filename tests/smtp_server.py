"""A real SMTP server on loopback for the tests (aiosmtpd), recording what it receives and refusing
the recipients it is told to refuse; and a server that accepts connections but never answers."""

import asyncio
import email
import email.policy
import socket
import threading

import aiosmtpd.controller


class RecordingHandler:
    def __init__(self, refuse=(), tempfail=(), slow_rcpt=0):
        self.refuse = set(refuse)
        self.tempfail = set(tempfail)  # refused once with a temporary error, then accepted
        self.slow_rcpt = slow_rcpt  # seconds before answering each recipient
        self.messages = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.slow_rcpt:
            await asyncio.sleep(self.slow_rcpt)
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

    def __init__(self, refuse=(), tempfail=(), port=None, slow_rcpt=0):
        self.handler = RecordingHandler(refuse, tempfail, slow_rcpt)
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


class SilentServer:
    """Context manager: a server on loopback that accepts connections and says nothing (an SMTP
    server too slow to greet its clients); ``connections`` counts the clients that came."""

    def __init__(self, port=None):
        self.port = port or free_port()
        self.connections = 0
        self._sockets = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.settimeout(0.1)
        self._stopped = threading.Event()

    def _accept(self):
        while not self._stopped.is_set():
            try:
                client, _address = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections += 1
            self._sockets.append(client)

    def __enter__(self):
        self._listener.bind(("127.0.0.1", self.port))
        self._listener.listen(8)
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopped.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for client in self._sockets:
            client.close()
        return False
