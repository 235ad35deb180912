"""The top level: help, version, unknown commands, bare commands."""

import subprocess

from conftest import BINARY


def run(*args, cwd):
    return subprocess.run([str(BINARY), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=30)


def test_help_lists_every_command(tmp_path):
    proc = run("--help", cwd=tmp_path)
    assert proc.returncode == 0
    for name in ("init", "preview", "sub"):
        assert f"\n  {name} " in proc.stdout


def test_version(tmp_path):
    proc = run("--version", cwd=tmp_path)
    assert proc.returncode == 0 and proc.stdout.startswith("bulletin ")


def test_unknown_command(tmp_path):
    proc = run("sned", cwd=tmp_path)
    assert proc.returncode == 64
    assert "unknown command 'sned'" in proc.stderr


def test_bare_commands_print_usage_without_a_config(tmp_path):
    # an empty folder: no config, no database; usage must still come out
    for name in ("sub", "preview"):
        proc = run(name, cwd=tmp_path)
        assert proc.returncode == 64, name
        assert f"usage: bulletin {name}" in proc.stderr
    assert not (tmp_path / "subscribers").exists()
