"""bulletin send and report against a real SMTP server on 127.0.0.1."""

import email
import json
import mailbox
import os
import re
import signal
import subprocess
import time
from email import policy

import pytest

from conftest import BINARY, on_a_terminal
from sendlib import (add_subscribers, db, deliveries, setup_send, sub_events,
                     sub_status, verp_mac)
from smtpd import SMTPServer, free_port

EX_USAGE, EX_DATAERR, EX_UNAVAILABLE, EX_TEMPFAIL, EX_CONFIG = 64, 65, 69, 75, 78


@pytest.fixture
def smtpd():
    with SMTPServer() as srv:
        yield srv


def send(project, *args, env=None):
    return project.run("send", "digests/2021-03", *args, env=env)


def parse(raw):
    return email.message_from_bytes(raw, policy=policy.default)


def sign_with_dkim(project, signed):
    """With signed, a [dkim] section and its key: send then signs in its
    pool of threads, and what a stop finds there must go back queued."""
    if not signed:
        return
    with open(project.config, "a") as f:
        f.write("\n[dkim]\ndomain = news.example.org\nselector = s2026\n"
                "key-file = config/rsa.pem\n")
    project.run("dkim", "keygen", check=True)


# ---- the main job ---------------------------------------------------------------

def test_campaign_reaches_each_active_subscriber_exactly_once(project, smtpd):
    setup_send(project, smtpd.url, verp="true")
    people = [(f"reader{i}@example.org", f"Reader {i}") for i in range(500)]
    people += [("zoe@example.com", "Zoë Durand"), ("li@example.cn", "林晓")]
    gone = [("left@example.org", "Left"), ("bounced@example.org", "Bounced")]
    add_subscribers(project, people + gone)
    project.run("sub", "unsubscribe", "left@example.org", check=True)
    with db(project) as conn:
        conn.execute("UPDATE subscribers SET status = 'bounced'"
                     " WHERE email = 'bounced@example.org'")

    proc = send(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "502 sent (502 this run)" in proc.stdout

    got = smtpd.received()
    assert got == {e: 1 for e, _ in people}
    names = dict(people)
    dl = deliveries(project)
    for mail_from, rcpt, raw in smtpd.messages:
        msg = parse(raw)
        assert msg["To"].addresses[0].addr_spec == rcpt
        assert msg["To"].addresses[0].display_name == names[rcpt]
        state, attempts, reply, code, mid = dl[rcpt]
        assert (state, attempts, code) == ("sent", 1, 250)
        assert msg["Message-ID"] == f"<{mid}>"
        assert re.fullmatch(r"2021-03\.\d+\.[0-9a-f]{12}@news\.example\.org", mid)
        unsub = re.search(r"<(https://news\.example\.org/u/[^>]+)>",
                          msg["List-Unsubscribe"]).group(1)
        text = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert unsub in text and unsub in html
        # VERP: bounces+ID.CAMPAIGN.MAC@domain, the MAC under the secret
        local, domain = mail_from.split("@")
        tag = local.split("+", 1)[1]
        payload, mac = tag.rsplit(".", 1)
        assert domain == "news.example.org" and local.startswith("digest+")
        assert payload.endswith(".2021-03") and mac == verp_mac(payload)
    assert len({mid for *_, mid in dl.values()}) == 502
    assert set(smtpd.ehlo_names) == {"mta.news.example.org"}
    # each connection carries many messages
    assert smtpd.connections <= 8

    again = send(project, "--yes")
    assert again.returncode == 0
    assert "0 this run" in again.stdout
    assert len(smtpd.messages) == 502

    report = json.loads(project.run("report", "2021-03", "--format", "json",
                                    check=True).stdout)
    assert (report["sent"], report["queued"], report["failed"]) == (502, 0, 0)
    assert report["replies"][0]["code"] == 250
    assert report["replies"][0]["count"] == 502
    assert report["finished"] is not None
    listing = project.run("report", check=True).stdout
    assert listing.startswith("2021-03  finished") and "sent 502" in listing


FAULTS = [
    # local part, delivery state, attempts, reply code, subscriber status
    ("rcpt-550", "failed", 1, 550, "bounced"),
    ("rcpt-551", "failed", 1, 551, "bounced"),
    ("rcpt-553", "failed", 1, 553, "bounced"),
    ("rcpt-554", "failed", 1, 554, "active"),
    ("rcpt-571", "failed", 1, 550, "active"),	# 5.7.1: our set-up, not them
    ("data-552", "failed", 1, 552, "active"),	# after DATA: message too big
    ("rcpt-552", "failed", 3, 552, "active"),	# to RCPT: read as 452, retried
    ("rcpt-450", "failed", 3, 450, "active"),	# retried, then given up
    ("rcpt-451-once", "sent", 2, 250, "active"),
    ("rcpt-452-once", "sent", 2, 250, "active"),
    ("rcpt-421-once", "sent", 2, 250, "active"),
    ("drop-once", "sent", 2, 250, "active"),
]


def test_each_fault_ends_in_the_right_state(project, smtpd):
    setup_send(project, smtpd.url, max_attempts=3, retry_delay=0.1)
    add_subscribers(project, [(f"{lp}@example.org", lp) for lp, *_ in FAULTS]
                    + [("fine@example.org", "Fine")])
    proc = send(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    dl = deliveries(project)
    for lp, state, attempts, code, status in FAULTS:
        addr = f"{lp}@example.org"
        got = dl[addr]
        assert (got[0], got[1], got[3]) == (state, attempts, code), (lp, got)
        assert sub_status(project, addr) == status, lp
        if status == "bounced":
            assert sub_events(project, addr)[-1][:2] == ("bounce", "smtp")
            assert sub_events(project, addr)[-1][3] == "2021-03"
            assert str(code) in sub_events(project, addr)[-1][2]
    # a failed delivery keeps its last reply
    assert dl["rcpt-554@example.org"][2] == "554 5.0.0 Transaction failed"
    assert dl["rcpt-450@example.org"][2].startswith("450 4.2.1")
    assert smtpd.received()["fine@example.org"] == 1
    assert sum(smtpd.received().values()) == 5

    # the server is fixed: --retry-failed queues only the failed ones
    smtpd.script.update({f"{lp}@example.org": "ok" for lp, *_ in FAULTS})
    retry = send(project, "--yes", "--retry-failed")
    assert retry.returncode == 0, retry.stderr
    assert "8 failed deliveries queued again" in retry.stdout
    dl = deliveries(project)
    # the bounced subscribers get nothing more; the others their copy
    assert dl["rcpt-550@example.org"][0] == "skipped"
    assert dl["rcpt-554@example.org"][0] == "sent"
    assert smtpd.received()["fine@example.org"] == 1
    assert smtpd.received()["rcpt-554@example.org"] == 1


def test_a_slow_server_times_out_and_the_delivery_is_deferred(project, smtpd):
    setup_send(project, smtpd.url, reply_timeout=1, max_attempts=2,
               retry_delay=0.1)
    add_subscribers(project, [("slow-3@example.org", "Slow")])
    proc = send(project, "--yes")
    assert proc.returncode == 0
    state, attempts, reply, code, _ = deliveries(project)["slow-3@example.org"]
    assert (state, attempts, code) == ("failed", 2, None)
    assert "timed out" in reply


@pytest.mark.parametrize("signed", [False, True])
def test_policy_refusals_in_a_row_stop_the_run(project, smtpd, signed):
    setup_send(project, smtpd.url, connections=1)
    sign_with_dkim(project, signed)
    add_subscribers(project, [(f"rcpt-571-{i}@example.org", "P") for i in range(8)])
    smtpd.script.update({f"rcpt-571-{i}@example.org": "rcpt-571"
                         for i in range(8)})
    proc = send(project, "--yes")
    assert proc.returncode == EX_UNAVAILABLE
    assert "5 recipients in a row refused by policy" in proc.stderr
    assert "our set-up is at fault" in proc.stderr
    states = [d[0] for d in deliveries(project).values()]
    assert states.count("failed") == 5 and states.count("queued") == 3
    assert all(sub_status(project, f"rcpt-571-{i}@example.org") == "active"
               for i in range(8))


def test_4_7_replies_slow_the_run_down_loudly(project, smtpd):
    setup_send(project, smtpd.url, retry_delay=0.1)
    add_subscribers(project, [("rcpt-471-once@example.org", "R"),
                              ("x@example.org", "X")])
    proc = send(project, "--yes")
    assert proc.returncode == 0
    assert "the server asks us to slow down (450 4.7.1" in proc.stderr
    assert smtpd.received() == {"rcpt-471-once@example.org": 1,
                                "x@example.org": 1}


# ---- a relay that cannot work: stop at once, resume later --------------------------

def test_unreachable_server_stops_at_once_and_resumes(project):
    port = free_port()
    setup_send(project, f"smtp://127.0.0.1:{port}")
    add_subscribers(project, [(f"r{i}@example.org", "R") for i in range(20)])
    proc = send(project, "--yes")
    assert proc.returncode == EX_UNAVAILABLE
    assert "cannot connect" in proc.stderr
    assert "run 'bulletin send digests/2021-03' again to resume" in proc.stderr
    assert {d[0] for d in deliveries(project).values()} == {"queued"}
    with SMTPServer() as srv:
        srv.port = port
        srv.stop()
    srv = SMTPServer()
    srv.port = port
    with srv:
        proc = send(project, "--yes")
        assert proc.returncode == 0, proc.stderr
        assert srv.received() == {f"r{i}@example.org": 1 for i in range(20)}


def test_tls_required_but_not_offered_fails_safe(project, smtpd):
    setup_send(project, smtpd.url, starttls="require")
    add_subscribers(project, [("a@example.org", "A"), ("b@example.org", "B")])
    proc = send(project, "--yes")
    assert proc.returncode == EX_UNAVAILABLE
    assert "does not offer STARTTLS" in proc.stderr
    assert smtpd.messages == [] and smtpd.connections == 1
    assert {d[0] for d in deliveries(project).values()} == {"queued"}


def test_starttls_with_the_configured_ca(project, tmp_path):
    with SMTPServer(tls=True) as srv:
        setup_send(project, srv.url, starttls="require", ca_file=srv.cert_file)
        add_subscribers(project, [("a@example.org", "A")])
        proc = send(project, "--yes")
        assert proc.returncode == 0, proc.stderr
        assert srv.received() == {"a@example.org": 1}


def test_an_untrusted_certificate_stops_the_run(project):
    with SMTPServer(tls=True) as srv:
        setup_send(project, srv.url, starttls="require")
        add_subscribers(project, [("a@example.org", "A")])
        proc = send(project, "--yes")
        assert proc.returncode == EX_UNAVAILABLE
        assert "TLS failed" in proc.stderr
        assert srv.messages == []


def test_auth_with_the_password_from_the_environment(project):
    with SMTPServer(auth={"news": "s3cret"}) as srv:
        setup_send(project, srv.url, username="news",
                   password_env="TEST_SMTP_PASSWORD")
        add_subscribers(project, [(f"r{i}@example.org", "R") for i in range(10)])
        proc = send(project, "--yes", env={"TEST_SMTP_PASSWORD": "s3cret"})
        assert proc.returncode == 0, proc.stderr
        assert len(srv.messages) == 10
        assert srv.auth_attempts == srv.connections <= 4



def test_smtps_and_auth_login(project):
    with SMTPServer(implicit_tls=True, auth={"news": "s3cret"},
                    mechanisms=["LOGIN"]) as srv:
        pw = project.path / "config" / "smtp-password"
        pw.write_text("s3cret\n")
        os.chmod(pw, 0o600)
        setup_send(project, srv.url, ca_file=srv.cert_file, username="news",
                   password_file="config/smtp-password")
        add_subscribers(project, [("a@example.org", "A"), ("b@example.org", "B")])
        proc = send(project, "--yes")
        assert proc.returncode == 0, proc.stderr
        assert srv.received() == {"a@example.org": 1, "b@example.org": 1}
        assert srv.auth_attempts >= 1


def test_a_wrong_password_fails_once_clearly(project):
    with SMTPServer(auth={"news": "s3cret"}) as srv:
        setup_send(project, srv.url, username="news",
                   password_env="TEST_SMTP_PASSWORD")
        add_subscribers(project, [(f"r{i}@example.org", "R") for i in range(10)])
        proc = send(project, "--yes", env={"TEST_SMTP_PASSWORD": "wrong"})
        assert proc.returncode == EX_UNAVAILABLE
        assert "authentication failed: 535" in proc.stderr
        assert srv.auth_attempts == 1
        assert {d[0] for d in deliveries(project).values()} == {"queued"}


def test_a_password_file_others_can_read_is_refused(project, smtpd):
    pw = project.path / "config" / "smtp-password"
    pw.write_text("s3cret\n")
    os.chmod(pw, 0o640)
    setup_send(project, smtpd.url, username="news",
               password_file="config/smtp-password")
    add_subscribers(project, [("a@example.org", "A")])
    proc = send(project, "--yes")
    assert proc.returncode == EX_CONFIG
    assert "password file 'config/smtp-password' is readable by others" in proc.stderr
    assert smtpd.connections == 0


# ---- crashes ------------------------------------------------------------------------

def test_kill_9_at_random_moments_then_resume(project, smtpd):
    import random
    rng = random.Random(7)
    setup_send(project, smtpd.url, connections=4)
    people = [f"k{i}@example.org" for i in range(400)]
    add_subscribers(project, [(e, "K") for e in people])
    env = dict(os.environ)
    env.pop("BULLETIN_CONFIG", None)
    uncertain = set()
    for run in range(6):
        proc = subprocess.Popen([str(BINARY), "send", "digests/2021-03", "--yes"],
                                cwd=project.path, env=env,
                                stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with db(project) as conn:
            in_flight = conn.execute(
                "SELECT count(*) FROM deliveries WHERE state = 'sending'"
                ).fetchone()[0]
        # the bound the README states: 4 x connections, at least 32
        assert in_flight <= 32
    proc = send(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    dl = deliveries(project)
    got = smtpd.received()
    for e in people:
        state = dl[e][0]
        assert state in ("sent", "uncertain"), (e, state)
        if state == "sent":
            assert got[e] == 1, e
        else:
            uncertain.add(e)
            assert got[e] <= 1, e
    assert len(uncertain) <= 6 * 32
    report = project.run("report", "2021-03", check=True).stdout
    for e in uncertain:
        assert e in report
    # asked for, the uncertain ones are sent again (some may get two)
    proc = send(project, "--yes", "--resend-uncertain")
    assert proc.returncode == 0
    got = smtpd.received()
    assert all(got[e] >= 1 for e in people)
    assert sum(got.values()) - len(people) <= len(uncertain)


@pytest.mark.parametrize("signed", [False, True])
def test_sigterm_finishes_in_flight_work_and_says_how_to_resume(project, smtpd,
                                                                signed):
    setup_send(project, smtpd.url, max_per_hour=10)
    sign_with_dkim(project, signed)
    add_subscribers(project, [(f"h{i}@example.org", "H") for i in range(15)])
    env = dict(os.environ)
    env.pop("BULLETIN_CONFIG", None)
    proc = subprocess.Popen([str(BINARY), "send", "digests/2021-03", "--yes"],
                            cwd=project.path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while len(smtpd.messages) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    # the hourly cap holds the rest back
    assert len(smtpd.messages) == 10
    assert all(data.startswith(b"DKIM-Signature:") == signed
               for _, _, data in smtpd.messages)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == EX_TEMPFAIL
    assert "interrupted" in err and "again to resume" in err
    states = sorted(d[0] for d in deliveries(project).values())
    assert states == ["queued"] * 5 + ["sent"] * 10

    # someone leaves before the resume: they get nothing
    project.run("sub", "unsubscribe", "h14@example.org", check=True)
    proc = send(project, "--yes", "--max-per-hour", "100")
    assert proc.returncode == 0, proc.stderr
    assert deliveries(project)["h14@example.org"][0] == "skipped"
    assert smtpd.received()["h14@example.org"] == 0
    assert len(smtpd.messages) == 14


def test_rate_limit_is_honoured(project, smtpd):
    # a rate this server keeps up with even on a loaded machine
    setup_send(project, smtpd.url, rate=10)
    add_subscribers(project, [(f"r{i}@example.org", "R") for i in range(60)])
    proc = send(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    times = smtpd.times
    assert len(times) == 60
    # the first few go at once (the bucket's small burst), then the pace
    achieved = (len(times) - 1) / (times[-1] - times[0])
    assert 10 * 0.9 <= achieved <= 10 * 1.05, achieved
    # the command line wins over the config
    project.run("sub", "add", "late@example.org", check=True)
    with db(project) as conn:
        conn.execute("DELETE FROM deliveries")
        conn.execute("DELETE FROM campaigns")
    smtpd.times.clear()
    proc = send(project, "--yes", "--rate", "20")
    assert proc.returncode == 0, proc.stderr
    achieved = (len(smtpd.times) - 1) / (smtpd.times[-1] - smtpd.times[0])
    assert 20 * 0.85 <= achieved <= 20 * 1.05, achieved


# ---- the other modes ------------------------------------------------------------------

def test_dry_run_composes_everything_and_sends_nothing(project, smtpd):
    setup_send(project, smtpd.url)
    add_subscribers(project, [(f"r{i}@example.org", "R") for i in range(30)])
    proc = send(project, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert "dry run: 30 messages composed for campaign 2021-03" in proc.stdout
    assert smtpd.connections == 0
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 0


def test_test_message_goes_to_the_address_and_records_nothing(project, smtpd):
    setup_send(project, smtpd.url)
    add_subscribers(project, [("r@example.org", "R")])
    proc = send(project, "--test", "me@example.net")
    assert proc.returncode == 0, proc.stderr
    assert [m[1] for m in smtpd.messages] == ["me@example.net"]
    msg = parse(smtpd.messages[0][2])
    assert msg["To"].addresses[0].display_name == "Ada Lovelace"
    assert msg["To"].addresses[0].addr_spec == "me@example.net"
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM campaigns").fetchone()[0] == 0


def test_without_a_terminal_it_refuses_without_yes(project, smtpd):
    setup_send(project, smtpd.url)
    add_subscribers(project, [("r@example.org", "R")])
    proc = send(project)
    assert proc.returncode == EX_USAGE
    assert "no terminal to confirm on: add --yes" in proc.stderr
    assert smtpd.connections == 0


def test_changed_content_is_refused_with_a_way_out(project, smtpd):
    setup_send(project, smtpd.url, max_per_hour=1)
    add_subscribers(project, [("a@example.org", "A"), ("b@example.org", "B")])
    proc = subprocess.Popen([str(BINARY), "send", "digests/2021-03", "--yes"],
                            cwd=project.path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not smtpd.messages and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)
    issue = project.path / "digests" / "2021-03" / "issue.md"
    issue.write_text(issue.read_text() + "\nOne more line.\n")
    proc = send(project, "--yes")
    assert proc.returncode == EX_DATAERR
    assert "digest 'digests/2021-03' changed since campaign 2021-03 began" in proc.stderr
    assert "as a new campaign" in proc.stderr
    assert len(smtpd.messages) == 1


def test_refuses_without_what_the_law_requires(project, smtpd):
    setup_send(project, smtpd.url)
    text = project.config.read_text()
    project.config.write_text(text.replace("base-url = https://news.example.org",
                                           "base-url = http://localhost"))
    add_subscribers(project, [("a@example.org", "A")])
    proc = send(project, "--yes")
    assert proc.returncode == EX_CONFIG
    assert "'base-url' must be an https:// URL" in proc.stderr
    assert smtpd.connections == 0


def test_maildir_transport_writes_what_mailbox_reads(project):
    setup_send(project, "maildir:subscribers/outbox")
    people = [(f"m{i}@example.org", f"Reader {i}") for i in range(12)]
    add_subscribers(project, people)
    proc = send(project, "--yes")
    assert proc.returncode == 0, proc.stderr
    box = mailbox.Maildir(project.path / "subscribers" / "outbox",
                          factory=None, create=False)
    tos = sorted(parse(bytes(m)).get("To") for m in
                 (box.get_bytes(k) for k in box.keys()))
    assert tos == sorted(f"Reader {i} <m{i}@example.org>" for i in range(12))
    assert not os.listdir(project.path / "subscribers" / "outbox" / "tmp")


def test_progress_bar_and_confirmation_on_a_terminal(project, smtpd):
    setup_send(project, smtpd.url, rate=100)
    add_subscribers(project, [(f"p{i}@example.org", "P") for i in range(80)])
    status, text = on_a_terminal(project.path, ["send", "digests/2021-03"],
                                 answer="y")
    assert status == 0, text
    assert "to 80 recipients via smtp://127.0.0.1" in text
    assert "arXiv" in text		# the subject
    assert re.search(r"\r\x1b\[K\[#*-*\] \d+/80 [\d.]+/s ETA", text)
    assert "\r\x1b[K[" + "#" * 30 + "] 80/80" in text
    assert len(smtpd.messages) == 80


# ---- bad usage ---------------------------------------------------------------------

@pytest.mark.parametrize("args, status, message", [
    (["--connections", "0"], EX_USAGE, "--connections: expected 1 to 64"),
    (["--rate", "fast"], EX_USAGE, "--rate: expected a number, not 'fast'"),
    (["--test", "me@example.org", "--dry-run"], EX_USAGE,
     "--test and --dry-run do not go together"),
    (["--test", "not an address"], EX_USAGE, "bad --test address 'not an address'"),
])
def test_bad_send_options(project, smtpd, args, status, message):
    setup_send(project, smtpd.url)
    proc = send(project, *args)
    assert proc.returncode == status
    assert message in proc.stderr
    assert smtpd.connections == 0


def test_missing_digest_and_unknown_campaign(project, smtpd):
    setup_send(project, smtpd.url)
    proc = project.run("send", "digests/nope", "--yes")
    assert proc.returncode == 66
    assert "cannot read digest folder 'digests/nope'" in proc.stderr
    proc = project.run("report", "nope")
    assert proc.returncode == 66
    assert "no campaign 'nope'" in proc.stderr
    proc = project.run("report", "--format", "xml")
    assert proc.returncode == EX_USAGE
    assert "unknown format 'xml'" in proc.stderr


def test_a_missing_token_secret_is_explained(project, smtpd):
    setup_send(project, smtpd.url)
    (project.path / "config" / "secret").unlink()
    proc = send(project, "--yes")
    assert proc.returncode == EX_CONFIG
    assert "cannot read the token secret 'config/secret'" in proc.stderr
    assert "bulletin init" in proc.stderr
