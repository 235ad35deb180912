"""A scriptable SMTP server for tests, on aiosmtpd, on 127.0.0.1.

    with SMTPServer() as srv:            # or the `smtpd` fixture
        ... send to 127.0.0.1:srv.port ...
        srv.messages                     # [(mail_from, rcpt, bytes)]

What each recipient gets is chosen by its local part, or by
srv.script[address] (which wins):

    rcpt-CODE@...        RCPT answered CODE (421, 450, 451, 452, 550, 552,
                         554, 571 for "550 5.7.1", 471 for "450 4.7.1");
                         421 also closes the connection
    rcpt-CODE-once@...   the first RCPT for it answered CODE, later ones accepted
    data-CODE@...        the end of DATA answered CODE
    drop@...             the connection dropped after DATA, without a reply
    drop-once@...        dropped the first time, accepted later
    slow-SECONDS@...     the RCPT reply comes after SECONDS
    anything else        accepted

Options: tls=True offers STARTTLS with a self-signed certificate made
for 127.0.0.1 at start-up (srv.cert_file is the CA to trust);
implicit_tls=True speaks TLS from the first byte (smtps://, srv.url
says so); auth={"user": "password"} requires AUTH (PLAIN or LOGIN;
mechanisms=["LOGIN"] offers only those). Counters:
srv.connections (EHLOs), srv.auth_attempts. The server runs in its own
thread and always stops when the `with` block ends.
"""

import asyncio
import datetime
import re
import socket
import ssl
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

REPLIES = {
    "421": "421 4.3.2 Service shutting down",
    "450": "450 4.2.1 Mailbox busy, try later",
    "451": "451 4.3.0 Local error, try later",
    "452": "452 4.2.2 Mailbox full",
    "471": "450 4.7.1 Rate limited: slow down",
    "550": "550 5.1.1 No such user",
    "551": "551 5.1.6 User has moved",
    "552": "552 5.2.2 Mailbox full",
    "553": "553 5.1.3 Bad address syntax",
    "554": "554 5.0.0 Transaction failed",
    "571": "550 5.7.1 Message refused by policy",
}

RULE = re.compile(r"^(rcpt|data)-(\d{3})(-once)?$|^(drop)(-once)?$|^slow-([\d.]+)$")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder: Path):
    """A self-signed certificate for 127.0.0.1 and localhost."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID
    import ipaddress

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None),
                           critical=True)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_file, key_file


class Handler:
    def __init__(self, srv):
        self.srv = srv

    def rule(self, address):
        local = address.split("@")[0].lower()
        return self.srv.script.get(address) or local

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        with self.srv.lock:
            self.srv.connections += 1
            self.srv.ehlo_names.append(hostname)
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, options):
        m = RULE.match(self.rule(address))
        if m and m.group(6):
            await asyncio.sleep(float(m.group(6)))
        if m and m.group(1) == "rcpt":
            code, once = m.group(2), m.group(3)
            with self.srv.lock:
                self.srv.attempts[address] += 1
                first = self.srv.attempts[address] == 1
            if first or not once:
                if code == "421":
                    asyncio.get_running_loop().call_soon(server.transport.close)
                return REPLIES[code]
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        rcpt = envelope.rcpt_tos[0]
        m = RULE.match(self.rule(rcpt))
        if m and m.group(4):
            with self.srv.lock:
                self.srv.attempts[rcpt] += 1
                first = self.srv.attempts[rcpt] == 1
            if first or not m.group(5):
                server.transport.abort()
                return "451 4.4.2 dropped"
        if m and m.group(1) == "data":
            return REPLIES[m.group(2)]
        with self.srv.lock:
            for r in envelope.rcpt_tos:
                self.srv.messages.append(
                    (envelope.mail_from, r, bytes(envelope.content)))
                self.srv.times.append(time.monotonic())
        return "250 2.0.0 OK: queued"


class SMTPServer:
    def __init__(self, tls=False, auth=None, folder=None, implicit_tls=False,
                 mechanisms=None):
        self.tls, self.auth, self.implicit_tls = tls, auth, implicit_tls
        self.mechanisms = mechanisms
        self.script = {}
        self.messages, self.times, self.ehlo_names = [], [], []
        self.attempts = Counter()
        self.connections = self.auth_attempts = 0
        self.lock = threading.Lock()
        self._tmp = None if folder else tempfile.TemporaryDirectory()
        self.folder = Path(folder or self._tmp.name)
        self.cert_file = None
        self.port = free_port()
        self.controller = None

    def _authenticate(self, server, session, envelope, mechanism, data):
        with self.lock:
            self.auth_attempts += 1
        ok = (self.auth and data is not None and
              self.auth.get(data.login.decode()) == data.password.decode())
        return AuthResult(success=bool(ok), handled=False)

    def start(self):
        kwargs = {}
        if self.tls or self.implicit_tls:
            self.cert_file, key_file = make_certificate(self.folder)
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(self.cert_file, key_file)
            if self.implicit_tls:
                kwargs.update(ssl_context=ctx)
            else:
                kwargs.update(tls_context=ctx, require_starttls=True)
        if self.auth is not None:
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=False)
            if self.mechanisms:
                kwargs.update(auth_exclude_mechanism=[
                    m for m in ("PLAIN", "LOGIN") if m not in self.mechanisms])
        self.controller = Controller(
            Handler(self), hostname="127.0.0.1", port=self.port,
            decode_data=False, data_size_limit=64 * 1024 * 1024,
            ready_timeout=10, **kwargs)
        self.controller.start()
        return self

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None
        if self._tmp:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def url(self):
        scheme = "smtps" if self.implicit_tls else "smtp"
        return f"{scheme}://127.0.0.1:{self.port}"

    def received(self):
        """How many messages each recipient got."""
        with self.lock:
            return Counter(r for _, r, _ in self.messages)
