"""bulletin serve: the unsubscribe endpoint, driven by http.client and raw
sockets as mail providers, browsers and hostile clients drive it."""

import re
import socket
import sqlite3
import threading
import time

import pytest

import tokens
from serving import Server

EX_USAGE, EX_UNAVAILABLE, EX_CONFIG = 64, 69, 78
ONE_CLICK = "List-Unsubscribe=One-Click"
GMAIL_UA = ("Mozilla/5.0 (compatible; Google-Apps-Script; beanserver; "
            "+https://script.google.com; id: UAEmdDd-...) Gmail Actions)")


def db(project):
    return sqlite3.connect(project.path / "subscribers" / "bulletin.db")


def status(project, email):
    with db(project) as conn:
        return conn.execute("SELECT status FROM subscribers WHERE email = ?",
                            (email,)).fetchone()[0]


def events(project, email):
    with db(project) as conn:
        return conn.execute(
            "SELECT e.type, e.method, e.campaign_id FROM events e JOIN"
            " subscribers s ON s.id = e.subscriber_id WHERE s.email = ?"
            " ORDER BY e.id", (email,)).fetchall()


def sub_id(project, email):
    with db(project) as conn:
        return conn.execute("SELECT id FROM subscribers WHERE email = ?",
                            (email,)).fetchone()[0]


@pytest.fixture
def people(project):
    for email in ("ada@example.org", "bob@example.org", "cy@example.org"):
        project.run("sub", "add", email, "--status", "active", check=True)
    return project


@pytest.fixture
def server(people):
    srv = Server(people)
    yield srv
    assert srv.stop() == 0, srv.log


def url(project, email, campaign=""):
    return "/u/" + tokens.make(sub_id(project, email), campaign)


def test_healthz(server):
    st, hdrs, body = server.request("GET", "/healthz")
    assert (st, body) == (200, "ok\n")
    assert server.request("HEAD", "/healthz")[0] == 200


def test_get_shows_the_page_and_changes_nothing(people, server):
    path = url(people, "ada@example.org")
    before = events(people, "ada@example.org")
    for method in ("GET", "HEAD", "GET"):
        st, hdrs, body = server.request(method, path)
        assert st == 200
        assert hdrs["content-type"] == "text/html; charset=utf-8"
        assert "set-cookie" not in hdrs and "location" not in hdrs
    assert "ada@example.org" in body and "Best of arXiv" in body
    assert '<html lang="zh-CN">' in body and "确认退订" in body
    assert re.search(r'<form method="post">\s*<input type="hidden" '
                     r'name="action" value="unsubscribe">', body)
    assert "<script" not in body
    assert status(people, "ada@example.org") == "active"
    assert events(people, "ada@example.org") == before


def multipart(fields):
    boundary = "----bulletinTestBoundary7MA4YWxk"
    parts = "".join(f"--{boundary}\r\nContent-Disposition: form-data; "
                    f"name=\"{k}\"\r\n\r\n{v}\r\n" for k, v in fields)
    return (parts + f"--{boundary}--\r\n",
            f"multipart/form-data; boundary={boundary}")


@pytest.mark.parametrize("kind", ["urlencoded", "multipart", "empty",
                                  "text-plain"])
def test_one_click_post_as_mail_providers_send_it(people, server, kind):
    if kind == "urlencoded":
        body, ctype = ONE_CLICK, "application/x-www-form-urlencoded"
    elif kind == "multipart":
        body, ctype = multipart([("List-Unsubscribe", "One-Click")])
    elif kind == "empty":
        body, ctype = "", None
    else:
        body, ctype = ONE_CLICK, "text/plain"
    headers = {"User-Agent": GMAIL_UA}
    if ctype:
        headers["Content-Type"] = ctype
    path = url(people, "bob@example.org")
    before = events(people, "bob@example.org")
    st, hdrs, page = server.request("POST", path, body, headers)
    assert st == 200, page
    assert "set-cookie" not in hdrs and "location" not in hdrs
    assert "bob@example.org" in page and "已退订" in page
    assert 'value="resubscribe"' in page	# the undo button
    assert status(people, "bob@example.org") == "unsubscribed"
    assert events(people, "bob@example.org") == before + [
        ("unsubscribe", "one-click", None)]
    # idempotent: the same POST again changes nothing more
    assert server.request("POST", path, body, headers)[0] == 200
    assert events(people, "bob@example.org") == before + [
        ("unsubscribe", "one-click", None)]
    assert status(people, "cy@example.org") == "active"


