"""Shared fixtures: the built binary and a throw-away project folder."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# `make integration` runs the suite against bulletin-asan (ASan+UBSan).
BINARY = Path(os.environ.get("BULLETIN_BINARY") or ROOT / "bulletin")

# What a sanitizer report contains, should one reach stderr.
SANITIZER_MARKERS = ("AddressSanitizer", "LeakSanitizer", "runtime error:")

# The token secret every test project gets (what `bulletin init` writes).
SECRET = "5" * 64

CONFIG = """\
[newsletter]
name = Best of arXiv
from = Best of arXiv <digest@news.example.org>
reply-to = editor@news.example.org
list-id = arxiv.news.example.org
base-url = https://news.example.org
postal-address = Example Press, 1 Sample Street, 1000 Brussels, Belgium
reason = You receive this because you subscribed at news.example.org.
sample-to = Ada Lovelace <ada@example.org>

[smtp]
url = maildir:outbox

[store]
path = subscribers/bulletin.db

[templates]
dir = {templates}
lang = zh

[tokens]
secret-file = config/secret
"""


class Project:
    """A folder with its own config, where bulletin runs as a user would."""

    def __init__(self, path: Path):
        self.path = path
        (path / "config").mkdir()
        (path / "subscribers").mkdir()
        self.config = path / "config" / "bulletin.conf"
        self.config.write_text(CONFIG.format(templates=ROOT / "templates"))
        self.secret = path / "config" / "secret"
        self.secret.write_text(SECRET)
        os.chmod(self.secret, 0o600)

    def run(self, *args, input=None, env=None, check=False):
        """Runs bulletin in the project; returns the CompletedProcess."""
        full_env = dict(os.environ)
        full_env.pop("BULLETIN_CONFIG", None)
        full_env.update(env or {})
        proc = subprocess.run(
            [str(BINARY), *map(str, args)],
            cwd=self.path, input=input, capture_output=True,
            env=full_env, timeout=120,
            text=not isinstance(input, bytes))
        stderr = proc.stderr if isinstance(proc.stderr, str) else \
            proc.stderr.decode(errors="replace")
        for marker in SANITIZER_MARKERS:
            assert marker not in stderr, stderr
        if check and proc.returncode != 0:
            raise AssertionError(
                f"bulletin {' '.join(map(str, args))} exited "
                f"{proc.returncode}\nstdout:\n{proc.stdout}\n"
                f"stderr:\n{proc.stderr}")
        return proc

    def copy_digest(self, name="2021-03") -> Path:
        """Copies a sample digest into the project and returns its folder."""
        dest = self.path / "digests" / name
        shutil.copytree(ROOT / "digests" / name, dest)
        return dest


@pytest.fixture
def project(tmp_path):
    assert BINARY.exists(), f"build {BINARY.name} first (make {BINARY.name})"
    return Project(tmp_path)


@pytest.fixture(autouse=True)
def sanitizer_reports(tmp_path_factory, monkeypatch):
    """Fails the test when a bulletin it ran wrote a sanitizer report.

    Reports go to files of their own (log_path) rather than stderr, so a
    test that expects a failure and never reads stderr still catches
    them, however it started the binary. Harmless without sanitizers."""
    logs = tmp_path_factory.mktemp("sanitizers")
    defaults = {"ASAN_OPTIONS": "detect_leaks=1:abort_on_error=1",
                "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1"}
    for var, default in defaults.items():
        opts = os.environ.get(var, default)
        monkeypatch.setenv(var, f"{opts}:log_path={logs}/report")
    yield
    reports = sorted(logs.iterdir())
    if reports:
        pytest.fail("sanitizer report from " + str(BINARY) + ":\n" +
                    "\n".join(r.read_text(errors="replace") for r in reports),
                    pytrace=False)


def on_a_terminal(cwd, args, answer=None, stdout=None):
    """Runs bulletin ARGS in cwd on a pseudo-terminal (stdin, stderr and,
    unless stdout names a file, stdout); answers the first "[y/N]" with
    answer. Returns (exit status, everything the terminal showed)."""
    import pty
    env = dict(os.environ)
    env.pop("BULLETIN_CONFIG", None)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(cwd)
        if stdout:
            sink = os.open(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
                           0o600)
            os.dup2(sink, 1)
        os.execve(str(BINARY), [str(BINARY), *map(str, args)], env)
    out = b""
    answered = answer is None
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        if not answered and b"[y/N]" in out:
            os.write(fd, answer.encode() + b"\n")
            answered = True
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")
