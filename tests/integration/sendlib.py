"""Helpers for the send tests: a project wired to a test SMTP server."""

import hashlib
import hmac
import os
import sqlite3

SECRET = "5" * 64


def setup_send(project, url, **smtp):
    """Writes the secret and an [smtp] section; returns the digest folder."""
    secret = project.path / "config" / "secret"
    secret.write_text(SECRET)
    os.chmod(secret, 0o600)
    keys = {"url": url, "starttls": "never", "connections": 4,
            "retry-delay": 0.2, "max-attempts": 3, "reply-timeout": 5,
            "connect-timeout": 5, "ehlo-name": "mta.news.example.org"}
    keys.update({k.replace("_", "-"): v for k, v in smtp.items()})
    section = "[smtp]\n" + "".join(f"{k} = {v}\n" for k, v in keys.items()
                                   if v is not None)
    text = project.config.read_text()
    project.config.write_text(text.replace("[smtp]\nurl = maildir:outbox\n",
                                           section))
    if not (project.path / "digests" / "2021-03").exists():
        project.copy_digest()
    return "digests/2021-03"


def add_subscribers(project, rows):
    """rows: (email, name) pairs, imported as active subscribers."""
    lines = ["email,name"] + [f'{e},"{n}"' for e, n in rows]
    path = project.path / "subs.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    project.run("sub", "import", "subs.csv", check=True)


def db(project):
    return sqlite3.connect(project.path / "subscribers" / "bulletin.db")


def deliveries(project):
    """{email: (state, attempts, last_reply, reply_code, message_id)}"""
    with db(project) as conn:
        rows = conn.execute(
            "SELECT s.email, d.state, d.attempts, d.last_reply, d.reply_code,"
            " d.message_id FROM deliveries d JOIN subscribers s"
            " ON s.id = d.subscriber_id").fetchall()
    return {r[0]: r[1:] for r in rows}


def sub_status(project, email):
    with db(project) as conn:
        return conn.execute("SELECT status FROM subscribers WHERE email = ?",
                            (email,)).fetchone()[0]


def sub_events(project, email):
    with db(project) as conn:
        return conn.execute(
            "SELECT e.type, e.method, e.detail, e.campaign_id FROM events e"
            " JOIN subscribers s ON s.id = e.subscriber_id WHERE s.email = ?"
            " ORDER BY e.id", (email,)).fetchall()


def verp_mac(payload: str) -> str:
    """What token.c computes: HMAC-SHA256(secret, "verp\\0" payload)."""
    key = bytes.fromhex(SECRET)
    return hmac.new(key, b"verp\0" + payload.encode(), hashlib.sha256
                    ).hexdigest()[:12]

