"""bulletin inbox over the real-world bounces of tests/fixtures/bounces
(origin in its README): the share decided right, and none of them may
change the store without being tied to a delivery."""

import shutil

from conftest import ROOT
from inboxlib import maildir, run_inbox
from sendlib import db

FIXTURES = ROOT / "tests" / "fixtures" / "bounces"
KIND = {"hard-bounce": "hard", "soft-bounce": "soft"}
# what bulletin decides right today (111 of 115): it may only go up
MIN_RIGHT = 111


def expected():
    out = {}
    for line in (FIXTURES / "expected.tsv").read_text().splitlines():
        if line.startswith("#"):
            continue
        name, verdict, rcpts, _how = line.split("\t")
        out[name] = (verdict, sorted(filter(None, rcpts.split(","))))
    return out


def test_the_fixture_set_is_decided_right(project):
    box = maildir(project.path / "bounces")
    for f in (FIXTURES / "flufl").iterdir():
        shutil.copy(f, box / "new" / f.name)
    # every fixture names a subscriber, so a wrong trust would show
    want = expected()
    rows_csv = sorted({a for _, r in want.values() for a in r})
    (project.path / "subs.csv").write_text(
        "email\n" + "\n".join(rows_csv) + "\n")
    proc = project.run("sub", "import", "subs.csv")
    # one fixture names 'david...@gmail.com', which is no address
    assert proc.returncode == 65, proc.stderr
    assert "rejected 1" in proc.stdout

    proc, rows = run_inbox(project, box)
    assert proc.returncode == 0, proc.stderr
    got = {r["message"]: (KIND.get(r["kind"], "none"),
                          sorted(a.lower() for a in r["recipients"]))
           for r in rows}
    assert sorted(got) == sorted(want)
    right = [n for n in want if got[n] == want[n]]
    print(f"\nfixture set: {len(right)} of {len(want)} decided right "
          f"({100 * len(right) / len(want):.0f}%)")
    assert len(right) >= MIN_RIGHT, sorted(set(want) - set(right))
    # unverified, all of them: nobody's status changed
    assert all(not r["verified"] for r in rows)
    with db(project) as conn:
        assert conn.execute("SELECT count(*) FROM subscribers"
                            " WHERE status != 'active'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM bounces").fetchone()[0] == 0
