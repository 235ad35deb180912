"""bulletin inbox: bounces, complaints, auto-replies and mailto
unsubscribes read from a Maildir and applied to the store."""

import email
import json
import re
import os
import smtplib
import mailbox
import shutil
import tempfile
from email import policy
from pathlib import Path

import pytest

import tokens
from conftest import ROOT, on_a_terminal
from inboxlib import (DOMAIN, JUNK, arf, deliver, dsn, maildir, out_of_office,
                      reply, run_inbox, verp_address)
from sendlib import add_subscribers, db, setup_send, sub_events, sub_status

PEOPLE = [("ada@example.org", "Ada"), ("bob@example.org", "Bob"),
          ("cy@example.org", "Cy"), ("di@example.org", "Di")]
FIXTURES = ROOT / "tests" / "fixtures" / "bounces"


@pytest.fixture
def sent(project):
    """The sample issue sent to four subscribers through a Maildir, with
    VERP: {address: (subscriber id, Message-ID without <>)}."""
    digest = setup_send(project, "maildir:subscribers/outbox", verp="true")
    add_subscribers(project, PEOPLE)
    proc = project.run("send", digest, "--yes")
    assert proc.returncode == 0, proc.stderr
    with db(project) as conn:
        rows = conn.execute(
            "SELECT s.email, s.id, d.message_id FROM deliveries d"
            " JOIN subscribers s ON s.id = d.subscriber_id").fetchall()
    out = {e: (i, m) for e, i, m in rows}
    assert sorted(out) == sorted(e for e, _ in PEOPLE)
    return out


@pytest.fixture
def box(project):
    return maildir(project.path / "bounces")


def config_inbox(project, **keys):
    text = "[inbox]\n" + "".join(f"{k.replace('_', '-')} = {v}\n"
                                 for k, v in keys.items())
    project.config.write_text(project.config.read_text() + "\n" + text)


def names(box, sub):
    return sorted(p.name for p in (box / sub).iterdir())


def bounce_rows(project):
    with db(project) as conn:
        return conn.execute("SELECT subscriber_id, campaign_id, kind, status"
                            " FROM bounces ORDER BY id").fetchall()


# ---- bounces -------------------------------------------------------------------

def test_dsn_tied_by_verp_tag_marks_the_subscriber_bounced(project, sent, box):
    ada_id, _ = sent["ada@example.org"]
    deliver(box, "1.dsn", dsn(verp_address(ada_id), "ada@example.org"))

    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows == [{"message": "1.dsn", "kind": "hard-bounce",
                     "recipients": ["ada@example.org"], "status": "5.1.1",
                     "verified": True,
                     "action": f"marked subscriber {ada_id} bounced"}]
    assert sub_status(project, "ada@example.org") == "bounced"
    assert sub_events(project, "ada@example.org")[-1] == (
        "bounce", "inbox", "5.1.1", "2021-03")
    assert bounce_rows(project) == [(ada_id, "2021-03", "hard", "5.1.1")]
    # handled: moved to cur/ with the S flag
    assert names(box, "new") == []
    assert names(box, "cur") == ["1.dsn:2,S"]
    assert "1 read, 1 handled, 0 left in place" in proc.stderr


def test_a_bounce_after_a_secret_rotation_is_still_tied_by_its_verp_tag(
        project, sent, box):
    """Mail sent before `bulletin secret rotate` bounces after it: its VERP
    tag, signed with the old secret, still names the delivery during the
    grace period, and no longer after it."""
    ada_id, _ = sent["ada@example.org"]
    bob_id, _ = sent["bob@example.org"]
    old_secret = project.secret.read_text()
    proc = project.run("secret", "rotate")
    assert proc.returncode == 0, proc.stderr
    assert project.secret.read_text() != old_secret
    # verp_address signs with the secret the send used: the old one now
    deliver(box, "1.dsn", dsn(verp_address(ada_id), "ada@example.org"))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows == [{"message": "1.dsn", "kind": "hard-bounce",
                     "recipients": ["ada@example.org"], "status": "5.1.1",
                     "verified": True,
                     "action": f"marked subscriber {ada_id} bounced"}]
    assert sub_status(project, "ada@example.org") == "bounced"
    assert bounce_rows(project) == [(ada_id, "2021-03", "hard", "5.1.1")]

    # past the grace period the old tag is nobody's
    project.config.write_text(project.config.read_text().replace(
        "[tokens]\n", "[tokens]\ngrace-days = 0\n"))
    deliver(box, "2.dsn", dsn(verp_address(bob_id), "bob@example.org"))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert [(r["message"], r["verified"], r["action"]) for r in rows] == [
        ("2.dsn", False,
         "none: not tied to a delivery of ours (unverified)")]
    assert sub_status(project, "bob@example.org") == "active"


