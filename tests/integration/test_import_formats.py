"""bulletin sub import --from: the exports of the tools people leave.

The fixtures in tests/fixtures/import/ follow each tool's documented
export format (see their README). What matters most: nobody who had
unsubscribed or bounced there arrives active here.
"""

import json
import sqlite3

import pytest

from conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures" / "import"
EX_USAGE, EX_DATAERR = 64, 65


def rows(project):
    """email -> (name, status, created, attrs) of every subscriber."""
    with sqlite3.connect(project.path / "subscribers" / "bulletin.db") as conn:
        cur = conn.execute("SELECT * FROM subscribers")
        names = [d[0] for d in cur.description]
        found = {}
        for values in cur.fetchall():
            r = dict(zip(names, values))
            attrs = r.get("attrs")
            found[r["email"]] = (r["name"], r["status"], r["created"],
                                 json.loads(attrs) if attrs else {})
    return found


def imported(project, fixture, *options):
    proc = project.run("sub", "import", FIXTURES / fixture, *options)
    assert proc.returncode == 0, proc.stderr
    return proc


def test_mailchimp_export_files(project):
    for kind in ("subscribed", "unsubscribed", "cleaned"):
        imported(project, f"mailchimp_{kind}_members_export_4f1c2a.csv")
    got = rows(project)
    ada = got["ada@example.org"]
    assert ada[:3] == ("Ada Lovelace", "active", "2019-05-02T09:15:00Z")
    assert ada[3]["MEMBER_RATING"] == "2" and ada[3]["TAGS"] == '"founder"'
    # no OPTIN_TIME: the confirmation time is the subscription date
    assert got["grace@example.org"][:3] == ("Grace Hopper", "active",
                                            "2020-02-29T23:30:00Z")
    assert got["linus@example.org"][0] is None
    # the unsubscribed file and the cleaned (bounced) file
    assert got["alan@example.org"][:3] == ("Alan Turing", "unsubscribed",
                                           "2018-11-20T10:00:00Z")
    assert got["alan@example.org"][3]["UNSUB_REASON"].startswith("I no longer")
    assert got["gone@example.org"][1] == "bounced"


def test_mailchimp_file_names_say_who_is_in_them(project, tmp_path):
    """Contacts who never subscribed are not sent to; an unsubscribed
    file whose columns were trimmed still unsubscribes."""
    imported(project, "mailchimp_nonsubscribed_members_export_4f1c2a.csv")
    trimmed = tmp_path / "unsubscribed_members_export_4f1c2a.csv"
    trimmed.write_text('"Email Address",MEMBER_RATING,LEID\n'
                       "left@example.org,1,9\n")
    proc = project.run("sub", "import", trimmed)
    assert proc.returncode == 0, proc.stderr
    got = rows(project)
    assert got["buyer@example.org"][:2] == ("Kim Buyer", "pending")
    assert got["left@example.org"][1] == "unsubscribed"


def test_substack_export(project):
    proc = imported(project, "substack_email_list.csv")
    assert "added 3," in proc.stdout
    got = rows(project)
    assert got["ada@example.org"][1:3] == ("active", "2020-09-14T08:31:12Z")
    assert got["barbara@example.org"][3]["plan"] == "yearly"
    assert "email_disabled" not in got["barbara@example.org"][3]
    assert "created_at" not in got["barbara@example.org"][3]
    # email_disabled: true is someone who unsubscribed on Substack
    assert got["quit@example.org"][1:3] == ("unsubscribed",
                                            "2020-10-01T12:00:00Z")


def test_listmonk_export(project):
    imported(project, "listmonk_subscribers.csv", "--from", "listmonk")
    got = rows(project)
    assert got["ada@example.org"][:3] == ("Ada Lovelace", "active",
                                          "2020-01-02T03:04:05Z")
    assert got["ada@example.org"][3]["attributes"] == '{"city": "London"}'
    # +01: the store keeps UTC
    assert got["blocked@example.org"][1:3] == ("unsubscribed",
                                               "2020-02-03T09:00:00Z")
    assert got["off@example.org"][1] == "unsubscribed"


def test_buttondown_export(project):
    imported(project, "buttondown_subscribers.csv")
    got = {email: r[1] for email, r in rows(project).items()}
    assert got == {"ada@example.org": "active",
                   "left@example.org": "unsubscribed",
                   "bounce@example.org": "bounced",
                   "spam@example.org": "complained",
                   "new@example.org": "pending"}
    assert rows(project)["ada@example.org"][2] == "2021-04-05T06:07:08Z"


def test_an_export_never_resurrects_anyone(project):
    """Someone unsubscribed here and active in an old export stays away;
    someone unsubscribed there does not arrive active here, whatever
    --status says."""
    project.run("sub", "add", "ada@example.org", check=True)
    project.run("sub", "unsubscribe", "ada@example.org", check=True)
    export = project.path / "substack.csv"
    export.write_text("email,active_subscription,email_disabled,created_at\n"
                      "ada@example.org,true,false,2020-01-01T00:00:00Z\n"
                      "quit@example.org,false,true,2020-01-01T00:00:00Z\n")
    proc = project.run("sub", "import", export, "--status", "active")
    assert proc.returncode == 0, proc.stderr
    assert "suppressed 1" in proc.stdout
    got = rows(project)
    assert got["ada@example.org"][1] == "unsubscribed"
    assert got["quit@example.org"][1] == "unsubscribed"
    # the same file read as a plain CSV would have made quit@ active: the
    # mapping, not luck, keeps them out
    other = project.path / "other"
    other.mkdir()
    (other / "config").mkdir()
    (other / "config" / "bulletin.conf").write_text(
        project.config.read_text())
    proc = project.run("-c", other / "config" / "bulletin.conf", "sub",
                       "import", export, "--from", "csv",
                       env={"BULLETIN_STORE_PATH": str(other / "db")})
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(other / "db") as conn:
        assert conn.execute("SELECT status FROM subscribers WHERE email ="
                            " 'quit@example.org'").fetchone()[0] == "active"


