"""bulletin sub: the subscriber list, driven as a user would drive it."""

import array
import csv
import fcntl
import hashlib
import io
import json
import os
import platform
import re
import signal
import stat
import sqlite3
import subprocess
import termios
import time
import unicodedata

import pytest

from conftest import BINARY, on_a_terminal

EX_USAGE, EX_DATAERR, EX_NOINPUT = 64, 65, 66

SUBCOMMANDS = ["add", "rm", "show", "list", "import", "export",
               "unsubscribe", "resubscribe", "stats"]

# Names that have broken programs before: SQL, quotes, commas, emoji,
# right-to-left text, CJK, combining accents.
HARD_NAMES = [
    "'); DROP TABLE subscribers;--",
    'Ada "Countess" Lovelace',
    "Lovelace, Ada",
    "Zoë 🦊 Fox",
    "محمد علي",
    "李小龍",
    "Rene\u0301 Back\\slash",
]


def db(project):
    return sqlite3.connect(project.path / "subscribers" / "bulletin.db")


def count(project, where="1"):
    with db(project) as conn:
        return conn.execute(
            f"SELECT count(*) FROM subscribers WHERE {where}").fetchone()[0]


def status(project, email):
    with db(project) as conn:
        row = conn.execute("SELECT status FROM subscribers WHERE email = ?",
                           (email,)).fetchone()
    return row[0] if row else None


def events(project, email):
    with db(project) as conn:
        return conn.execute(
            "SELECT e.type, e.method, e.detail FROM events e"
            " JOIN subscribers s ON s.id = e.subscriber_id"
            " WHERE s.email = ? ORDER BY e.id", (email,)).fetchall()


def write(project, name, text, encoding="utf-8"):
    path = project.path / name
    data = text if isinstance(text, bytes) else text.encode(encoding)
    path.write_bytes(data)
    return path


def summary(added=0, updated=0, unchanged=0, suppressed=0, rejected=0):
    return (f"added {added}, updated {updated}, unchanged {unchanged}, "
            f"suppressed {suppressed}, rejected {rejected}")


def width(s):
    """Terminal columns: what the table aligns by."""
    w = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        w += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return w


def rows_csv(n, start=0):
    out = io.StringIO()
    out.write("email,name,city\r\n")
    for i in range(start, start + n):
        out.write(f"user{i}@example{i % 97}.org,Reader {i},Paris\r\n")
    return out.getvalue()


# ---- help and usage ---------------------------------------------------------

