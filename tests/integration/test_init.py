"""bulletin init: a new project's configuration, secret and database."""

import os
import re
import sqlite3
import stat
import subprocess

from conftest import BINARY

EX_USAGE, EX_CANTCREAT = 64, 73


def run(cwd, *args, env=None):
    full_env = dict(os.environ)
    full_env.pop("BULLETIN_CONFIG", None)
    full_env.update(env or {})
    return subprocess.run([str(BINARY), *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=60)


def test_init_creates_config_secret_and_database(tmp_path):
    proc = run(tmp_path, "init")
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "config" / "bulletin.conf"
    secret = tmp_path / "config" / "secret"
    dbpath = tmp_path / "subscribers" / "bulletin.db"
    for path in (config, secret, dbpath):
        assert path.exists()
        assert str(path.relative_to(tmp_path)) in proc.stdout
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    # the database holds personal data: its owner's alone, and its folder
    assert stat.S_IMODE(dbpath.stat().st_mode) == 0o600
    assert stat.S_IMODE(dbpath.parent.stat().st_mode) == 0o700
    assert re.fullmatch(r"[0-9a-f]{64}", secret.read_text())
    with sqlite3.connect(dbpath) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"subscribers", "campaigns", "deliveries", "events",
            "suppressions"} <= tables
    # the sample configuration is valid: the project works at once
    assert run(tmp_path, "sub", "list").returncode == 0
    assert run(tmp_path, "sub", "add", "a@example.org").returncode == 0


def test_secrets_differ(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert run(tmp_path / "a", "init").returncode == 0
    assert run(tmp_path / "b", "init").returncode == 0
    assert (tmp_path / "a" / "config" / "secret").read_text() != \
        (tmp_path / "b" / "config" / "secret").read_text()


def test_init_refuses_to_overwrite(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    assert run(tmp_path, "sub", "add", "keep@example.org").returncode == 0
    files = ["config/bulletin.conf", "config/secret", "subscribers/bulletin.db"]
    before = {f: (tmp_path / f).read_bytes() for f in files}
    proc = run(tmp_path, "init")
    assert proc.returncode == EX_CANTCREAT
    assert "already exists" in proc.stderr
    assert {f: (tmp_path / f).read_bytes() for f in files} == before


def test_init_refuses_existing_secret_or_database(tmp_path):
    for name in ("config/secret", "subscribers/bulletin.db"):
        folder = tmp_path / name.replace("/", "_")
        (folder / name).parent.mkdir(parents=True)
        (folder / name).write_text("precious")
        proc = run(folder, "init")
        assert proc.returncode == EX_CANTCREAT
        assert f"'{name}' already exists" in proc.stderr
        assert (folder / name).read_text() == "precious"
        # all or nothing: the configuration it wrote first is gone again
        assert not (folder / "config" / "bulletin.conf").exists()


def test_init_follows_config_option_and_environment(tmp_path):
    proc = run(tmp_path, "-c", "etc/news.conf", "init",
               env={"BULLETIN_STORE_PATH": "data/list.db",
                    "BULLETIN_TOKENS_SECRET_FILE": "etc/token.key"})
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "etc" / "news.conf").exists()
    assert stat.S_IMODE((tmp_path / "etc" / "token.key").stat().st_mode) == 0o600
    assert (tmp_path / "data" / "list.db").exists()


def test_init_help_and_usage(tmp_path):
    proc = run(tmp_path, "init", "--help")
    assert proc.returncode == 0
    assert proc.stdout.startswith("usage: bulletin [-c CONFIG] init")
    assert not (tmp_path / "config").exists()
    assert run(tmp_path, "init", "extra").returncode == EX_USAGE
    assert run(tmp_path, "init", "--force").returncode == EX_USAGE
