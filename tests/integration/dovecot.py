"""A throw-away Dovecot IMAP server for tests: its own config, a CA and a
certificate for 127.0.0.1 made on the spot, one user whose Maildir is a
folder of the test, IMAPS on a free loopback port. Started in the
foreground and stopped by the test."""

import os
import socket
import subprocess
import time
from pathlib import Path

DOVECOT = "/usr/sbin/dovecot"
USER, PASSWORD = "bounces", "imap-s3cret"

CONF = """\
base_dir = {dir}/run
state_dir = {dir}/state
log_path = {dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{dir}/server.pem
ssl_key = <{dir}/server.key
ssl_min_protocol = TLSv1.2
default_internal_user = dovecot
default_login_user = dovenull
disable_plaintext_auth = yes
auth_mechanisms = plain
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {dir}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={dir}/home/%u
}}
mail_location = maildir:{dir}/home/%u/Maildir
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {port}
    ssl = yes
  }}
}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   capture_output=True)


def make_certs(d: Path):
    """ca.pem, and server.pem/server.key for 127.0.0.1 signed by it."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
          "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem",
            "-days", "2", "-subj", "/CN=bulletin test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign", cwd=d)
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr",
            "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", "server.pem", "-days", "2",
            "-extfile", "ext", cwd=d)


class Dovecot:
    def __init__(self, root: Path):
        self.dir = root / "dovecot"
        self.dir.mkdir(mode=0o755)
        self.port = free_port()
        make_certs(self.dir)
        self.ca = self.dir / "ca.pem"
        (self.dir / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
        self.maildir = self.dir / "home" / USER / "Maildir"
        for sub in ("new", "cur", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        for p in [self.dir / "home", self.dir / "home" / USER] + \
                [self.maildir] + [self.maildir / s for s in
                                  ("new", "cur", "tmp")]:
            os.chown(p, 65534, 65534)
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(CONF.format(dir=self.dir, port=self.port))
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited: {self.proc.stderr.read()}"
                                   f"\n{self.log()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not listen: {self.log()}")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        p = self.dir / "dovecot.log"
        return p.read_text() if p.exists() else ""

    def deliver(self, name, text):
        """Puts a message in the user's Maildir, as the MDA would."""
        path = self.maildir / "new" / name
        path.write_bytes(text.replace("\n", "\r\n").encode())
        os.chown(path, 65534, 65534)

    @property
    def url(self):
        return f"imaps://{USER}@127.0.0.1:{self.port}/INBOX"