def test_sub_help_lists_commands(project):
    proc = project.run("sub", "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: bulletin sub COMMAND")
    for name in SUBCOMMANDS:
        assert f"  {name} " in proc.stdout
    assert "bounced" in proc.stdout


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_every_subcommand_has_help(project, name):
    proc = project.run("sub", name, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith(f"usage: bulletin sub {name}")
    assert proc.stderr == ""


def test_help_needs_no_database(project):
    project.config.unlink()
    assert project.run("sub", "list", "--help").returncode == 0
    assert not (project.path / "subscribers" / "bulletin.db").exists()


def test_help_texts_state_the_rules(project):
    rm = project.run("sub", "rm", "--help").stdout
    assert "SHA-256" in rm and "suppression list" in rm
    assert "never imported or added again" in rm
    for name in ("add", "import"):
        assert "bounced" in project.run("sub", name, "--help").stdout
    imp = project.run("sub", "import", "--help").stdout
    assert "--atomic" in imp and "65" in imp


@pytest.mark.parametrize("args", [
    ["sub"],
    ["sub", "frobnicate"],
    ["sub", "add"],
    ["sub", "add", "a@example.org", "b@example.org"],
    ["sub", "add", "a@example.org", "--bogus"],
    ["sub", "add", "a@example.org", "--status", "bounced"],
    ["sub", "add", "a@example.org", "--reason", "x"],
    ["sub", "list", "--format", "xml"],
    ["sub", "list", "--limit", "0"],
    ["sub", "list", "--limit", "ten"],
    ["sub", "list", "--status", "happy"],
    ["sub", "import", "x.csv", "--status", "happy"],
    ["sub", "resubscribe", "a@example.org"],
    ["sub", "stats", "extra"],
])
def test_bad_usage_exits_64(project, args):
    proc = project.run(*args)
    assert proc.returncode == EX_USAGE, proc.stderr
    assert proc.stderr


# ---- add and show -----------------------------------------------------------

def test_add_then_show(project):
    proc = project.run("sub", "add", "Ada@Example.ORG", "--name", "Ada Lovelace",
                       check=True)
    assert "added Ada@example.org (active)" in proc.stdout
    show = project.run("sub", "show", "Ada@EXAMPLE.org", check=True).stdout
    assert "email:    Ada@example.org" in show
    assert "name:     Ada Lovelace" in show
    assert "status:   active" in show
    assert "created:  20" in show and "updated:  20" in show
    assert "subscribe" in show.split("history:")[1]


def test_add_pending_then_active_confirms(project):
    project.run("sub", "add", "p@example.org", "--status", "pending", check=True)
    assert status(project, "p@example.org") == "pending"
    proc = project.run("sub", "add", "p@example.org", check=True)
    assert "updated" in proc.stdout
    assert status(project, "p@example.org") == "active"
    assert [e[0] for e in events(project, "p@example.org")] == [
        "subscribe", "confirm"]


def test_add_twice_is_unchanged(project):
    project.run("sub", "add", "a@example.org", check=True)
    proc = project.run("sub", "add", "a@example.org", check=True)
    assert "already subscribed" in proc.stdout
    assert len(events(project, "a@example.org")) == 1


def test_add_invalid_address_or_name(project):
    proc = project.run("sub", "add", "not-an-address")
    assert proc.returncode == EX_DATAERR
    assert "invalid address 'not-an-address'" in proc.stderr
    proc = project.run("sub", "add", "a@example.org", "--name", "A\nB")
    assert proc.returncode == EX_DATAERR
    assert count(project) == 0


def test_hard_names_are_stored_and_shown_verbatim(project):
    for i, name in enumerate(HARD_NAMES):
        project.run("sub", "add", f"n{i}@example.org", "--name", name,
                    check=True)
    with db(project) as conn:
        stored = [r[0] for r in conn.execute(
            "SELECT name FROM subscribers ORDER BY id")]
    assert stored == HARD_NAMES
    for i, name in enumerate(HARD_NAMES):
        show = project.run("sub", "show", f"n{i}@example.org", check=True)
        assert f"name:     {name}\n" in show.stdout
    listed = json.loads(project.run("sub", "list", "--format", "json",
                                    check=True).stdout)
    assert [r["name"] for r in listed] == HARD_NAMES


def test_show_unknown_exits_66(project):
    project.run("sub", "add", "somebody@example.org", check=True)
    proc = project.run("sub", "show", "nobody@example.org")
    assert proc.returncode == EX_NOINPUT
    assert "no subscriber 'nobody@example.org'" in proc.stderr


# ---- unsubscribe, resubscribe: the suppression rule --------------------------

def test_unsubscribe_records_reason(project):
    project.run("sub", "add", "u@example.org", check=True)
    proc = project.run("sub", "unsubscribe", "u@example.org", "--reason",
                       "moved abroad", check=True)
    assert "unsubscribed u@example.org" in proc.stdout
    assert status(project, "u@example.org") == "unsubscribed"
    assert events(project, "u@example.org")[-1] == (
        "unsubscribe", "command", "moved abroad")
    again = project.run("sub", "unsubscribe", "u@example.org", check=True)
    assert "already unsubscribed" in again.stdout
    assert "moved abroad" in project.run("sub", "show", "u@example.org").stdout


def test_unsubscribe_unknown_exits_66(project):
    assert project.run("sub", "unsubscribe",
                       "x@example.org").returncode == EX_NOINPUT


@pytest.mark.parametrize("state", ["unsubscribed", "complained", "bounced"])
def test_suppressed_not_resurrected_by_add_or_import(project, state):
    project.run("sub", "add", "s@example.org", "--name", "Old", check=True)
    with db(project) as conn:
        conn.execute("UPDATE subscribers SET status = ? WHERE email = ?",
                     (state, "s@example.org"))
    proc = project.run("sub", "add", "s@example.org", "--name", "New")
    assert proc.returncode == EX_DATAERR
    assert f"is {state}: not added" in proc.stderr
    path = write(project, "s.csv", "email,name\ns@example.org,New\n")
    proc = project.run("sub", "import", path, check=True)
    assert summary(suppressed=1) in proc.stdout
    assert status(project, "s@example.org") == state
    with db(project) as conn:
        assert conn.execute("SELECT name FROM subscribers").fetchone()[0] == "Old"


def test_resubscribe_needs_and_records_reason(project):
    project.run("sub", "add", "r@example.org", check=True)
    project.run("sub", "unsubscribe", "r@example.org", check=True)
    proc = project.run("sub", "resubscribe", "r@example.org")
    assert proc.returncode == EX_USAGE and "--reason" in proc.stderr
    proc = project.run("sub", "resubscribe", "r@example.org", "--reason",
                       "wrote to ask back in", check=True)
    assert "resubscribed r@example.org" in proc.stdout
    assert status(project, "r@example.org") == "active"
    assert events(project, "r@example.org")[-1] == (
        "resubscribe", "command", "wrote to ask back in")
    again = project.run("sub", "resubscribe", "r@example.org", "--reason", "x",
                        check=True)
    assert "already active" in again.stdout


# ---- rm: right to be forgotten ---------------------------------------------

def test_rm_erases_data_and_keeps_hash(project):
    project.run("sub", "add", "Gone@Example.org", "--name", "Gone Person",
                check=True)
    project.run("sub", "unsubscribe", "Gone@example.org", "--reason",
                "private reason", check=True)
    with db(project) as conn:
        sid = conn.execute("SELECT id FROM subscribers").fetchone()[0]
        conn.execute("INSERT INTO campaigns (id, subject, content_hash, created)"
                     " VALUES ('2026-11', 's', 'h', 'now')")
        conn.execute("INSERT INTO deliveries (campaign_id, subscriber_id,"
                     " updated) VALUES ('2026-11', ?, 'now')", (sid,))
    proc = project.run("sub", "rm", "Gone@EXAMPLE.ORG", check=True)
    assert "erased Gone@example.org" in proc.stdout
    # the hash of the canonical identity: every form of the address
    digest = hashlib.sha256(b"gone@example.org").hexdigest()
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM events WHERE subscriber_id"
                            " IS NOT NULL").fetchone()[0] == 0
        assert conn.execute("SELECT hash FROM suppressions").fetchall() == [
            (digest,)]
    # no trace of the address, the name or the reason anywhere in the file
    project.run("sub", "stats", check=True)  # checkpoints nothing, reads
    with db(project) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
    raw = (project.path / "subscribers" / "bulletin.db").read_bytes()
    for secret in (b"Gone@example.org", b"gone@example.org", b"Gone Person",
                   b"private reason"):
        assert secret not in raw

    proc = project.run("sub", "add", "Gone@example.org")
    assert proc.returncode == EX_DATAERR and "erased" in proc.stderr
    path = write(project, "g.csv", "email\nGone@example.org\n")
    assert summary(suppressed=1) in project.run("sub", "import", path,
                                                check=True).stdout
    proc = project.run("sub", "show", "Gone@example.org")
    assert proc.returncode == EX_NOINPUT and "erased" in proc.stderr
    assert "already erased" in project.run("sub", "rm", "Gone@example.org",
                                           check=True).stdout
    # the person's own request, with a reason, lifts it
    project.run("sub", "resubscribe", "Gone@example.org", "--reason",
                "asked to come back", check=True)
    assert status(project, "Gone@example.org") == "active"