def test_dsn_tied_by_the_returned_message_id(project, sent, box):
    bob_id, bob_msgid = sent["bob@example.org"]
    deliver(box, "1.dsn", dsn(f"digest@{DOMAIN}", "bob@example.org",
                              original_id=bob_msgid))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["verified"] is True
    assert sub_status(project, "bob@example.org") == "bounced"
    assert [s for e, s in ((e, sub_status(project, e)) for e, _ in PEOPLE)
            if s == "bounced"] == ["bounced"]


@pytest.mark.parametrize("tag_kind", ["none", "forged", "truncated",
                                      "other-campaign"])
def test_a_forged_bounce_for_a_real_subscriber_changes_nothing(
        project, sent, box, tag_kind):
    cy_id, _ = sent["cy@example.org"]
    good = verp_address(cy_id)
    to = {"none": f"digest@{DOMAIN}",
          "forged": good.replace("+", "+x", 1).replace(f"+x{cy_id}",
                                                       f"+{cy_id + 1}"),
          "truncated": good[:good.index("@") - 3] + good[good.index("@"):],
          "other-campaign": verp_address(cy_id, "2099-01")}[tag_kind]
    deliver(box, "1.dsn", dsn(to, "cy@example.org"))
    before = sub_events(project, "cy@example.org")

    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "hard-bounce"
    assert rows[0]["recipients"] == ["cy@example.org"]
    assert rows[0]["verified"] is False
    assert "not tied to a delivery of ours" in rows[0]["action"]
    assert sub_status(project, "cy@example.org") == "active"
    assert sub_events(project, "cy@example.org") == before
    assert bounce_rows(project) == []


def test_unverified_bounces_count_when_the_config_trusts_them(project, sent,
                                                                box):
    config_inbox(project, trust_unverified="true")
    deliver(box, "1.dsn", dsn(f"digest@{DOMAIN}", "cy@Example.ORG"))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["verified"] is False
    assert rows[0]["action"].startswith("marked subscriber")
    assert sub_status(project, "cy@example.org") == "bounced"


def test_soft_bounces_score_once_a_day_and_turn_hard_at_the_threshold(
        project, sent, box):
    config_inbox(project, soft_bounce_threshold=3, soft_bounce_stale_days=7)
    di_id, _ = sent["di@example.org"]
    to = verp_address(di_id)

    def bounce(name, days_ago=None):
        if days_ago is not None:
            with db(project) as conn:
                conn.execute("UPDATE bounce_scores SET last_day ="
                             " date('now', ?)", (f"-{days_ago} days",))
        deliver(box, name, dsn(to, "di@example.org", "4.2.2", "delayed"))
        proc, rows = run_inbox(project, box)
        assert proc.returncode == 0, proc.stderr
        return rows[-1]["action"]

    assert bounce("1") == f"soft bounce of subscriber {di_id} scored 1 of 3"
    # the same day: no second point
    assert bounce("2") == f"soft bounce of subscriber {di_id} scored 1 of 3"
    assert bounce("3", days_ago=1).endswith("scored 2 of 3")
    # a score with no point for longer than the stale days starts again
    assert bounce("4", days_ago=8).endswith("scored 1 of 3")
    assert sub_status(project, "di@example.org") == "active"
    assert bounce("5", days_ago=2).endswith("scored 2 of 3")
    assert bounce("6", days_ago=1) == (
        f"soft bounce of subscriber {di_id} scored 3 of 3: bounced")
    assert sub_status(project, "di@example.org") == "bounced"
    assert sub_events(project, "di@example.org")[-1] == (
        "bounce", "inbox", "soft bounces", "2021-03")


