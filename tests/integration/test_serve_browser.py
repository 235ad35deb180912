"""The unsubscribe page in a real browser: headless Chromium, driven over
the DevTools protocol, as a phone (375 px wide) opens it, taps the
button and lands on the confirmation."""

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import time

import pytest

import tokens
from serving import Server

CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM,
                                reason="chromium is installed by make deps")


class DevTools:
    """Chromium with --remote-debugging-pipe: JSON messages ending in NUL
    on its fds 3 (to it) and 4 (from it)."""

    def __init__(self, profile):
        to_r, self.to_w = os.pipe()
        self.from_r, from_w = os.pipe()
        # above 4, so that making them 3 and 4 overwrites neither
        for fd in (to_r, from_w):
            high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
            os.close(fd)
            if fd == to_r:
                to_r = high
            else:
                from_w = high
        args = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync",
                f"--user-data-dir={profile}", "--remote-debugging-pipe",
                "about:blank"]
        # bash hands the pipe ends over as fds 3 and 4 (dash takes
        # one-digit fds only)
        self.proc = subprocess.Popen(
            ["bash", "-c", f'exec "$@" 3<&{to_r} 4>&{from_w}', "bash", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, pass_fds=(to_r, from_w))
        os.close(to_r)
        os.close(from_w)
        self.buf = b""
        self.next_id = 0
        self.events = []
        self.session = None

    def close(self):
        os.close(self.to_w)
        os.close(self.from_r)
        self.proc.kill()
        self.proc.wait()

    def _read(self, deadline):
        while b"\0" not in self.buf:
            assert time.monotonic() < deadline, "chromium did not answer"
            chunk = os.read(self.from_r, 65536)
            assert chunk, "chromium went away"
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        return json.loads(msg)

    def call(self, method, timeout=30, **params):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params}
        if self.session and not method.startswith("Target."):
            msg["sessionId"] = self.session
        os.write(self.to_w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._read(deadline)
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return reply["result"]
            self.events.append(reply)

    def wait_event(self, method, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            for i, ev in enumerate(self.events):
                if ev.get("method") == method:
                    return self.events.pop(i)
            self.events.append(self._read(deadline))

    def eval(self, expr):
        res = self.call("Runtime.evaluate", expression=expr,
                        returnByValue=True, awaitPromise=True)
        return res["result"].get("value")


MEASURE = """JSON.stringify({
  scroll: Math.max(document.documentElement.scrollWidth,
                   document.body.scrollWidth),
  viewport: window.innerWidth,
  heading: document.querySelector('h1').textContent,
  text: document.body.innerText,
  buttons: document.querySelectorAll('button').length,
  buttonWidth: document.querySelector('button') ?
    document.querySelector('button').getBoundingClientRect().width : 0
})"""


def test_phone_opens_the_page_taps_and_sees_the_confirmation(project,
                                                              tmp_path):
    # a long address: it must wrap, not widen the page
    email = "a.rather.long.address.for.a.phone.screen@subdomain.example.org"
    project.run("sub", "add", email, "--status", "active", check=True)
    db = sqlite3.connect(project.path / "subscribers" / "bulletin.db")
    sub_id = db.execute("SELECT id FROM subscribers").fetchone()[0]
    srv = Server(project)
    browser = DevTools(tmp_path / "profile")
    try:
        target = next(t for t in browser.call("Target.getTargets")
                      ["targetInfos"] if t["type"] == "page")
        browser.session = browser.call(
            "Target.attachToTarget", targetId=target["targetId"],
            flatten=True)["sessionId"]
        browser.call("Emulation.setDeviceMetricsOverride", width=375,
                     height=740, deviceScaleFactor=2, mobile=True)
        browser.call("Page.enable")
        browser.call("Page.navigate", url=f"http://127.0.0.1:{srv.port}/u/"
                     + tokens.make(sub_id, "2021-03"))
        browser.wait_event("Page.loadEventFired")
        before = json.loads(browser.eval(MEASURE))
        assert before["viewport"] == 375
        assert before["scroll"] <= 375, before
        assert before["heading"] == "退订这份邮件？"
        assert email in before["text"] and before["buttons"] == 1
        assert before["buttonWidth"] > 250	# a thumb-sized target
        status = db.execute("SELECT status FROM subscribers").fetchone()[0]
        assert status == "active"		# opening it changed nothing

        browser.eval("document.querySelector('button').click()")
        browser.wait_event("Page.loadEventFired")
        after = json.loads(browser.eval(MEASURE))
        assert after["heading"] == "已退订"
        assert email in after["text"] and "重新订阅" in after["text"]
        assert after["scroll"] <= 375, after
    finally:
        browser.close()
        assert srv.stop() == 0
    status = db.execute("SELECT status FROM subscribers").fetchone()[0]
    assert status == "unsubscribed"
    assert db.execute("SELECT type, method FROM events ORDER BY id").fetchall() \
        == [("subscribe", "command"), ("unsubscribe", "page")]
    db.close()