def test_rm_unknown_exits_66(project):
    assert project.run("sub", "rm", "x@example.org").returncode == EX_NOINPUT


# ---- list ------------------------------------------------------------------

def add_people(project):
    people = [("ada@example.org", "Ada Lovelace"), ("li@example.org", "李小龍"),
              ("zo@example.org", "Zoë"), ("yamada@example.org", "山田 太郎さん"),
              ("nn@example.org", None)]
    for email, name in people:
        args = ["sub", "add", email] + (["--name", name] if name else [])
        project.run(*args, check=True)
    return people


def test_list_table_aligned_by_display_width(project):
    add_people(project)
    lines = project.run("sub", "list", check=True).stdout.splitlines()
    assert lines[0].split() == ["email", "name", "status", "created", "updated"]
    assert len(lines) == 6
    # every column starts at the same terminal column on every line
    for word in ("active", "20"):
        starts = set()
        for line in lines[1:]:
            starts.add(width(line[:line.index(word)]))
        assert len(starts) == 1, lines
    header_status = width(lines[0][:lines[0].index("status")])
    assert starts and header_status == width(
        lines[1][:lines[1].index("active")])


def test_list_json_parses(project):
    add_people(project)
    project.run("sub", "add", "q@example.org", "--name", 'Quote " \\ back',
                check=True)
    data = json.loads(project.run("sub", "list", "--format", "json",
                                  check=True).stdout)
    assert [r["email"] for r in data][:2] == ["ada@example.org",
                                               "li@example.org"]
    assert data[1]["name"] == "李小龍"
    assert data[4]["name"] is None
    assert data[5]["name"] == 'Quote " \\ back'
    assert set(data[0]) == {"email", "name", "status", "created", "updated",
                            "attrs"}
    empty = project.run("sub", "list", "--status", "bounced", "--format",
                        "json", check=True)
    assert json.loads(empty.stdout) == []


def test_list_csv_status_and_limit(project):
    add_people(project)
    project.run("sub", "unsubscribe", "zo@example.org", check=True)
    out = project.run("sub", "list", "--format", "csv", check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0] == ["email", "name", "status", "created", "updated"]
    assert len(rows) == 6
    out = project.run("sub", "list", "--format", "csv", "--status",
                      "unsubscribed", check=True).stdout
    assert [r[0] for r in csv.reader(io.StringIO(out))][1:] == ["zo@example.org"]
    out = project.run("sub", "list", "--limit", "2", "--format", "csv",
                      check=True).stdout
    assert len(list(csv.reader(io.StringIO(out)))) == 3


# ---- import ------------------------------------------------------------------

GOOD = ("\ufeffEmail,Name,City\r\n"
        "ada@example.org,Ada Lovelace,London\r\n"
        '"bob@Example.ORG","Smith, Bob ""Bobby""",Paris\r\n'
        "li@example.org,李小龍,香港\r\n")


def test_import_adds_with_attributes(project):
    path = write(project, "good.csv", GOOD)
    proc = project.run("sub", "import", path, check=True)
    assert proc.stdout.startswith("lines 4: " + summary(added=3))
    with db(project) as conn:
        rows = conn.execute("SELECT email, name, status, attrs FROM subscribers"
                            " ORDER BY id").fetchall()
    assert rows[1] == ("bob@example.org", 'Smith, Bob "Bobby"', "active",
                       '{"City":"Paris"}')
    assert json.loads(rows[2][3]) == {"City": "香港"}
    assert events(project, "ada@example.org") == [
        ("subscribe", "import", "good.csv")]


def test_import_is_idempotent(project):
    path = write(project, "good.csv", GOOD)
    project.run("sub", "import", path, check=True)
    with db(project) as conn:
        before = conn.execute("SELECT * FROM subscribers").fetchall()
        nevents = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    proc = project.run("sub", "import", path, check=True)
    assert proc.stdout.startswith("lines 4: " + summary(unchanged=3))
    with db(project) as conn:
        assert conn.execute("SELECT * FROM subscribers").fetchall() == before
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == nevents


def test_import_updates_changed_rows(project):
    project.run("sub", "import", write(project, "a.csv", GOOD), check=True)
    changed = GOOD.replace("Ada Lovelace", "Augusta Ada King")
    changed = changed.replace("香港", "")  # an empty field changes nothing
    proc = project.run("sub", "import", write(project, "b.csv", changed),
                       check=True)
    assert proc.stdout.startswith("lines 4: " + summary(updated=1, unchanged=2))
    with db(project) as conn:
        assert conn.execute("SELECT attrs FROM subscribers WHERE email ="
                            " 'li@example.org'").fetchone()[0] == \
            '{"City":"香港"}'


def test_import_status_column_and_option(project):
    text = ("email,status\n"
            "a@example.org,\n"
            "b@example.org,active\n"
            "c@example.org,unsubscribed\n"
            "d@example.org,sleeping\n")
    proc = project.run("sub", "import", write(project, "s.csv", text),
                       "--status", "pending")
    assert proc.returncode == EX_DATAERR
    assert "s.csv:5: unknown status 'sleeping'" in proc.stderr
    assert status(project, "a@example.org") == "pending"
    assert status(project, "b@example.org") == "active"
    assert status(project, "c@example.org") == "unsubscribed"
    assert events(project, "c@example.org")[0][0] == "unsubscribe"


