"""`bulletin serve` run for a test: started on a free loopback port,
stopped with SIGTERM, its log kept."""

import http.client
import os
import re
import signal
import subprocess

from conftest import BINARY


class Server:
    def __init__(self, project, *args, env=None):
        full_env = dict(os.environ)
        full_env.pop("BULLETIN_CONFIG", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            [str(BINARY), "serve", "--listen", "127.0.0.1:0", *args],
            cwd=project.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            env=full_env, text=True)
        line = self.proc.stdout.readline()
        m = re.fullmatch(r"listening on 127\.0\.0\.1:(\d+)\n", line)
        if not m:
            self.proc.kill()
            raise AssertionError(f"serve did not start: {line!r} "
                                 f"{self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.log = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers dict, body text) of one request."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return (resp.status, {k.lower(): v for k, v in resp.getheaders()},
                    resp.read().decode())
        finally:
            conn.close()

    def stop(self):
        """SIGTERM; returns the exit status; the log is in self.log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log = self.proc.stderr.read()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode
