#!/usr/bin/python3
"""Benchmark: `bulletin sub import` and `sub export` against sqlite3's CLI.

Generates a 1,000,000-row CSV (email,name,city; some UTF-8 and quoted
names, shuffled) and its first 100,000 rows, and a 300,000-row two-column
email,name CSV in id order (as another tool exports its list: sqlite3's
B-trees only append, the hard case for the ratio), then for each file:

  - bulletin sub import   (full validation, events, one transaction;
                          best of 3 at 100,000 rows, as for sqlite3)
  - bulletin sub import   again (idempotent: every row unchanged)
  - bulletin sub export
  - sqlite3 CLI `.import --csv` of the same file into an equivalent table
    (email UNIQUE, same WAL and synchronous settings)

and prints rows/s, the ratio (the contract: at least 0.5) and the peak
resident memory of each bulletin run (from /usr/bin/time -v), which must
not grow with the file. Exits 1 if the ratio is below 0.5.
"""

import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "bulletin"
SIZES = (100_000, 1_000_000)
TWO_COLUMNS = 300_000
REPEAT = {100_000: 3, 1_000_000: 1, TWO_COLUMNS: 3}	# short runs: best of 3
TARGET = 0.5

CONFIG = """\
[newsletter]
name = Bench
from = Bench <bench@example.org>
list-id = bench.example.org
base-url = https://bench.example.org
postal-address = 1 Bench Street

[store]
path = subscribers/bulletin.db
"""

NAMES = ["Ada Lovelace", "Zoë Durand", "李小龍", "محمد علي", "Grace Hopper",
         "O'Brien, Pat", "José Ñúñez", "山田 太郎", "Émile \"Mile\" Roux"]
CITIES = ["Paris", "Brussels", "東京", "Québec", "New York", "Zürich"]


def csv_field(s):
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


def generate(folder):
    """Writes rows_1000000.csv and rows_100000.csv; returns their paths."""
    rng = random.Random(2026)
    ids = list(range(max(SIZES)))
    rng.shuffle(ids)
    paths = {n: folder / f"rows_{n}.csv" for n in SIZES}
    files = {n: open(p, "w", encoding="utf-8", newline="")
             for n, p in paths.items()}
    try:
        for f in files.values():
            f.write("email,name,city\r\n")
        for k, i in enumerate(ids):
            line = (f"user{i}.{i % 7919}@mail{i % 997}.example.org,"
                    f"{csv_field(NAMES[i % len(NAMES)] + f' {i}')},"
                    f"{CITIES[i % len(CITIES)]}\r\n")
            for n, f in files.items():
                if k < n:
                    f.write(line)
    finally:
        for f in files.values():
            f.close()
    return paths


def generate_two_columns(folder, n=TWO_COLUMNS):
    """Writes email,name rows in id order; returns the path."""
    path = folder / f"two_{n}.csv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("email,name\r\n")
        for i in range(n):
            f.write(f"person{i}@example.com,Person {i}\r\n")
    return path


def timed(argv, cwd, stdout=subprocess.DEVNULL):
    """Runs argv under /usr/bin/time -v: (seconds, peak RSS in KiB)."""
    start = time.perf_counter()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("BULLETIN_")}
    proc = subprocess.run(["/usr/bin/time", "-v", *argv], cwd=cwd, env=env,
                          stdout=stdout, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed:\n{proc.stderr}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    return elapsed, int(rss.group(1))


def project(folder):
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "config").mkdir(parents=True)
    (folder / "config" / "bulletin.conf").write_text(CONFIG)
    return folder


def bench_bulletin(csv_path, folder, n):
    best = None
    for _ in range(REPEAT[n]):
        proj = project(folder)
        imp = timed([BINARY, "sub", "import", csv_path], proj)
        best = imp if best is None or imp[0] < best[0] else best
    imp = best
    again = timed([BINARY, "sub", "import", csv_path], proj)
    with open(folder / "export.csv", "w") as out:
        exp = timed([BINARY, "sub", "export"], proj, stdout=out)
    with sqlite3.connect(proj / "subscribers" / "bulletin.db") as conn:
        got = conn.execute("SELECT count(*) FROM subscribers").fetchone()[0]
    if got != n:
        sys.exit(f"bulletin imported {got} rows, expected {n}")
    return imp, again, exp


def bench_sqlite(csv_path, folder, n):
    best = None
    for _ in range(REPEAT[n]):
        result = sqlite_once(csv_path, folder, n)
        best = result if best is None or result[0] < best[0] else best
    return best


def sqlite_once(csv_path, folder, n):
    db = folder / "cli.db"
    for p in folder.glob("cli.db*"):
        p.unlink()
    with open(csv_path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
    columns = ", ".join("email TEXT NOT NULL UNIQUE" if c == "email"
                        else f"{c} TEXT" for c in header)
    script = ["PRAGMA journal_mode = WAL;", "PRAGMA synchronous = NORMAL;",
              f"CREATE TABLE subscribers ({columns});",
              f".import --csv --skip 1 {csv_path} subscribers"]
    result = timed(["sqlite3", "-bail", db, *script], folder)
    with sqlite3.connect(db) as conn:
        got = conn.execute("SELECT count(*) FROM subscribers").fetchone()[0]
    if got != n:
        sys.exit(f"sqlite3 imported {got} rows, expected {n}")
    return result


def main():
    if not BINARY.exists():
        sys.exit("build ./bulletin first (make)")
    t0 = time.perf_counter()
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench_import.") as tmp:
        tmp = Path(tmp)
        paths = generate(tmp)
        cases = [(f"{n:,}", paths[n], n) for n in SIZES]
        cases.append((f"{TWO_COLUMNS:,} e,n", generate_two_columns(tmp),
                      TWO_COLUMNS))
        print(f"generated the files in {time.perf_counter() - t0:.1f} s")
        print(f"{'rows':>13}  {'import/s':>9}  {'sqlite3/s':>9}  {'ratio':>5}  "
              f"{'again/s':>9}  {'export/s':>9}  {'RSS import':>10}  "
              f"{'RSS export':>10}")
        for label, path, n in cases:
            (imp, imp_rss), (again, _), (exp, exp_rss) = bench_bulletin(
                path, tmp / "p", n)
            cli, _ = bench_sqlite(path, tmp, n)
            ratio = (n / imp) / (n / cli)
            ok &= ratio >= TARGET
            print(f"{label:>13}  {n / imp:>9,.0f}  {n / cli:>9,.0f}  "
                  f"{ratio:>5.2f}  {n / again:>9,.0f}  {n / exp:>9,.0f}  "
                  f"{imp_rss / 1024:>7.1f} MiB  {exp_rss / 1024:>7.1f} MiB")
    print(f"total {time.perf_counter() - t0:.0f} s; import rate vs sqlite3 "
          f".import: {'at least' if ok else 'BELOW'} {TARGET}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