def test_import_malformed_lines_reported_with_line_numbers(project):
    data = (b"email,name,city\n"
            b"ok1@example.org,One,Paris\n"                 # 2
            b"short@example.org,Two\n"                     # 3
            b'multi@example.org,"Line\nbreak",Paris\n'     # 4-5: name with LF
            b"bad-address,Four,Paris\n"                    # 6
            b"utf8@example.org,\xff\xfe,Paris\n"           # 7
            b"ok2@example.org,Seven,Paris\n"               # 8
            b'quote@example.org,Eight "x",Paris\n'         # 9
            b"ok3@example.org,Nine,Paris\n"                # 10
            b'open@example.org,"never closed,Paris\n'      # 11
            b"kept@example.org,Kept,Paris\n")              # 12
    path = write(project, "bad.csv", data)
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    errors = proc.stderr.splitlines()
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == [3, 4, 5, 6, 7, 9, 11], proc.stderr
    assert all(e.startswith(f"{path}:") for e in errors)
    assert "expected 3 fields, found 2" in errors[0]
    # a line break in a name: a stray quote, most likely; line 5 is
    # read again, as a record of its own
    assert ("line break in the name field (the quote opened on line 4 may"
            " be stray: lines 5-5 are read again)") in errors[1]
    assert "quote inside an unquoted field" in errors[2]
    assert "invalid address 'bad-address'" in errors[3]
    assert "UTF-8" in errors[4]
    # the quote left open on line 11 does not swallow line 12
    assert ("quoted field not closed at the end of the file on line 12"
            " (the quote opened on line 11 may be stray: lines 12-12 are"
            " read again)") in errors[6]
    assert ("lines 12: " + summary(added=4, rejected=7)
            + " (first: line 3-3: expected 3 fields, found 2)\n"
            == proc.stdout)
    assert count(project) == 4
    assert status(project, "kept@example.org") == "active"


def test_import_atomic_imports_nothing_on_error(project):
    text = "email\nok@example.org\nnot an address\nok2@example.org\n"
    path = write(project, "a.csv", text)
    proc = project.run("sub", "import", path, "--atomic")
    assert proc.returncode == EX_DATAERR
    assert f"{path}:3: invalid address" in proc.stderr
    assert summary(added=2, rejected=1) in proc.stdout
    assert "nothing was imported" in proc.stdout
    assert count(project) == 0
    proc = project.run("sub", "import", write(project, "b.csv", GOOD),
                       "--atomic", check=True)
    assert count(project) == 3


def test_import_dry_run_changes_nothing(project):
    project.run("sub", "add", "ada@example.org", "--name", "Old", check=True)
    path = write(project, "good.csv", GOOD)
    with db(project) as conn:
        before = conn.execute("SELECT * FROM subscribers").fetchall()
    proc = project.run("sub", "import", path, "--dry-run", check=True)
    assert summary(added=2, updated=1) in proc.stdout
    assert "dry run" in proc.stdout
    with db(project) as conn:
        assert conn.execute("SELECT * FROM subscribers").fetchall() == before
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 1


def test_import_from_stdin(project):
    proc = project.run("sub", "import", "-", input=GOOD, check=True)
    assert summary(added=3) in proc.stdout
    bad = project.run("sub", "import", "-", input="email\nnope\n")
    assert "stdin:2: invalid address" in bad.stderr


def test_import_progress_bar_on_a_terminal_and_none_elsewhere(project):
    """On a terminal the import draws lines read of the file's lines, the
    rate and the ETA, and gets out of the way of each rejected record's
    report; off a terminal stderr holds only those reports."""
    rows = [f"reader{i}@example.org,Reader {i}" for i in range(30_000)]
    rows[4_999] = "not an address,Nobody"         # line 5001
    rows[19_999] = "also not one,Nobody"          # line 20001
    path = write(project, "big.csv", "email,name\n" + "\n".join(rows))
    status, text = on_a_terminal(project.path, ["sub", "import", path],
                                 stdout=project.path / "out.txt")
    assert status == EX_DATAERR, text
    assert re.search(r"\r\x1b\[K\[#{30}\] 30001/30001 [\d.]+/s ETA 0:00 "
                     r"lines\r?\n", text), text
    for line in (5001, 20001):   # each at the start of a line of its own
        assert re.search(rf"(^|\n|\x1b\[K){re.escape(str(path))}:{line}: "
                         r"invalid address '[a-z ]+'[^\r\n]*\r?\n", text), text
    assert (project.path / "out.txt").read_text().startswith(
        "lines 30001: " + summary(added=29_998, rejected=2))
    assert count(project) == 29_998

    again = project.run("sub", "import", path)
    assert again.returncode == EX_DATAERR
    assert "\x1b" not in again.stderr
    reports = again.stderr.splitlines()
    assert len(reports) == 2
    assert reports[0].startswith(f"{path}:5001: invalid address 'not an")
    assert reports[1].startswith(f"{path}:20001: invalid address 'also")


def test_import_missing_file_and_bad_header(project):
    proc = project.run("sub", "import", "missing.csv")
    assert proc.returncode == EX_NOINPUT
    proc = project.run("sub", "import", write(project, "h.csv", "name,city\n"))
    assert proc.returncode == EX_DATAERR and "no 'email' column" in proc.stderr
    proc = project.run("sub", "import", write(project, "e.csv", ""))
    assert proc.returncode == EX_DATAERR and "empty file" in proc.stderr
    proc = project.run("sub", "import",
                       write(project, "d.csv", "email,city,city\n"))
    assert proc.returncode == EX_DATAERR and "repeats" in proc.stderr