# ---- complaints, replies, auto-replies, junk --------------------------------------

def test_arf_complaint_marks_complained_even_with_the_address_redacted(
        project, sent, box):
    ada_id, ada_msgid = sent["ada@example.org"]
    deliver(box, "1.arf", arf(ada_msgid, "ada@example.org", redacted=True))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "complaint"
    assert rows[0]["verified"] is True
    assert sub_status(project, "ada@example.org") == "complained"
    assert sub_events(project, "ada@example.org")[-1] == (
        "complaint", "arf", "abuse", "2021-03")


def test_dmarc_failure_reports_are_not_complaints(project, sent, box):
    _, bob_msgid = sent["bob@example.org"]
    deliver(box, "1.arf", arf(bob_msgid, "bob@example.org", "auth-failure"))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "other"
    assert rows[0]["action"] == "none: a report of type auth-failure"
    assert sub_status(project, "bob@example.org") == "active"
    assert names(box, "cur") == ["1.arf:2,S"]


def test_reply_to_the_unsubscribe_mailto_unsubscribes(project, sent, box):
    bob_id, _ = sent["bob@example.org"]
    deliver(box, "1.reply", reply(tokens.make(bob_id, "2021-03")))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "unsubscribe"
    assert rows[0]["verified"] is True
    assert sub_status(project, "bob@example.org") == "unsubscribed"
    assert sub_events(project, "bob@example.org")[-1] == (
        "unsubscribe", "mailto", None, "2021-03")


def test_the_token_may_be_in_the_address_instead(project, sent, box):
    cy_id, _ = sent["cy@example.org"]
    token = tokens.make(cy_id, "2021-03")
    msg = reply("", to=f"unsubscribe+{token}@{DOMAIN}", frm="cy@example.org")
    deliver(box, "1.reply", msg)
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "unsubscribe"
    assert sub_status(project, "cy@example.org") == "unsubscribed"


def test_a_reply_without_a_token_is_left_for_a_person(project, sent, box):
    deliver(box, "1.reply", reply("please", frm="cy@example.org"))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["action"] == "left in place: not understood"
    assert sub_status(project, "cy@example.org") == "active"


def test_a_reply_with_a_forged_token_is_left_for_a_person(project, sent, box):
    bob_id, _ = sent["bob@example.org"]
    token = tokens.make(bob_id, "2021-03")
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    deliver(box, "1.reply", reply(forged))
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "other"
    assert rows[0]["action"] == "left in place: not understood"
    assert sub_status(project, "bob@example.org") == "active"
    assert names(box, "new") == ["1.reply"]


def test_auto_replies_are_never_bounces(project, sent, box):
    deliver(box, "1.ooo", out_of_office())
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows[0]["kind"] == "auto-reply"
    assert sub_status(project, "bob@example.org") == "active"
    assert bounce_rows(project) == []


