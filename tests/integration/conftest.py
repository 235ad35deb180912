"""Shared fixtures: the built binary and a throw-away project folder."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BINARY = ROOT / "bulletin"

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
    assert BINARY.exists(), "build ./bulletin first (make)"
    return Project(tmp_path)