# ---- hostile input: every line accounted for ---------------------------------

def stray_quote_csv(n, stray, quoted_at=None):
    """email,name rows 2..n+1; a stray quote opens line stray's name,
    and line quoted_at (if any) has a properly quoted name."""
    rows = ["email,name"]
    for i in range(2, n + 2):
        name = f"Name {i}"
        if i == stray:
            name = '"' + name
        elif i == quoted_at:
            name = f'"Name, {i}"'
        rows.append(f"u{i}@example.org,{name}")
    return "\n".join(rows) + "\n"


def test_import_stray_quote_loses_only_its_line(project):
    path = write(project, "stray.csv", stray_quote_csv(5000, 37))
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    why = ("record spans more than 100 lines on line 137 (the quote opened"
           " on line 37 may be stray: lines 38-137 are read again)")
    assert proc.stderr == f"{path}:37: {why}\n"
    assert proc.stdout == ("lines 5001: " + summary(added=4999, rejected=1)
                           + f" (line 37-37: {why})\n")
    assert count(project) == 4999
    assert status(project, "u37@example.org") is None
    assert status(project, "u38@example.org") == "active"
    assert status(project, "u5001@example.org") == "active"


def test_import_stray_quote_closed_by_a_later_quote(project):
    path = write(project, "s.csv", stray_quote_csv(200, 37, quoted_at=50))
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    assert proc.stderr == (
        f"{path}:37: text after a closing quote on line 50 (the quote opened"
        " on line 37 may be stray: lines 38-50 are read again)\n")
    assert proc.stdout.startswith("lines 201: " + summary(added=199,
                                                           rejected=1))
    with db(project) as conn:
        assert conn.execute("SELECT name FROM subscribers WHERE email ="
                            " 'u50@example.org'").fetchone() == ("Name, 50",)


def test_import_stray_quote_that_closes_cleanly(project):
    # the stray quote of line 2 closes at the end of line 3: one record
    # of the right width, but a line break in the name gives it away
    text = ("email,name\n"
            'a@example.org,"Ann\n'
            'b@example.org,Bob"\n'
            "c@example.org,Cid\n")
    path = write(project, "c.csv", text)
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    assert proc.stderr.splitlines() == [
        f"{path}:2: line break in the name field (the quote opened on line 2"
        " may be stray: lines 3-3 are read again)",
        f"{path}:3: quote inside an unquoted field"]
    assert proc.stdout.startswith("lines 4: " + summary(added=1, rejected=2)
                                  + " (first: line 2-2: line break")
    assert count(project) == 1


def test_import_nul_in_a_multi_line_field_rejects_that_record(project):
    data = (b"email,name,notes\n"
            b'a@example.org,Ann,"call back\n'
            b"about \0 the\n"
            b'x@example.org,Mallory,"\n'           # notes text, not a row
            b"d@example.org,Dan,\n"
            b"e@example.org,E\0ve,\n")
    path = write(project, "n.csv", data)
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    assert proc.stderr.splitlines() == [f"{path}:2-4: NUL byte on line 3",
                                        f"{path}:6: NUL byte"]
    assert proc.stdout.startswith("lines 6: " + summary(added=1, rejected=2)
                                  + " (first: line 2-4: NUL byte on line 3)")
    with db(project) as conn:
        assert conn.execute("SELECT email, name FROM subscribers").fetchall() \
            == [("d@example.org", "Dan")]


@pytest.mark.parametrize("header, shown", [
    ('email,"two\nlines"', "two?lines"),
    ("email,tab\there", "tab?here"),
    ("email,bell\x07", "bell?"),
    ("email,del\x7f", "del?"),
])
def test_import_refuses_control_characters_in_column_names(project, header,
                                                           shown):
    path = write(project, "h.csv", header + "\nok@example.org,x\n")
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    assert (f"{path}:1: column 2's name '{shown}': control characters and"
            " line breaks are not allowed") in proc.stderr
    assert proc.stdout == ""
    assert count(project) == 0


# ---- export ----------------------------------------------------------------

def test_export_import_round_trip(project, tmp_path):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["email", "name", "note", "city"])
    for i, name in enumerate(HARD_NAMES):
        w.writerow([f"h{i}@example.org", name, f"line one\nline \"two\", {i}",
                    "Zürich" if i % 2 else ""])
    w.writerow(["plain@example.org", "", "", ""])
    project.run("sub", "import", "-", input=out.getvalue(), check=True)
    project.run("sub", "unsubscribe", "h1@example.org", check=True)
    first = project.run("sub", "export", check=True).stdout
    rows = list(csv.reader(io.StringIO(first)))
    assert rows[0] == ["email", "name", "status", "created", "city", "note"]
    assert [r[1] for r in rows[1:len(HARD_NAMES) + 1]] == HARD_NAMES
    assert rows[2][2] == "unsubscribed"
    assert rows[1][5] == 'line one\nline "two", 0'

    (tmp_path / "other").mkdir()
    other = type(project)(tmp_path / "other")  # a second, empty project
    proc = other.run("sub", "import", "-", input=first, check=True)
    assert summary(added=len(HARD_NAMES) + 1) in proc.stdout
    assert status(other, "h1@example.org") == "unsubscribed"
    second = other.run("sub", "export", check=True).stdout
    assert second == first
    # and back into the first project: nothing to do
    proc = project.run("sub", "import", "-", input=second, check=True)
    assert summary(unchanged=len(HARD_NAMES) + 1) in proc.stdout


# Column names that JSON paths get wrong: escapes, path syntax, quotes.
ODD_COLUMNS = ["back\\slash", 'say "hi"', "a.b", "$x", "arr[0]", "'single'",
               "a,b", "{}", "ünï 中", "x\\\"y", "\\u0041", "*"]