def test_a_second_run_changes_nothing_and_dry_run_changes_nothing(
        project, sent, box):
    ada_id, _ = sent["ada@example.org"]
    cy_id, cy_msgid = sent["cy@example.org"]
    deliver(box, "1.dsn", dsn(verp_address(ada_id), "ada@example.org"))
    deliver(box, "2.arf", arf(cy_msgid, "cy@example.org"))
    deliver(box, "3.junk", JUNK)
    deliver(box, "4.ooo", out_of_office())

    proc, rows = run_inbox(project, box, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert {r["message"]: r["action"] for r in rows} == {
        "1.dsn": f"would mark bounced subscriber {ada_id}",
        "2.arf": f"would mark complained subscriber {cy_id}",
        "3.junk": "left in place: not understood",
        "4.ooo": "none: an auto-reply"}
    assert names(box, "cur") == []
    assert sub_status(project, "ada@example.org") == "active"
    assert "(dry run)" in proc.stderr

    run_inbox(project, box, check=True)
    with db(project) as conn:
        snapshot = conn.execute("SELECT * FROM events ORDER BY id").fetchall()
    assert names(box, "new") == ["3.junk"]
    assert names(box, "cur") == ["1.dsn:2,S", "2.arf:2,S", "4.ooo:2,S"]

    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert [r["message"] for r in rows] == ["3.junk"]
    assert "1 read, 0 handled, 1 left in place" in proc.stderr
    with db(project) as conn:
        assert conn.execute("SELECT * FROM events ORDER BY id"
                            ).fetchall() == snapshot


def test_progress_bar_on_a_terminal_and_only_a_summary_elsewhere(
        project, sent, box):
    """With stderr on a terminal the run draws done/total, rate and ETA
    (stdout, a file here, gets the JSON lines untouched); without one,
    stderr holds the summary and nothing else."""
    ada_id, _ = sent["ada@example.org"]
    for i in range(400):
        deliver(box, f"{i:03}.junk", JUNK)
    deliver(box, "400.dsn", dsn(verp_address(ada_id), "ada@example.org"))
    (box / "cur" / "old:2,S").write_text(JUNK)     # handled before: not counted
    out = project.path / "out.jsonl"
    status, text = on_a_terminal(project.path, ["inbox", "--maildir", box,
                                                "--format", "json"],
                                 stdout=out)
    assert status == 0, text
    assert "\r\x1b[K[" + "#" * 30 + "] 401/401 " in text
    assert re.search(r"401/401 [\d.]+/s ETA 0:00 handled 1", text)
    assert "401 read, 1 handled, 400 left in place" in text
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 401 and "\x1b" not in out.read_text()

    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert len(rows) == 400
    assert proc.stderr == "inbox: 400 read, 0 handled, 400 left in place\n"


def test_a_failure_after_the_commit_reads_the_messages_again_harmlessly(
        project, sent, box):
    """The store changes are committed before the files move: when moving
    fails (here a folder in the way in cur/; a crash is the same), the
    next run reads the messages again, and applying them again changes
    nothing anyone sees: statuses, events, scores, the report's counts."""
    ada_id, _ = sent["ada@example.org"]
    bob_id, _ = sent["bob@example.org"]
    cy_id, cy_msgid = sent["cy@example.org"]
    deliver(box, "1.dsn", dsn(verp_address(ada_id), "ada@example.org"))
    deliver(box, "2.soft", dsn(verp_address(bob_id), "bob@example.org",
                               "4.2.2", "delayed"))
    deliver(box, "3.arf", arf(cy_msgid, "cy@example.org"))
    blocker = box / "cur" / "1.dsn:2,S"
    blocker.mkdir()
    (blocker / "x").write_text("in the way")

    def seen():
        with db(project) as conn:
            return (conn.execute("SELECT email, status FROM subscribers"
                                 " ORDER BY id").fetchall(),
                    conn.execute("SELECT * FROM events ORDER BY id").fetchall(),
                    conn.execute("SELECT * FROM bounce_scores").fetchall(),
                    conn.execute(
                        "SELECT kind, count(DISTINCT subscriber_id)"
                        " FROM bounces GROUP BY kind ORDER BY kind").fetchall())

    proc, rows = run_inbox(project, box)
    assert proc.returncode == 74
    assert f"cannot move '{box}/new/1.dsn' to '{box}/cur/1.dsn:2,S'" in (
        proc.stderr)
    assert len(rows) == 3
    # committed, though 1.dsn could not be put away
    assert sub_status(project, "ada@example.org") == "bounced"
    assert names(box, "new") == ["1.dsn"]
    after_first = seen()
    assert after_first[3] == [("complaint", 1), ("hard", 1), ("soft", 1)]

    shutil.rmtree(blocker)
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert rows == [{"message": "1.dsn", "kind": "hard-bounce",
                     "recipients": ["ada@example.org"], "status": "5.1.1",
                     "verified": True, "action":
                     f"marked subscriber {ada_id} bounced (already so)"}]
    assert seen() == after_first
    assert names(box, "new") == []
    assert names(box, "cur") == ["1.dsn:2,S", "2.soft:2,S", "3.arf:2,S"]


def test_text_format_says_what_it_did(project, sent, box):
    ada_id, _ = sent["ada@example.org"]
    deliver(box, "1.dsn", dsn(verp_address(ada_id), "ada@example.org"))
    proc = project.run("inbox", "--maildir", box)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == (f"1.dsn: hard-bounce ada@example.org (5.1.1), "
                           f"verified: marked subscriber {ada_id} bounced\n")


# ---- report ----------------------------------------------------------------------

def test_report_counts_bounces_and_complaints_and_warns(project, sent, box):
    ada_id, _ = sent["ada@example.org"]
    _, cy_msgid = sent["cy@example.org"]
    di_id, _ = sent["di@example.org"]
    deliver(box, "1", dsn(verp_address(ada_id), "ada@example.org"))
    deliver(box, "2", arf(cy_msgid, "cy@example.org"))
    deliver(box, "3", dsn(verp_address(di_id), "di@example.org", "4.2.2",
                          "delayed"))
    run_inbox(project, box, check=True)
    proc = project.run("report", "2021-03")
    assert proc.returncode == 0, proc.stderr
    assert ("bounces and complaints (share of 4 delivered)\n"
            "  hard              1   25.00%\n"
            "  soft              1   25.00%\n"
            "  complaints        1   25.00%\n"
            "warning: hard bounces at 25.00% of delivered, above the 2.0% "
            "mailbox providers accept\n"
            "warning: complaints at 25.00% of delivered, above the 0.3% "
            "mailbox providers accept\n") in proc.stdout
    proc = project.run("report", "2021-03", "--format", "json")
    import json
    rep = json.loads(proc.stdout)
    assert rep["bounces"] == {
        "hard": {"count": 1, "share": 0.25},
        "soft": {"count": 1, "share": 0.25},
        "complaints": {"count": 1, "share": 0.25}}
    assert rep["warnings"] == ["hard bounces above 2.0%",
                               "complaints above 0.3%"]


def test_report_without_bounces_warns_of_nothing(project, sent):
    proc = project.run("report", "2021-03")
    assert proc.returncode == 0, proc.stderr
    assert "  complaints        0    0.00%\n" in proc.stdout
    assert "warning" not in proc.stdout


# ---- bad input -------------------------------------------------------------------

def test_usage_errors(project):
    proc = project.run("inbox", "--dry-run")
    assert proc.returncode == 64
    assert proc.stderr.startswith(
        "usage: bulletin inbox (--maildir DIR | --imap URL)")
    proc = project.run("inbox", "--maildir", "x", "--format", "xml")
    assert proc.returncode == 64
    assert "unknown format 'xml' (text or json)" in proc.stderr


def test_a_missing_maildir_is_named(project):
    proc = project.run("inbox", "--maildir", "nowhere")
    assert proc.returncode == 66
    assert "'nowhere' is not a Maildir (no readable new/)" in proc.stderr


def test_bad_inbox_config_is_named(project, box):
    config_inbox(project, soft_bounce_threshold=0)
    proc = project.run("inbox", "--maildir", box)
    assert proc.returncode == 78
    assert ("bad value for 'soft-bounce-threshold' in [inbox]: expected a "
            "whole number from 1 to 1000") in proc.stderr


def test_hostile_messages_are_left_in_place(project, sent, box):
    deliver(box, "1", "")
    deliver(box, "2", "Content-Type: multipart/report; boundary=x\n\n"
            + "--x\nContent-Type: multipart/mixed; boundary=x\n\n" * 2000)
    deliver(box, "3", "Content-Type: message/delivery-status\n\n"
            + "Final-Recipient: rfc822; a@b\n" * 5000)
    deliver(box, "4", "From: MAILER-DAEMON@x\n\n" + "<" * 100000 + "@>:\n")
    # too large to be a bounce: not read at all
    with open(box / "new" / "5", "wb") as f:
        f.truncate(9 * 1024 * 1024)
    os.mkfifo(box / "new" / "6")   # would hang a reader
    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    assert len(rows) == 6
    assert {r["message"]: r["action"] for r in rows}["6"] == (
        "left in place: not understood")
    assert all(not r["verified"] for r in rows)
    assert {e: sub_status(project, e) for e, _ in PEOPLE} == {
        e: "active" for e, _ in PEOPLE}


# ---- real DSNs from Postfix ----------------------------------------------------

@pytest.fixture
def postfix():
    from postfix import POSTFIX, Postfix
    if not shutil.which(POSTFIX) and not os.path.exists(POSTFIX):
        pytest.skip("postfix is not installed (make deps)")
    # its daemons run as postfix and nobody: a folder they can reach
    root = Path(tempfile.mkdtemp(prefix="bulletin-postfix-"))
    os.chmod(root, 0o755)
    pf = Postfix(root)
    try:
        pf.start()
        yield pf
    finally:
        pf.stop()
        shutil.rmtree(root)


def outbox_message(project, rcpt):
    box = mailbox.Maildir(project.path / "subscribers" / "outbox",
                          factory=None, create=False)
    for key in box.keys():
        raw = box.get_bytes(key)
        msg = email.message_from_bytes(raw, policy=policy.default)
        if msg["To"].addresses[0].addr_spec == rcpt:
            return raw
    raise AssertionError(f"nothing sent to {rcpt}")


def test_real_postfix_dsns(project, sent, postfix):
    """Postfix bounces our messages to an unknown local user back into a
    Maildir: by the VERP envelope sender, by the returned Message-ID,
    and one forged (a made-up message naming a subscriber)."""
    ada_id, _ = sent["ada@example.org"]
    bob_id, _ = sent["bob@example.org"]
    forged = (f"From: digest@{DOMAIN}\r\nTo: cy@example.org\r\n"
              f"Message-ID: <2021-03.3.000000000000@{DOMAIN}>\r\n"
              "Subject: Best of arXiv\r\n\r\nhi\r\n").encode()
    with smtplib.SMTP("127.0.0.1", postfix.port, timeout=30) as s:
        s.sendmail(verp_address(ada_id), ["nosuchuser@localhost"],
                   outbox_message(project, "ada@example.org"))
        s.sendmail(f"digest@{DOMAIN}", ["nobody-here@localhost"],
                   outbox_message(project, "bob@example.org"))
        s.sendmail(f"digest@{DOMAIN}", ["cy@localhost"], forged)
    postfix.wait_for_mail(3)

    proc, rows = run_inbox(project, postfix.maildir)
    assert proc.returncode == 0, proc.stderr
    by_rcpt = {r["recipients"][0]: r for r in rows}
    assert sorted(by_rcpt) == ["cy@localhost", "nobody-here@localhost",
                               "nosuchuser@localhost"]
    for r in rows:
        assert r["kind"] == "hard-bounce"
        assert r["status"] == "5.1.1"
    assert by_rcpt["nosuchuser@localhost"]["verified"] is True
    assert by_rcpt["nosuchuser@localhost"]["action"] == (
        f"marked subscriber {ada_id} bounced")
    assert by_rcpt["nobody-here@localhost"]["action"] == (
        f"marked subscriber {bob_id} bounced")
    assert by_rcpt["cy@localhost"]["verified"] is False
    assert {e: sub_status(project, e) for e, _ in PEOPLE} == {
        "ada@example.org": "bounced", "bob@example.org": "bounced",
        "cy@example.org": "active", "di@example.org": "active"}

    proc, rows = run_inbox(project, postfix.maildir)
    assert proc.returncode == 0, proc.stderr
    assert rows == []
