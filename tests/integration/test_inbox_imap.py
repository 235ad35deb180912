"""bulletin inbox --imap against a real Dovecot on loopback (IMAPS with a
CA made by the test): the same mailbox handled the same way as a
Maildir, handled mail flagged \\Seen and moved, a second run changing
nothing, and refusals for an untrusted certificate and a bad password."""

import imaplib
import os
import shutil
import ssl
import tempfile
from pathlib import Path

import pytest

import tokens
from inboxlib import JUNK, arf, dsn, out_of_office, reply, verp_address
from sendlib import add_subscribers, db, setup_send, sub_events, sub_status
import json

PEOPLE = [("ada@example.org", "Ada"), ("bob@example.org", "Bob"),
          ("cy@example.org", "Cy"), ("di@example.org", "Di")]


@pytest.fixture
def dovecot():
    from dovecot import DOVECOT, Dovecot
    if not os.path.exists(DOVECOT):
        pytest.skip("dovecot is not installed (make deps)")
    root = Path(tempfile.mkdtemp(prefix="bulletin-dovecot-"))
    os.chmod(root, 0o755)
    d = Dovecot(root)
    try:
        d.start()
        yield d
    finally:
        d.stop()
        shutil.rmtree(root)


@pytest.fixture
def sent(project):
    digest = setup_send(project, "maildir:subscribers/outbox", verp="true")
    add_subscribers(project, PEOPLE)
    proc = project.run("send", digest, "--yes")
    assert proc.returncode == 0, proc.stderr
    with db(project) as conn:
        rows = conn.execute(
            "SELECT s.email, s.id, d.message_id FROM deliveries d"
            " JOIN subscribers s ON s.id = d.subscriber_id").fetchall()
    return {e: (i, m) for e, i, m in rows}


def configure(project, dovecot, ca=None):
    project.config.write_text(
        project.config.read_text() + "\n[inbox]\n"
        "imap-password-env = TEST_IMAP_PASSWORD\n"
        f"imap-ca-file = {ca or dovecot.ca}\n"
        "imap-done-folder = Handled\n")


def run(project, dovecot, *args, password=None):
    from dovecot import PASSWORD
    proc = project.run("inbox", "--imap", dovecot.url, "--format", "json",
                       *args, env={"TEST_IMAP_PASSWORD": password or PASSWORD})
    return proc, [json.loads(l) for l in proc.stdout.splitlines()]


def folder(dovecot, name):
    """{uid: (flags, subject)} of a folder, read with Python's imaplib."""
    from dovecot import PASSWORD, USER
    ctx = ssl.create_default_context(cafile=str(dovecot.ca))
    m = imaplib.IMAP4_SSL("127.0.0.1", dovecot.port, ssl_context=ctx)
    try:
        m.login(USER, PASSWORD)
        typ, _ = m.select(name, readonly=True)
        assert typ == "OK", name
        typ, data = m.uid("fetch", "1:*", "(FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out = []
        for item in data:
            if isinstance(item, tuple):
                out.append((b"\\Seen" in item[0],
                            item[1].decode().strip()))
        return sorted(out, key=lambda x: x[1])
    finally:
        m.logout()


def test_the_same_mailbox_over_imap(project, sent, dovecot):
    configure(project, dovecot)
    ada_id, _ = sent["ada@example.org"]
    bob_id, _ = sent["bob@example.org"]
    _, cy_msgid = sent["cy@example.org"]
    dovecot.deliver("1.dsn", dsn(verp_address(ada_id), "ada@example.org"))
    dovecot.deliver("2.arf", arf(cy_msgid, "cy@example.org"))
    dovecot.deliver("3.reply", reply(tokens.make(bob_id, "2021-03")))
    dovecot.deliver("4.ooo", out_of_office())
    dovecot.deliver("5.junk", JUNK)

    proc, rows = run(project, dovecot, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert len(rows) == 5
    assert sub_status(project, "ada@example.org") == "active"
    assert all(not seen for seen, _ in folder(dovecot, "INBOX"))

    proc, rows = run(project, dovecot)
    assert proc.returncode == 0, proc.stderr
    kinds = sorted(r["kind"] for r in rows)
    assert kinds == ["auto-reply", "complaint", "hard-bounce", "other",
                     "unsubscribe"]
    assert all(r["message"].isdigit() for r in rows)      # UIDs
    assert {e: sub_status(project, e) for e, _ in PEOPLE} == {
        "ada@example.org": "bounced", "bob@example.org": "unsubscribed",
        "cy@example.org": "complained", "di@example.org": "active"}
    assert sub_events(project, "bob@example.org")[-1] == (
        "unsubscribe", "mailto", None, "2021-03")
    # handled: \Seen, in the done folder; the junk stays, unseen
    assert folder(dovecot, "INBOX") == [(False, "Subject: hello")]
    handled = folder(dovecot, "Handled")
    assert len(handled) == 4 and all(seen for seen, _ in handled)

    proc, rows = run(project, dovecot)
    assert proc.returncode == 0, proc.stderr
    assert [r["kind"] for r in rows] == ["other"]
    assert "1 read, 0 handled, 1 left in place" in proc.stderr


def test_an_untrusted_certificate_is_refused_before_login(project, dovecot,
                                                          tmp_path):
    other = tmp_path / "other-ca.pem"
    from dovecot import make_certs
    make_certs(tmp_path)
    shutil.copy(tmp_path / "ca.pem", other)
    configure(project, dovecot, ca=other)
    proc, rows = run(project, dovecot)
    assert proc.returncode == 69
    assert "imap server '127.0.0.1': certificate not trusted" in proc.stderr
    assert "user=<bounces>" not in dovecot.log()    # no login attempted


def test_a_wrong_password_is_named(project, dovecot):
    configure(project, dovecot)
    proc, rows = run(project, dovecot, password="wrong")
    assert proc.returncode == 69
    assert "imap server '127.0.0.1': LOGIN failed" in proc.stderr


def test_bad_imap_urls_and_missing_passwords(project):
    proc = project.run("inbox", "--imap", "imap://x@h/INBOX")
    assert proc.returncode == 78
    assert "imap url 'imap://x@h/INBOX': must start with imaps://" in proc.stderr
    proc = project.run("inbox", "--imap", "imaps://host/INBOX")
    assert proc.returncode == 78
    assert "expected imaps://USER@HOST[:PORT]/FOLDER" in proc.stderr
    proc = project.run("inbox", "--imap", "imaps://u@h:99999/INBOX")
    assert proc.returncode == 78
    assert "bad port" in proc.stderr
    proc = project.run("inbox", "--imap", "imaps://u@h/INBOX")
    assert proc.returncode == 78
    assert "[inbox] has neither 'imap-password-env' nor 'imap-password-file'" \
        in proc.stderr
    proc = project.run("inbox", "--imap", "imaps://u@h/INBOX", "--maildir", "x")
    assert proc.returncode == 64