def test_export_round_trip_odd_column_names(project, tmp_path):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["email", *ODD_COLUMNS])
    rows = []
    for i in range(3):
        values = [f"{c}={i}\\n" if i != 1 else f"line\n{c}, \"{i}\""
                  for c in ODD_COLUMNS]
        rows.append([f"p{i}@example.org", *values])
        w.writerow(rows[-1])
    proc = project.run("sub", "import", "-", input=out.getvalue(), check=True)
    assert summary(added=3) in proc.stdout
    first = project.run("sub", "export", check=True).stdout
    got = list(csv.reader(io.StringIO(first)))
    order = sorted(ODD_COLUMNS)
    assert got[0] == ["email", "name", "status", "created", *order]
    for row, want in zip(got[1:], rows):
        assert row[0] == want[0]
        assert row[4:] == [want[1 + ODD_COLUMNS.index(c)] for c in order]
    (tmp_path / "other").mkdir()
    other = type(project)(tmp_path / "other")
    other.run("sub", "import", "-", input=first, check=True)
    assert other.run("sub", "export", check=True).stdout == first


def test_export_status_filter(project):
    add_people(project)
    project.run("sub", "unsubscribe", "li@example.org", check=True)
    out = project.run("sub", "export", "--status", "unsubscribed",
                      check=True).stdout
    rows = list(csv.reader(io.StringIO(out)))
    assert rows == [["email", "name", "status", "created"],
                    ["li@example.org", "李小龍", "unsubscribed", rows[1][3]]]


# ---- stats -----------------------------------------------------------------

def test_stats_by_status_and_month(project):
    text = ("email,created\n"
            "a@example.org,2024-01-03T10:00:00Z\n"
            "b@example.org,2024-01-20T10:00:00Z\n"
            "c@example.org,2024-03-01T00:00:00Z\n")
    project.run("sub", "import", write(project, "m.csv", text), check=True)
    project.run("sub", "unsubscribe", "a@example.org", check=True)
    out = project.run("sub", "stats", check=True).stdout
    lines = [line.split() for line in out.splitlines()]
    assert ["active", "2"] in lines
    assert ["unsubscribed", "1"] in lines
    assert ["total", "3"] in lines
    assert ["2024-01", "2", "0"] in lines
    assert ["2024-03", "1", "0"] in lines
    this_month = time.strftime("%Y-%m", time.gmtime())
    assert [this_month, "0", "1"] in lines
    bad = project.run("sub", "import",
                      write(project, "n.csv", "email,created\nx@example.org,"
                            "yesterday\n"))
    assert "n.csv:2: invalid created time" in bad.stderr


# ---- two processes, and a crash -------------------------------------------

def test_concurrent_import_and_commands(project):
    path = write(project, "big.csv", rows_csv(50000))
    env = dict(os.environ)
    env.pop("BULLETIN_CONFIG", None)
    importer = subprocess.Popen([str(BINARY), "sub", "import", str(path)],
                                cwd=project.path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env=env)
    done, during = 0, 0
    while importer.poll() is None or done < 4:
        running = importer.poll() is None
        a = project.run("sub", "add", f"side{done}@example.org")
        b = project.run("sub", "list", "--limit", "3")
        c = project.run("sub", "stats")
        for proc in (a, b, c):
            assert proc.returncode == 0, proc.stderr
            assert "locked" not in proc.stderr and "busy" not in proc.stderr
        during += running
        done += 1
    out, err = importer.communicate()
    assert importer.returncode == 0, err
    assert summary(added=50000) in out
    assert during >= 1
    assert count(project) == 50000 + done


# The number of read(2) in /proc/PID/syscall.
READ_SYSCALL = {"x86_64": "0", "aarch64": "63"}.get(platform.machine())


