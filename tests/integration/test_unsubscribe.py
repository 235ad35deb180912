"""One-click unsubscribe end to end: the List-* headers of sent messages
exactly as RFC 2369 and RFC 8058 say, the footer links, the POST a mail
provider makes from them, and what report and sub show say after."""

import email
import json
import mailbox
import re
from email import policy

import pytest

import tokens
from sendlib import add_subscribers, db, setup_send
from serving import Server

PEOPLE = [("ada@example.org", "Ada"), ("bob@example.org", "Bob"),
          ("cy@example.org", "Cy"), ("di@example.org", "Di")]


@pytest.fixture
def sent(project):
    """The sample issue sent to four subscribers through a Maildir:
    {address: (subscriber id, raw message)}."""
    digest = setup_send(project, "maildir:subscribers/outbox")
    add_subscribers(project, PEOPLE)
    proc = project.run("send", digest, "--yes")
    assert proc.returncode == 0, proc.stderr
    box = mailbox.Maildir(project.path / "subscribers" / "outbox",
                          factory=None, create=False)
    with db(project) as conn:
        ids = dict(conn.execute("SELECT email, id FROM subscribers"))
    out = {}
    for key in box.keys():
        raw = box.get_bytes(key)
        msg = email.message_from_bytes(raw, policy=policy.default)
        to = msg["To"].addresses[0].addr_spec
        out[to] = (ids[to], raw)
    assert sorted(out) == sorted(e for e, _ in PEOPLE)
    return out


def test_list_headers_exactly_as_rfc_8058(sent):
    for addr, (sub_id, raw) in sent.items():
        msg = email.message_from_bytes(raw, policy=policy.default)
        for name in ("List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
            assert len(msg.get_all(name, [])) == 1, name
        unsub = msg["List-Unsubscribe"]
        m = re.fullmatch(r"<https://news\.example\.org/u/(" + tokens.TOKEN_RE
                         + r")>, <mailto:unsubscribe@news\.example\.org"
                         r"\?subject=unsubscribe%20(" + tokens.TOKEN_RE
                         + r")>", unsub)
        assert m, unsub
        assert m.group(1) == m.group(2)
        # the token names this subscriber and the campaign, and is signed
        assert tokens.read(m.group(1)) == (sub_id, "2021-03")
        assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert msg["List-Id"] == "Best of arXiv <arxiv.news.example.org>"
        # on the wire: folded between the URIs only, never inside one
        head = raw.split(b"\r\n\r\n", 1)[0].decode()
        assert (f"\r\nList-Unsubscribe: <https://news.example.org/u/"
                f"{m.group(1)}>,\r\n <mailto:") in head
        # the footers of both parts link to the same HTTPS URL
        url = f"https://news.example.org/u/{m.group(1)}"
        assert url in msg.get_body(("plain",)).get_content()
        assert f'href="{url}"' in msg.get_body(("html",)).get_content()


def test_unsubscribe_mailto_from_the_config(project):
    text = project.config.read_text()
    project.config.write_text(text.replace(
        "[newsletter]\n", "[newsletter]\nunsubscribe-mailto = leave+news@lists.example.org\n"))
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    msg = email.message_from_bytes(
        (project.path / "out" / "2021-03.eml").read_bytes(),
        policy=policy.default)
    assert "<mailto:leave+news@lists.example.org?subject=unsubscribe%20" in \
        msg["List-Unsubscribe"]
    project.config.write_text(text.replace(
        "[newsletter]\n", "[newsletter]\nunsubscribe-mailto = Leave <x@y.org>\n"))
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == 78
    assert ("config/bulletin.conf:2: bad value for 'unsubscribe-mailto' in "
            "[newsletter]: unquoted space in address") in proc.stderr


def test_preview_token_names_the_sample_subscriber(project):
    project.run("sub", "add", "ada@example.org", "--status", "active",
                check=True)
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    msg = email.message_from_bytes(
        (project.path / "out" / "2021-03.eml").read_bytes(),
        policy=policy.default)
    token = re.search(r"/u/(" + tokens.TOKEN_RE + ")>",
                      msg["List-Unsubscribe"]).group(1)
    with db(project) as conn:
        ada = conn.execute("SELECT id FROM subscribers").fetchone()[0]
    assert tokens.read(token) == (ada, "2021-03")
    project.secret.unlink()
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == 78
    assert "cannot read the token secret 'config/secret'" in proc.stderr


def post_one_click(srv, url):
    path = url.removeprefix("https://news.example.org")
    return srv.request("POST", path, "List-Unsubscribe=One-Click",
                       {"Content-Type": "application/x-www-form-urlencoded"})


def test_unsubscribes_from_sent_mail_show_in_report_and_history(project, sent):
    urls = {}
    for addr, (_, raw) in sent.items():
        msg = email.message_from_bytes(raw, policy=policy.default)
        urls[addr] = re.search(r"<(https://[^>]+)>",
                               msg["List-Unsubscribe"]).group(1)
    srv = Server(project)
    try:
        assert post_one_click(srv, urls["ada@example.org"])[0] == 200
        assert post_one_click(srv, urls["ada@example.org"])[0] == 200
        assert post_one_click(srv, urls["bob@example.org"])[0] == 200
        path = urls["cy@example.org"].removeprefix("https://news.example.org")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        assert srv.request("POST", path, "action=unsubscribe", form)[0] == 200
        assert srv.request("POST", path, "action=resubscribe", form)[0] == 200
        assert srv.request("POST", path, "action=unsubscribe", form)[0] == 200
    finally:
        assert srv.stop() == 0

    report = json.loads(project.run("report", "2021-03", "--format", "json",
                                    check=True).stdout)
    assert report["sent"] == 4
    assert report["unsubscribed"] == 4
    assert report["unsubscribes"] == {
        "one-click": {"count": 2, "share": 0.5},
        "page": {"count": 2, "share": 0.5}}
    assert report["resubscribes"] == {"page": 1}
    table = project.run("report", "2021-03", check=True).stdout
    assert re.search(r"unsubscribes \(share of 4 sent\)\n"
                     r"  one-click +2 +50\.00%\n"
                     r"  page +2 +50\.00%\n"
                     r"  total +4 +100\.00%\n"
                     r"undone \(resubscribed from the page\)\n"
                     r"  page +1\n", table), table

    show = project.run("sub", "show", "ada@example.org", check=True).stdout
    assert "status:   unsubscribed" in show
    assert re.search(r"unsubscribe +one-click +campaign 2021-03", show), show
    assert len(re.findall(r"unsubscribe ", show)) == 1
    show = project.run("sub", "show", "cy@example.org", check=True).stdout
    assert re.findall(r"(unsubscribe|resubscribe) +(\S+) +campaign 2021-03",
                      show) == [("unsubscribe", "page"),
                                ("resubscribe", "page"),
                                ("unsubscribe", "page")]
