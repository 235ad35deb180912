#!/usr/bin/python3
"""Benchmark: `bulletin serve` under load on loopback.

A project with ROUNDS x 20,000 active subscribers; the server; a C
client (build/obj/http_load, one epoll loop, keep-alive connections,
cheaper than the server) sends, in each round,

  - 20,000 GET /healthz            (the server's ceiling: no token, no store)
  - 20,000 one-click POSTs, each with its own subscriber's token (a new
    20,000 each round), as a mail provider sends them (urlencoded
    List-Unsubscribe=One-Click)

from CONNECTIONS concurrent connections, and prints requests per second
and p50/p99 latency of each. The rounds alternate the two so that the
load of a shared machine weighs on both alike; the best round of each is
compared. Then checks the store: every subscriber unsubscribed, with
exactly one one-click event each; and the log: one line per request
(the server writes them in lots). Exits 1 on any error, a missing or
doubled event or log line, or an unsubscribe rate below half the
healthz rate (the goal).
"""

import os
import re
import sqlite3
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "integration"))

import tokens  # noqa: E402
from conftest import CONFIG, SECRET  # noqa: E402

BINARY = ROOT / "bulletin"
CLIENT = ROOT / "build" / "obj" / "http_load"
PER_ROUND = 20_000
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
SUBSCRIBERS = PER_ROUND * ROUNDS
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
THREADS = os.environ.get("BENCH_THREADS", "2")


def project(folder: Path):
    (folder / "config").mkdir()
    (folder / "subscribers").mkdir()
    (folder / "config" / "bulletin.conf").write_text(
        CONFIG.format(templates=ROOT / "templates"))
    secret = folder / "config" / "secret"
    secret.write_text(SECRET)
    os.chmod(secret, 0o600)
    rows = "".join(f"reader{i}@example.org,Reader {i}\n"
                   for i in range(SUBSCRIBERS))
    (folder / "subs.csv").write_text("email,name\n" + rows)
    subprocess.run([BINARY, "sub", "import", "subs.csv", "--status",
                    "active"], cwd=folder, check=True,
                   capture_output=True)


def load(port, *args):
    proc = subprocess.run([CLIENT, str(port), str(CONNECTIONS), *args],
                          capture_output=True, text=True)
    m = re.search(r"requests (\d+) errors (\d+) reconnects (\d+) seconds "
                  r"([\d.]+) rps (\d+) p50_ms ([\d.]+) p99_ms ([\d.]+)",
                  proc.stdout)
    if not m:
        sys.exit(f"http_load failed: {proc.stdout}{proc.stderr}")
    keys = ("requests", "errors", "reconnects", "seconds", "rps", "p50",
            "p99")
    return dict(zip(keys, (float(x) for x in m.groups())))


def check_store(folder):
    db = sqlite3.connect(folder / "subscribers" / "bulletin.db")
    left = db.execute("SELECT count(*) FROM subscribers"
                      " WHERE status != 'unsubscribed'").fetchone()[0]
    per_sub = db.execute(
        "SELECT count(*), min(n), max(n) FROM (SELECT subscriber_id,"
        " count(*) AS n FROM events WHERE type = 'unsubscribe'"
        " AND method = 'one-click' GROUP BY subscriber_id)").fetchone()
    db.close()
    return left, per_sub


def main():
    if not CLIENT.exists():
        sys.exit("build the client first: make build/obj/http_load")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        project(folder)
        db = sqlite3.connect(folder / "subscribers" / "bulletin.db")
        ids = [r[0] for r in db.execute("SELECT id FROM subscribers")]
        db.close()
        for r in range(ROUNDS):
            (folder / f"paths{r}").write_text("".join(
                f"/u/{tokens.make(i, '2021-03')}\n"
                for i in ids[r * PER_ROUND:(r + 1) * PER_ROUND]))
        log = open(folder / "serve.log", "w")
        server = subprocess.Popen(
            [BINARY, "serve", "--listen", "127.0.0.1:0", "--threads",
             THREADS, "--per-ip", "0"], cwd=folder,
            stdout=subprocess.PIPE, stderr=log, text=True)
        port = int(re.search(r":(\d+)$", server.stdout.readline()).group(1))
        rounds = []
        try:
            for r in range(ROUNDS):
                rounds.append((load(port, "get", "/healthz", str(PER_ROUND)),
                               load(port, "post", str(folder / f"paths{r}"))))
        finally:
            server.terminate()
            server.wait()
            log.close()
        left, (subs, lo, hi) = check_store(folder)
        lines = sum(1 for line in
                    (folder / "serve.log").read_text().splitlines()
                    if not line.startswith("bulletin:"))

    print(f"bulletin serve, {THREADS} threads, {CONNECTIONS} client "
          f"connections, loopback, {os.cpu_count()} CPUs, {ROUNDS} rounds")
    for i, pair in enumerate(rounds):
        for name, r in zip(("GET /healthz", "one-click POST"), pair):
            print(f"  {i + 1} {name:15} {int(r['requests']):6d} requests  "
                  f"{r['rps']:7.0f} req/s  p50 {r['p50']:.2f} ms  "
                  f"p99 {r['p99']:.2f} ms  errors {int(r['errors'])}")
    health = max((h for h, _ in rounds), key=lambda r: r["rps"])
    unsub = max((u for _, u in rounds), key=lambda r: r["rps"])
    errors = sum(h["errors"] + u["errors"] for h, u in rounds)
    ratio = unsub["rps"] / health["rps"]
    print(f"  best: healthz {health['rps']:.0f} req/s (p50 {health['p50']:.2f}"
          f" ms, p99 {health['p99']:.2f} ms), unsubscribe {unsub['rps']:.0f}"
          f" req/s (p50 {unsub['p50']:.2f} ms, p99 {unsub['p99']:.2f} ms)")
    print(f"  unsubscribe rate / healthz rate: {ratio:.2f} (goal >= 0.5)")
    print(f"  store: {SUBSCRIBERS - left}/{SUBSCRIBERS} unsubscribed, "
          f"{subs} with one-click events, {lo}..{hi} each; "
          f"{lines} request log lines of {2 * SUBSCRIBERS}")
    ok = (errors == 0 and left == 0 and lines == 2 * SUBSCRIBERS
          and subs == SUBSCRIBERS and lo == hi == 1 and ratio >= 0.5)
    if not ok:
        print("FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