def wait_blocked_on_stdin(proc, pipe, timeout=60):
    """Waits until proc has read everything written to pipe and sits in
    read(0, ...) for more: every complete row sent has been processed."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the importer exited early"
        pending = array.array("i", [0])
        fcntl.ioctl(pipe.fileno(), termios.FIONREAD, pending)
        try:
            with open(f"/proc/{proc.pid}/syscall") as f:
                call = f.read().split()
        except OSError:
            call = []
        # the read system call, its first argument the descriptor
        if pending[0] == 0 and call[:2] == [READ_SYSCALL, "0x0"]:
            return
        time.sleep(0.01)
    raise AssertionError("the importer never came back to read its input")


def test_sigkill_during_import_leaves_database_as_it_was(project):
    if READ_SYSCALL is None:
        pytest.skip(f"read(2)'s number on {platform.machine()} is not known")
    project.run("sub", "import", write(project, "seed.csv", GOOD), check=True)
    wal = project.path / "subscribers" / "bulletin.db-wal"
    env = dict(os.environ)
    env.pop("BULLETIN_CONFIG", None)
    importer = subprocess.Popen([str(BINARY), "sub", "import", "-"],
                                cwd=project.path, stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, env=env)
    try:
        # Feed rows until the open transaction has spilled pages into the
        # WAL: a crash now leaves uncommitted frames there, the case that
        # matters. The importer is then provably mid-import: it holds the
        # write lock and waits for more input that never comes.
        importer.stdin.write(b"email,name,city\r\n")
        for batch in range(100):
            body = rows_csv(20000, start=batch * 20000).split("\r\n", 1)[1]
            importer.stdin.write(body.encode())
            importer.stdin.flush()
            wait_blocked_on_stdin(importer, importer.stdin)
            if wal.exists() and wal.stat().st_size > (1 << 20):
                break
        assert wal.stat().st_size > (1 << 20), "no page was ever spilled"
        other = sqlite3.connect(wal.with_name("bulletin.db"), timeout=0)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
        finally:
            other.close()
    finally:
        importer.kill()
        importer.wait()
        importer.stdin.close()
    assert importer.returncode == -signal.SIGKILL
    with db(project) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM subscribers").fetchone()[0] == 3
        assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == 3
    proc = project.run("sub", "import", "-", input=rows_csv(10), check=True)
    assert summary(added=10) in proc.stdout


# ---- one person, one row ------------------------------------------------------

EX_CANTCREAT = 73
NO_DB = "no database 'subscribers/bulletin.db': 'bulletin init' creates one"


@pytest.mark.parametrize("again", [
    "ADA@example.org", "Ada@example.org", '"ada"@example.org',
    '"ADA"@Example.org'])
def test_unsubscribed_stays_so_in_every_form(project, again):
    project.run("sub", "add", "ada@example.org", check=True)
    project.run("sub", "unsubscribe", "ada@example.org", check=True)
    proc = project.run("sub", "add", again)
    assert proc.returncode == EX_DATAERR
    normalized = again.replace("Example.org", "example.org")
    assert (f"'{normalized}' (as 'ada@example.org') is unsubscribed: not "
            "added") in proc.stderr
    assert count(project) == 1
    assert status(project, "ada@example.org") == "unsubscribed"
    # and the other commands find the same row
    show = project.run("sub", "show", again, check=True).stdout
    assert "email:    ada@example.org\n" in show
    assert "status:   unsubscribed\n" in show


def test_same_person_added_twice_is_unchanged(project):
    project.run("sub", "add", "Ada@example.org", check=True)
    proc = project.run("sub", "add", '"ada"@example.org', check=True)
    assert proc.stdout == ('"ada"@example.org (as \'Ada@example.org\') is '
                           "already subscribed: unchanged\n")
    assert count(project) == 1


def test_erased_stays_erased_in_every_form(project):
    project.run("sub", "add", "erase.me@example.org", check=True)
    project.run("sub", "rm", "erase.me@example.org", check=True)
    proc = project.run("sub", "add", "Erase.Me@example.org")
    assert proc.returncode == EX_DATAERR
    assert ("'Erase.Me@example.org' was erased and is on the suppression "
            "list: not added") in proc.stderr
    path = write(project, "e.csv", 'email\n"""ERASE.ME""@example.org"\n')
    proc = project.run("sub", "import", path, check=True)
    assert summary(suppressed=1) in proc.stdout
    assert count(project) == 0


def test_import_keeps_one_row_per_person(project):
    path = write(project, "c.csv", "email,name\nCase@example.org,First\n"
                 "case@example.org,\nCASE@example.org,\n")
    proc = project.run("sub", "import", path, check=True)
    assert summary(added=1, unchanged=2) in proc.stdout
    assert count(project) == 1
    with db(project) as conn:
        assert conn.execute("SELECT email, name FROM subscribers").fetchall() \
            == [("Case@example.org", "First")]
    # an import after that changes nothing, whatever the form
    proc = project.run("sub", "import", path, check=True)
    assert summary(unchanged=3) in proc.stdout


def test_address_longer_than_a_path_refused(project):
    local = "x" * 64
    domain = ".".join(["d" * 63, "d" * 63, "d" * 61])     # 189 octets
    ok, long = f"{local}@{domain}", f"{local}@{domain}d"  # 254, 255
    project.run("sub", "add", ok, check=True)
    proc = project.run("sub", "add", long)
    assert proc.returncode == EX_DATAERR
    assert "address longer than 254 octets" in proc.stderr
    path = write(project, "l.csv", f"email\n{long}\n")
    proc = project.run("sub", "import", path)
    assert proc.returncode == EX_DATAERR
    assert "l.csv:2: invalid address" in proc.stderr
    assert "address longer than 254 octets" in proc.stderr
    assert count(project) == 1


def v1_database(path, rows):
    """A version 1 database, as bulletin 0.1 wrote it, with rows."""
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE subscribers (id INTEGER PRIMARY KEY, email TEXT NOT"
            " NULL UNIQUE, name TEXT, status TEXT NOT NULL, attrs TEXT,"
            " created TEXT NOT NULL, updated TEXT NOT NULL);"
            "CREATE TABLE campaigns (id TEXT PRIMARY KEY, subject TEXT NOT"
            " NULL, content_hash TEXT NOT NULL, created TEXT NOT NULL,"
            " started TEXT, finished TEXT);"
            "CREATE TABLE deliveries (campaign_id TEXT NOT NULL REFERENCES"
            " campaigns(id) ON DELETE CASCADE, subscriber_id INTEGER NOT NULL"
            " REFERENCES subscribers(id) ON DELETE CASCADE, state TEXT NOT"
            " NULL DEFAULT 'queued', attempts INTEGER NOT NULL DEFAULT 0,"
            " next_attempt TEXT, last_reply TEXT, message_id TEXT, updated"
            " TEXT NOT NULL, PRIMARY KEY (campaign_id, subscriber_id))"
            " WITHOUT ROWID;"
            "CREATE TABLE events (id INTEGER PRIMARY KEY, type TEXT NOT NULL,"
            " subscriber_id INTEGER REFERENCES subscribers(id) ON DELETE"
            " CASCADE, campaign_id TEXT REFERENCES campaigns(id) ON DELETE"
            " SET NULL, method TEXT NOT NULL, detail TEXT, created TEXT NOT"
            " NULL);"
            "CREATE TABLE suppressions (hash TEXT PRIMARY KEY, reason TEXT NOT"
            " NULL, created TEXT NOT NULL) WITHOUT ROWID;"
            "PRAGMA user_version = 1;")
        for i, (email, st) in enumerate(rows, 1):
            conn.execute("INSERT INTO subscribers VALUES (?, ?, NULL, ?, NULL,"
                         " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')",
                         (i, email, st))
            conn.execute("INSERT INTO events (type, subscriber_id, method,"
                         " created) VALUES ('subscribe', ?, 'import', 'now')",
                         (i,))


