"""Benchmark: composing the digest, bulletin against Python's email package.

Runs from the top folder (make bench). Reports
  - `bulletin preview` on the sample: the median of several runs;
  - 10,000 personalised messages: bulletin's per-message path (render_bench,
    linked with the same objects as ./bulletin) against Python's email
    package building equivalent messages, in the same run;
  - the peak memory (max RSS) of each.
Figures are ratios against the peer measured in the same run, because the
machine is shared and noisy.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
N = int(os.environ.get("BENCH_MESSAGES", "10000"))
PY = "/usr/bin/python3"


def run_measured(cmd, **kw):
    """Runs cmd to completion; returns (stdout, seconds, peak RSS in MiB)."""
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        if "cwd" in kw:
            os.chdir(kw["cwd"])
        fd = os.open(kw.get("stdout_path", os.devnull), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(fd, 1)
        os.execvp(cmd[0], cmd)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed: {' '.join(cmd)}")
    out = Path(kw["stdout_path"]).read_text() if "stdout_path" in kw else ""
    return out, seconds, usage.ru_maxrss / 1024


def parse(line):
    return dict(kv.split("=") for kv in line.split())


def main():
    subprocess.run(["make", "-s", "bulletin", "build/obj/render_bench"],
                   cwd=ROOT, check=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        # preview signs the sample's unsubscribe link: a secret of its own,
        # and no database (the sample recipient gets the token of id 0)
        secret = tmp / "secret"
        secret.write_text("ab" * 32)
        secret.chmod(0o600)
        os.environ["BULLETIN_TOKENS_SECRET_FILE"] = str(secret)
        os.environ["BULLETIN_STORE_PATH"] = str(tmp / "none.db")
        times = []
        for _ in range(7):
            _, seconds, preview_rss = run_measured(
                [str(ROOT / "bulletin"), "preview", "digests/2021-03", "-o",
                 str(tmp / "out")], cwd=ROOT)
            times.append(seconds)
        preview = statistics.median(times)

        out, _, c_rss = run_measured(
            [str(ROOT / "build/obj/render_bench"), "config/bulletin.conf",
             "digests/2021-03", str(N)], cwd=ROOT, stdout_path=str(tmp / "c.txt"))
        c = parse(out)
        out, _, py_rss = run_measured(
            [PY, str(ROOT / "tests/bench/render_python.py"), str(tmp / "out"),
             str(N)], cwd=ROOT, stdout_path=str(tmp / "py.txt"))
        py = parse(out)

    c_per = float(c["seconds"]) / N * 1e6
    py_per = float(py["seconds"]) / N * 1e6
    print(f"preview of the sample: median {preview * 1000:.1f} ms of 7 runs, "
          f"peak RSS {preview_rss:.1f} MiB")
    print(f"{N} personalised messages:")
    print(f"  bulletin      {float(c['seconds']):8.2f} s  {c_per:8.1f} us/message  "
          f"avg {int(c['bytes']) // N} bytes  peak RSS {c_rss:.1f} MiB")
    print(f"  python email  {float(py['seconds']):8.2f} s  {py_per:8.1f} us/message  "
          f"avg {int(py['bytes']) // N} bytes  peak RSS {py_rss:.1f} MiB")
    print(f"  bulletin is {py_per / c_per:.1f}x faster per message, "
          f"peak memory {c_rss / py_rss:.2f}x of Python's")


if __name__ == "__main__":
    main()