def test_page_button_then_undo(people, server):
    path = url(people, "cy@example.org")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    st, _, page = server.request("POST", path, "action=unsubscribe", form)
    assert st == 200 and "已退订" in page
    assert status(people, "cy@example.org") == "unsubscribed"
    # the GET page of an unsubscribed address offers the undo
    assert 'value="resubscribe"' in server.request("GET", path)[2]
    st, _, page = server.request("POST", path, "action=resubscribe", form)
    assert st == 200 and "已重新订阅" in page
    assert status(people, "cy@example.org") == "active"
    # undo is idempotent too
    assert server.request("POST", path, "action=resubscribe", form)[0] == 200
    assert events(people, "cy@example.org")[1:] == [
        ("unsubscribe", "page", None), ("resubscribe", "page", None)]


def test_forged_tokens_get_one_neutral_400(people, server):
    good = tokens.make(sub_id(people, "ada@example.org"), "2021-03")
    people.run("sub", "add", "gone@example.org", "--status", "active",
               check=True)
    erased = tokens.make(sub_id(people, "gone@example.org"))
    people.run("sub", "rm", "gone@example.org", check=True)
    flipped = good[:10] + ("A" if good[10] != "A" else "B") + good[11:]
    bad = [flipped, good[:-1], good + "A", good + "AAAA",
           tokens.make(sub_id(people, "ada@example.org"), "2021-03",
                       secret="6" * 64),
           erased, tokens.make(999999), tokens.make(0), "",
           "not-a-token", "%00", "A" * 5000]
    pages = set()
    for token in bad:
        for method, body in (("GET", None), ("POST", ONE_CLICK)):
            st, hdrs, page = server.request(method, "/u/" + token, body)
            assert st == 400, token
            pages.add(page)
    assert len(pages) == 1		# nothing tells one failure from another
    page = pages.pop()
    assert "链接无效" in page and "example.org" not in page
    assert status(people, "ada@example.org") == "active"
    assert server.request("GET", "/u/" + good)[0] == 200


def test_unknown_paths_and_methods(people, server):
    path = url(people, "ada@example.org")
    for p in ("/", "/u", "/u/a/b", path + "/x", "/healthz/x", "/index.html"):
        assert server.request("GET", p)[0] == 404, p
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS"):
        st, hdrs, _ = server.request(method, path, "x")
        assert st == 405, method
        assert hdrs["allow"] == "GET, HEAD, POST"
    st, hdrs, _ = server.request("POST", "/healthz", "x")
    assert st == 405 and hdrs["allow"] == "GET, HEAD"
    assert status(people, "ada@example.org") == "active"


def raw_exchange(port, data, timeout=10):
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
    return out


def test_oversized_body_refused(people, server):
    path = url(people, "ada@example.org").encode()
    # announced too large
    st, _, _ = server.request("POST", path.decode(), "x" * 10000,
                              {"Content-Type": "text/plain"})
    assert st == 413
    # chunked, growing past the limit as it arrives
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"
    # (no response can be queued mid-body: the connection is closed)
    out = raw_exchange(server.port, b"POST " + path + b" HTTP/1.1\r\n"
                       b"Host: x\r\nTransfer-Encoding: chunked\r\n"
                       b"Connection: close\r\n\r\n" + chunk * 3 + b"0\r\n\r\n")
    assert out == b"", out[:80]
    assert status(people, "ada@example.org") == "active"
    assert server.request("GET", "/healthz")[0] == 200


def test_slow_clients_do_not_block_others(people, server):
    """Twenty clients trickle their headers a byte at a time; meanwhile
    every ordinary request is answered at once."""
    stop = threading.Event()
    slow = [socket.create_connection(("127.0.0.1", server.port))
            for _ in range(20)]

    def trickle():
        request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: "
        i = 0
        while not stop.is_set():
            for s in slow:
                try:
                    s.send(request[i:i + 1] if i < len(request) else b"a")
                except OSError:
                    pass
            i += 1
            stop.wait(0.05)

    t = threading.Thread(target=trickle)
    t.start()
    try:
        path = url(people, "ada@example.org")
        for _ in range(20):
            start = time.monotonic()
            assert server.request("GET", path)[0] == 200
            assert server.request("GET", "/healthz")[0] == 200
            assert time.monotonic() - start < 1.0
    finally:
        stop.set()
        t.join()
        for s in slow:
            s.close()


def get(sock, path=b"/healthz"):
    """One keep-alive request on an open socket; the status line."""
    sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    out = b""
    while b"\r\n\r\n" not in out:
        chunk = sock.recv(65536)
        if not chunk:
            return b""
        out += chunk
    head, rest = out.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
    while len(rest) < length:
        rest += sock.recv(65536)
    return head.split(b"\r\n")[0]


def test_per_ip_limit_closes_the_extra_connection(people):
    srv = Server(people, "--per-ip", "4")
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            for _ in range(4)]
    try:
        for s in held:
            assert get(s) == b"HTTP/1.1 200 OK"
        extra = raw_exchange(srv.port, b"GET /healthz HTTP/1.1\r\n"
                             b"Host: x\r\n\r\n")
        assert extra == b""
        for s in held:			# the others are unharmed
            assert get(s) == b"HTTP/1.1 200 OK"
        held.pop().close()
        # once the server has seen the close, a new one is served
        deadline = time.monotonic() + 10
        while raw_exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n") == b"":
            assert time.monotonic() < deadline, "not served again"
    finally:
        for s in held:
            s.close()
        assert srv.stop() == 0