def test_upgrade_merges_duplicates(project):
    v1_database(project.path / "subscribers" / "bulletin.db",
                [("Case@example.org", "active"), ("case@example.org", "bounced"),
                 ("CASE@example.org", "pending"), ("solo@example.org", "active")])
    proc = project.run("sub", "list", "--format", "csv", check=True)
    rows = list(csv.reader(io.StringIO(proc.stdout)))[1:]
    assert [(r[0], r[2]) for r in rows] == [("case@example.org", "bounced"),
                                            ("solo@example.org", "active")]
    show = project.run("sub", "show", "CASE@example.org", check=True).stdout
    assert show.split("history:\n")[1].count("subscribe") == 3


# ---- commands that only read never create a database --------------------------

READERS = [["sub", "list"], ["sub", "show", "a@example.org"],
           ["sub", "export"], ["sub", "stats"],
           ["sub", "import", "p.csv", "--dry-run"],
           ["sub", "import", "--dry", "p.csv"]]


@pytest.mark.parametrize("args", READERS)
def test_readers_never_create_the_database(project, args):
    write(project, "p.csv", "email\na@example.org\n")
    proc = project.run(*args)
    assert proc.returncode == EX_NOINPUT
    assert NO_DB in proc.stderr
    assert "check [store] path" in proc.stderr
    assert proc.stdout == ""
    assert list((project.path / "subscribers").iterdir()) == []
    # a mistyped folder is not made either
    proc = project.run(*args, env={"BULLETIN_STORE_PATH": "typo/x.db"})
    assert proc.returncode == EX_NOINPUT
    assert "no database 'typo/x.db'" in proc.stderr
    assert not (project.path / "typo").exists()


def test_usage_mistakes_come_before_the_missing_database(project):
    proc = project.run("sub", "list", "--format", "xml")
    assert proc.returncode == EX_USAGE
    assert "unknown format 'xml' (table, csv or json)" in proc.stderr
    assert NO_DB not in proc.stderr


def test_writers_create_a_private_database(project):
    proc = project.run("sub", "add", "a@example.org",
                       env={"BULLETIN_STORE_PATH": "data/new/list.db"})
    assert proc.returncode == 0, proc.stderr
    folder = project.path / "data" / "new"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert stat.S_IMODE((folder / "list.db").stat().st_mode) == 0o600
    proc = project.run("sub", "list",
                       env={"BULLETIN_STORE_PATH": "data/new/list.db"})
    assert proc.returncode == 0 and "a@example.org" in proc.stdout


def foreign(project, sql):
    path = project.path / "subscribers" / "bulletin.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(sql)
    return path, path.read_bytes()


@pytest.mark.parametrize("args,code", [(["sub", "list"], EX_NOINPUT),
                                       (["sub", "add", "a@example.org"],
                                        EX_CANTCREAT)])
def test_foreign_database_refused_untouched(project, args, code):
    path, before = foreign(project, "CREATE TABLE notes (t TEXT);"
                                    "INSERT INTO notes VALUES ('mine');")
    proc = project.run(*args)
    assert proc.returncode == code
    assert ("database 'subscribers/bulletin.db' holds other tables and no "
            "bulletin schema: not using it") in proc.stderr
    assert path.read_bytes() == before
    assert not path.with_name("bulletin.db-wal").exists()


def test_negative_schema_version_refused(project):
    path, before = foreign(project, "PRAGMA user_version = -7;")
    proc = project.run("sub", "stats")
    assert proc.returncode == EX_NOINPUT
    assert ("database 'subscribers/bulletin.db' has schema version -7, which "
            "bulletin never writes: it is not a bulletin database, or it is "
            "damaged") in proc.stderr
    assert path.read_bytes() == before


# ---- stored text never reaches the terminal raw ---------------------------

def test_show_and_list_escape_control_characters(project):
    project.run("sub", "add", "t@example.org", check=True)
    project.run("sub", "unsubscribe", "t@example.org", "--reason",
                "\x1b[31mred\x07 and\nnewline", check=True)
    with db(project) as conn:
        conn.execute("UPDATE subscribers SET name = ?",
                     ("Evil\x1b]0;pwned\x07 \u009b2J Name",))
    show = project.run("sub", "show", "t@example.org", check=True).stdout
    assert "\\x1b[31mred\\x07 and\\nnewline" in show
    assert "name:     Evil\\x1b]0;pwned\\x07 \\u009b2J Name\n" in show
    table = project.run("sub", "list", check=True).stdout
    assert "Evil\\x1b]0;pwned\\x07 \\u009b2J Name" in table
    for out in (show, table):
        assert not any(c in out for c in "\x1b\x07\u009b")
    # the table stays aligned on the escaped text
    lines = table.splitlines()
    assert lines[0].index("status") == lines[1].index("unsubscribed")
    # CSV and JSON are data for programs: the value as stored
    listed = json.loads(project.run("sub", "list", "--format", "json",
                                    check=True).stdout)
    assert listed[0]["name"] == "Evil\x1b]0;pwned\x07 \u009b2J Name"


def test_invalid_address_echoed_escaped(project):
    proc = project.run("sub", "add", "\x1b[2Jx@example.org")
    assert proc.returncode == EX_DATAERR
    assert "invalid address '\\x1b[2Jx@example.org'" in proc.stderr
    assert "\x1b" not in proc.stderr
