"""A throw-away Postfix for tests: its own config, queue and Maildir
under a temporary folder, SMTP on a free loopback port, no mail leaving
the machine. Mail to @localhost goes to local(8), which bounces unknown
users; mail to @news.example.org (any local part, +tags kept) goes to one
Maildir, where the bounces come back."""

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"

MASTER = """\
127.0.0.1:{port} inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
local     unix  - n n - - local
virtual   unix  - n n - - virtual
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
smtp      unix  - - n - - smtp
"""

MAIN = """\
compatibility_level = 3.6
queue_directory = {dir}/queue
data_directory = {dir}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.test.example
mydomain = test.example
myorigin = test.example
mydestination = localhost
mynetworks = 127.0.0.0/8
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
local_recipient_maps =
alias_maps =
alias_database =
virtual_mailbox_domains = news.example.org
virtual_mailbox_base = {dir}/mail
virtual_mailbox_maps = static:bounces/
virtual_uid_maps = static:{uid}
virtual_gid_maps = static:{gid}
virtual_minimum_uid = 1
recipient_delimiter = +
default_transport = error:no mail leaves a test
relay_transport = error:no mail leaves a test
maillog_file = {dir}/maillog
maillog_file_prefixes = {dir}
smtputf8_enable = no
biff = no
notify_classes =
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Postfix:
    def __init__(self, root: Path):
        self.dir = root / "postfix"
        self.conf = self.dir / "etc"
        self.maildir = self.dir / "mail" / "bounces"
        self.port = free_port()
        self.conf.mkdir(parents=True)
        (self.dir / "mail").mkdir()
        # the virtual(8) delivery user: nobody, who owns the Maildir
        uid, gid = 65534, 65534
        os.chown(self.dir / "mail", uid, gid)
        (self.conf / "main.cf").write_text(MAIN.format(dir=self.dir, uid=uid,
                                                       gid=gid))
        (self.conf / "master.cf").write_text(MASTER.format(port=self.port))
        # Postfix insists the path to its queue is owned by root and not
        # writable by others
        for p in (self.dir, self.conf):
            os.chmod(p, 0o755)
        (self.dir / "queue").mkdir(mode=0o755)
        (self.dir / "data").mkdir(mode=0o700)
        pw = subprocess.run(["id", "-u", "postfix"], capture_output=True,
                            text=True, check=True).stdout
        os.chown(self.dir / "data", int(pw), -1)

    def run(self, *args):
        return subprocess.run([POSTFIX, "-c", str(self.conf), *args],
                              capture_output=True, text=True, timeout=60)

    def start(self):
        # the queue's folders, owned as Postfix wants them
        proc = self.run("set-permissions", "create-missing")
        if proc.returncode:
            raise RuntimeError(f"postfix set-permissions: {proc.stderr}")
        proc = self.run("start")
        if proc.returncode:
            raise RuntimeError(f"postfix start: {proc.stderr}")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"postfix did not listen: {self.log()}")

    def stop(self):
        self.run("stop")

    def log(self):
        p = self.dir / "maillog"
        return p.read_text() if p.exists() else ""

    def wait_for_mail(self, count=1, timeout=30):
        """The file names in the Maildir's new/ once count are there."""
        deadline = time.monotonic() + timeout
        new = self.maildir / "new"
        while time.monotonic() < deadline:
            names = sorted(os.listdir(new)) if new.exists() else []
            if len(names) >= count:
                return names
            time.sleep(0.05)
        raise AssertionError(f"no bounce arrived; Postfix's log:\n{self.log()}")