def test_connection_limit_closes_the_extra_connection(people):
    """Over --max-connections a new connection is closed at once (not
    left waiting behind the open ones), the open ones are unharmed, and
    once one closes a new one is served."""
    srv = Server(people, "--max-connections", "4", "--threads", "2",
                 "--per-ip", "0")
    held = [socket.create_connection(("127.0.0.1", srv.port), timeout=10)
            for _ in range(4)]
    try:
        for s in held:
            assert get(s) == b"HTTP/1.1 200 OK"
        start = time.monotonic()
        assert raw_exchange(srv.port, b"GET /healthz HTTP/1.1\r\n"
                            b"Host: x\r\n\r\n") == b""
        assert time.monotonic() - start < 2
        for s in held:			# the others are unharmed
            assert get(s) == b"HTTP/1.1 200 OK"
        held.pop().close()
        deadline = time.monotonic() + 10
        while raw_exchange(srv.port, b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
                           b"Connection: close\r\n\r\n") == b"":
            assert time.monotonic() < deadline, "not served again"
    finally:
        for s in held:
            s.close()
        assert srv.stop() == 0


def test_one_log_line_per_request_without_token_or_address(people):
    srv = Server(people)
    path = url(people, "ada@example.org")
    srv.request("GET", "/healthz")
    srv.request("GET", path)
    srv.request("POST", path, ONE_CLICK,
                {"Content-Type": "application/x-www-form-urlencoded"})
    srv.request("GET", "/u/forged")
    srv.request("GET", "/ada@example.org")
    srv.request("DELETE", path)
    assert srv.stop() == 0
    lines = [l for l in srv.log.splitlines() if not l.startswith("bulletin:")]
    assert len(lines) == 6, srv.log
    pattern = (r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (GET|POST|DELETE) "
               r"(/healthz|/u/-|\(other\)) (200|400|404|405) \d+\.\dms")
    for line in lines:
        assert re.fullmatch(pattern, line), line
    # logged as each completes, which threads may reorder
    assert sorted(l.split()[1:4] for l in lines) == sorted([
        ["GET", "/healthz", "200"], ["GET", "/u/-", "200"],
        ["POST", "/u/-", "200"], ["GET", "/u/-", "400"],
        ["GET", "(other)", "404"], ["DELETE", "/u/-", "405"]])
    assert path[3:] not in srv.log and "ada@" not in srv.log


def test_sigterm_lets_the_request_in_flight_finish(people):
    srv = Server(people)
    path = url(people, "bob@example.org").encode()
    with socket.create_connection(("127.0.0.1", srv.port), timeout=10) as s:
        s.sendall(b"POST " + path + b" HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/x-www-form-urlencoded\r\n"
                  b"Content-Length: 26\r\n\r\nList-Unsub")
        # a request sent after ours is answered, so ours has begun
        assert srv.request("GET", "/healthz")[0] == 200
        deadline = time.monotonic() + 10
        srv.proc.send_signal(15)
        s.sendall(b"scribe=One-Click")
        answer = b""
        while b"\r\n\r\n" not in answer and time.monotonic() < deadline:
            answer += s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]
    assert srv.stop() == 0
    assert "finishing the requests in flight" in srv.log
    assert status(people, "bob@example.org") == "unsubscribed"


def test_rotated_secret_accepted_within_grace_only(people):
    old = url(people, "ada@example.org")
    proc = people.run("secret", "rotate", check=True)
    assert "stays valid for 90 days" in proc.stdout
    srv = Server(people)
    try:
        assert srv.request("GET", old)[0] == 200
    finally:
        assert srv.stop() == 0
    srv = Server(people, env={"BULLETIN_TOKENS_GRACE_DAYS": "0"})
    try:
        assert srv.request("GET", old)[0] == 400
    finally:
        assert srv.stop() == 0


def test_bad_options_and_secret(people):
    proc = people.run("serve", "--threads", "0")
    assert proc.returncode == EX_USAGE
    assert "--threads must be at least 1" in proc.stderr
    proc = people.run("serve", "--listen", "nonsense")
    assert proc.returncode == EX_UNAVAILABLE
    assert "bad listen address 'nonsense' (expected ADDR:PORT)" in proc.stderr
    proc = people.run("secret", "turn")
    assert proc.returncode == EX_USAGE
    assert "unknown secret command 'turn'" in proc.stderr
    people.secret.chmod(0o644)
    proc = people.run("serve", "--listen", "127.0.0.1:0")
    assert proc.returncode == EX_CONFIG
    assert "readable by you alone" in proc.stderr
