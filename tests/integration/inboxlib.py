"""Helpers for the inbox tests: bounces, complaints and replies as real
MTAs and mailbox providers write them, and a Maildir to put them in."""

import json
import os
from email.utils import make_msgid

from sendlib import verp_mac

DOMAIN = "news.example.org"


def verp_address(sub_id: int, campaign: str = "2021-03") -> str:
    payload = f"{sub_id}.{campaign}"
    return f"digest+{payload}.{verp_mac(payload)}@{DOMAIN}"


def maildir(root):
    for sub in ("new", "cur", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    return root


def deliver(box, name: str, text: str):
    """Puts a message in new/ as an MTA would (via tmp/, then rename)."""
    tmp = box / "tmp" / name
    tmp.write_bytes(text.replace("\n", "\r\n").encode())
    os.rename(tmp, box / "new" / name)


def dsn(to: str, rcpt: str, status: str = "5.1.1", action: str = "failed",
        original_id: str | None = None, reporting: str = "mx.example.org"):
    """An RFC 3464 report, as Postfix writes it, to the bounce address to,
    for rcpt; the original's headers carry original_id."""
    orig = (f"Message-ID: <{original_id}>\n" if original_id else
            f"Message-ID: {make_msgid(domain='elsewhere.example')}\n")
    return f"""\
Return-Path: <>
Delivered-To: {to}
From: MAILER-DAEMON@{reporting} (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="B1"

--B1
Content-Type: text/plain

This is the mail system at host {reporting}.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{rcpt}>: host {reporting} said: 550 {status} user unknown

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; {reporting}
Arrival-Date: Sun, 29 Nov 2026 10:00:00 +0000

Final-Recipient: rfc822; {rcpt}
Original-Recipient: rfc822;{rcpt}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} user unknown

--B1
Content-Type: text/rfc822-headers

From: Best of arXiv <digest@{DOMAIN}>
To: {rcpt}
Subject: Best of arXiv, March 2021
{orig}
--B1--
"""


def arf(original_id: str, rcpt: str, feedback_type: str = "abuse",
        redacted: bool = False):
    """An RFC 5965 report as a mailbox provider sends it, the original
    attached as message/rfc822 (its To redacted when asked)."""
    to = "redacted@example.org" if redacted else rcpt
    return f"""\
From: fbl@isp.example
To: abuse@{DOMAIN}
Subject: FW: Best of arXiv, March 2021
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report;
    boundary="A1"

--A1
Content-Type: text/plain

This is an email abuse report for an email message received from IP
192.0.2.1 on Sun, 29 Nov 2026 10:00:00 +0000.

--A1
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Mail-From: <digest@{DOMAIN}>
Arrival-Date: Sun, 29 Nov 2026 10:00:00 +0000
Reported-Domain: {DOMAIN}

--A1
Content-Type: message/rfc822

From: Best of arXiv <digest@{DOMAIN}>
To: {to}
Subject: Best of arXiv, March 2021
Message-ID: <{original_id}>
Date: Sun, 29 Nov 2026 09:00:00 +0000

The issue.
--A1--
"""


def reply(token: str, to: str = f"unsubscribe@{DOMAIN}",
          frm: str = "ada@example.org"):
    """What a mail client sends for the List-Unsubscribe mailto."""
    return f"""\
From: {frm}
To: {to}
Subject: unsubscribe {token}
Message-ID: {make_msgid(domain='example.org')}

"""


def out_of_office(frm: str = "bob@example.org"):
    return f"""\
From: {frm}
To: digest@{DOMAIN}
Subject: Out of office: Best of arXiv, March 2021
Auto-Submitted: auto-replied
X-Autoreply: yes

I am away until Monday.
"""


JUNK = """\
From: someone@example.net
To: digest@news.example.org
Subject: hello

Do you sell advertising?
"""


def run_inbox(project, box, *args, **kw):
    """Runs `bulletin inbox --format json`; (process, [objects])."""
    proc = project.run("inbox", "--maildir", box, "--format", "json",
                       *args, **kw)
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    return proc, rows