def test_map_options(project):
    export = project.path / "people.csv"
    export.write_text("Mail,Signed up,Password,Town\n"
                      "ada@example.org,2021-06-01,hunter2,London\n")
    proc = project.run("sub", "import", export, "--map", "Mail=email",
                       "--map", "Signed up=created", "--map",
                       "Password=ignore", "--map", "Town=city")
    assert proc.returncode == 0, proc.stderr
    name, status, created, attrs = rows(project)["ada@example.org"]
    assert (status, created, attrs) == ("active", "2021-06-01T00:00:00Z",
                                        {"city": "London"})


@pytest.mark.parametrize("args, message", [
    (["--from", "mailchump"], "unknown format 'mailchump' (mailchimp, "
     "substack, listmonk, buttondown, csv or auto)"),
    (["--map", "email"], "--map wants COLUMN=FIELD, not 'email'"),
    (["--map", "=email"], "--map wants COLUMN=FIELD, not '=email'"),
    (["--map", "Mail="], "--map wants COLUMN=FIELD, not 'Mail='"),
])
def test_bad_options_are_usage_errors(project, args, message):
    proc = project.run("sub", "import", FIXTURES / "substack_email_list.csv",
                       *args)
    assert proc.returncode == EX_USAGE
    assert f"bulletin: error: {message}\n" in proc.stderr
    assert not (project.path / "subscribers" / "bulletin.db").exists()


def test_bad_exports_name_the_file_and_line(project):
    export = project.path / "list.csv"
    export.write_text("Mail,Name\nada@example.org,Ada\n")
    proc = project.run("sub", "import", export)
    assert proc.returncode == EX_DATAERR
    assert (f"{export}:1: no 'email' column in the header (email, Email "
            "Address, email_address or E-mail; or --map COLUMN=email)"
            ) in proc.stderr
    proc = project.run("sub", "import", export, "--map", "Nowhere=email")
    assert proc.returncode == EX_DATAERR
    assert f"{export}:1: --map: no column 'Nowhere' in the header" in proc.stderr

    export.write_text("uuid,email,attributes,status,created_at\n"
                      "u1,a@example.org,{},enabled,2020-02-30 10:00:00\n"
                      "u2,b@example.org,{},spam,\n"
                      "u3,c@example.org,{},enabled,\n")
    proc = project.run("sub", "import", export)
    assert proc.returncode == EX_DATAERR
    assert (f"{export}:2: invalid created time '2020-02-30 10:00:00' (column "
            "created_at): expected a date such as 2026-11-03 or "
            "2026-11-03T10:00:00Z\n"
            f"{export}:3: unknown status 'spam' (column status)\n"
            ) in proc.stderr
    assert "added 1, updated 0, unchanged 0, suppressed 0, rejected 2" \
        in proc.stdout
    assert list(rows(project)) == ["c@example.org"]


def test_an_export_of_an_import_imports_back(project, tmp_path):
    """Attributes a Mailchimp or listmonk import leaves (LEID, uuid ...)
    must not make bulletin's own export look like that tool's: its status
    column is read as bulletin's."""
    for kind in ("subscribed", "unsubscribed", "cleaned"):
        imported(project, f"mailchimp_{kind}_members_export_4f1c2a.csv")
    imported(project, "listmonk_subscribers.csv")
    export = project.run("sub", "export", check=True).stdout
    header = export.splitlines()[0].split(",")
    assert header[:4] == ["email", "name", "status", "created"]
    assert {"LEID", "uuid", "attributes"} <= set(header)
    (tmp_path / "export.csv").write_text(export)
    before = rows(project)
    proc = project.run("sub", "import", tmp_path / "export.csv",
                       env={"BULLETIN_STORE_PATH": str(tmp_path / "new.db")})
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(tmp_path / "new.db") as conn:
        after = dict(conn.execute("SELECT email, status FROM subscribers"))
    assert after == {email: r[1] for email, r in before.items()}
    assert after["alan@example.org"] == "unsubscribed"
    assert after["gone@example.org"] == "bounced"


@pytest.mark.parametrize("header, message", [
    ("Email Address,city,city", "column 3 repeats column 2's name"),
    ("email,,LEID", "column 2 has no name"),
    ("Email Address,\"two\nlines\",LEID",
     "column 2's name 'two?lines': control characters and line breaks are "
     "not allowed"),
    ("email,Email", "column 2 repeats column 1's name"),
    ("E-mail,first_name,First Name", "columns 'first_name' and 'First Name' "
     "both give the name"),
])
def test_bad_headers_name_the_column_of_the_export(project, header, message):
    """Numbers count the export's columns, not those it is rewritten to."""
    export = project.path / "h.csv"
    export.write_text(header + "\nada@example.org,x,y\n")
    proc = project.run("sub", "import", export)
    assert proc.returncode == EX_DATAERR
    assert proc.stderr == f"bulletin: error: {export}:1: {message}\n"
    assert proc.stdout == ""
