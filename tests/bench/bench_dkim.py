"""Benchmark: DKIM signing through libopendkim, inline and spread over
threads by signpool, against OpenSSL's own RSA-2048 signing speed measured
in the same run.

Runs from the top folder (make bench). Signs the sample issue's message
(about 150 KB) with an RSA-2048 key and with an Ed25519 key made by
'bulletin dkim keygen', and a 100-byte message (the per-signature cost
without the body). Prints signatures per second for each mode, the speed-up
of 2 threads over 1, and the cost of a libopendkim signature against a bare
RSA-2048 signature (`openssl speed rsa2048`). The machine is shared: the
load average is printed with the figures, and "cores busy" (CPU time over
wall-clock time) says how much of the machine the benchmark got: threads
only raise the rate when it gets more than one core.
"""

import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BULLETIN = ROOT / "bulletin"
BENCH = ROOT / "build" / "obj" / "dkim_bench"
SECONDS = os.environ.get("BENCH_SECONDS", "3")

CONFIG = """\
[newsletter]
name = Bench
from = Bench <news@news.example.org>
list-id = bench.news.example.org
base-url = https://news.example.org
postal-address = 1 Street
sample-to = Reader <reader@example.org>
[templates]
dir = {templates}
"""
SECTION = "[dkim]\ndomain = news.example.org\nselector = {sel}\nkey-file = {key}\n"


def run(*cmd, cwd=None):
    return subprocess.run([str(c) for c in cmd], cwd=cwd, check=True,
                          capture_output=True, text=True).stdout


def bench(conf, message, *modes):
    out = run(BENCH, conf, message, SECONDS, *modes)
    return [dict(kv.split("=") for kv in line.split())
            for line in out.splitlines()]


def openssl_rsa2048(*flags):
    """Signatures/s; by CPU time, or by wall-clock with -elapsed."""
    out = run("openssl", "speed", "-seconds", SECONDS, *flags, "rsa2048")
    m = re.search(r"^rsa 2048 bits\s+\S+s\s+\S+s\s+([\d.]+)", out, re.M)
    return float(m.group(1))


def project(tmp):
    (tmp / "config").mkdir()
    base = CONFIG.format(templates=ROOT / "templates")
    (tmp / "config" / "bulletin.conf").write_text(base)
    (tmp / "config" / "secret").write_text("ab" * 32)
    (tmp / "config" / "secret").chmod(0o600)
    run(BULLETIN, "preview", ROOT / "digests" / "2021-03", "-o", tmp / "out",
        cwd=tmp)
    confs = {}
    for kind, args in (("rsa", []), ("ed25519", ["-t", "ed25519"])):
        key = tmp / f"{kind}.pem"
        run(BULLETIN, "dkim", "keygen", "-s", kind, "-o", key, *args, cwd=tmp)
        confs[kind] = tmp / f"{kind}.conf"
        confs[kind].write_text(base + SECTION.format(sel=kind, key=key))
    small = tmp / "small.eml"
    small.write_bytes(b"From: news@news.example.org\r\nTo: r@example.org\r\n"
                      b"Subject: hello\r\n\r\nHello.\r\n")
    return confs, tmp / "out" / "2021-03.eml", small


def main():
    subprocess.run(["make", "-s", "bulletin", "build/obj/dkim_bench"],
                   cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        confs, eml, small = project(Path(tmp))
        load = os.getloadavg()[0]
        raw_wall = openssl_rsa2048("-elapsed")
        raw_cpu = openssl_rsa2048()
        rsa = bench(confs["rsa"], eml, "inline", "pool:1", "pool:2")
        ed = bench(confs["ed25519"], eml, "inline", "pool:2")
        tiny = bench(confs["rsa"], small, "inline")
        load = max(load, os.getloadavg()[0])
        size = eml.stat().st_size
    print(f"DKIM signing: {os.cpu_count()} cores, load average up to "
          f"{load:.1f}, {SECONDS} s per figure, the sample issue's "
          f"{size // 1024} KB message")
    print(f"  openssl speed rsa2048 (bare RSA-2048): {raw_wall:7.0f} sign/s "
          f"wall-clock, {1000 / raw_cpu:.3f} ms CPU each")
    rows = [("rsa-sha256", r) for r in rsa] + [("ed25519-sha256", r)
                                                for r in ed]
    rows.append(("rsa-sha256, 100-byte message", tiny[0]))
    for name, r in rows:
        cores = float(r["cpu_ms"]) * float(r["per_second"]) / 1000
        print(f"  {name} {r['mode']} x{r['threads']}: "
              f"{float(r['per_second']):7.1f} messages/s wall-clock, "
              f"{float(r['cpu_ms']):.3f} ms CPU each, {cores:.2f} cores busy")
    one, two = float(rsa[1]["per_second"]), float(rsa[2]["per_second"])
    print(f"  rsa-sha256 through the pool, 2 threads / 1 thread: "
          f"{two / one:.2f}x (at most {os.cpu_count()}x, less on a busy "
          f"machine)")
    print(f"  a libopendkim rsa-sha256 signature costs "
          f"{float(tiny[0]['cpu_ms']) * raw_cpu / 1000:.1f}x the CPU of a "
          f"bare RSA-2048 signature: it parses the PEM key and sets up RSA "
          f"blinding for every message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
