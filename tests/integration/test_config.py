"""The configuration as a user meets it: every bad config is refused with
FILE:LINE (or the variable) and exit status 78, before any command runs;
long values survive whole; max-message-size stops preview."""

import email
import email.policy
import re

import pytest

EX_DATAERR, EX_CONFIG = 65, 78

# Each used to crash every command (a NULL pointer) or print '(null)'.
EMPTY_VALUES = [
    # (old line, new line, expected message)
    ("[smtp]\n", "[smtp]\nstarttls =\n",
     "config/bulletin.conf:12: bad value for 'starttls' in [smtp]: must not be empty"),
    ("sample-to = Ada Lovelace <ada@example.org>\n", "sample-to =\n",
     "config/bulletin.conf:9: bad value for 'sample-to' in [newsletter]: must not be empty"),
    ("path = subscribers/bulletin.db\n", "path = \n",
     "config/bulletin.conf:15: bad value for 'path' in [store]: must not be empty"),
]

EMPTY_ENV = [
    ("BULLETIN_STORE_PATH", "'path' in [store]"),
    ("BULLETIN_TEMPLATES_DIR", "'dir' in [templates]"),
    ("BULLETIN_SMTP_STARTTLS", "'starttls' in [smtp]"),
    ("BULLETIN_NEWSLETTER_SAMPLE_TO", "'sample-to' in [newsletter]"),
]

BAD_SYNTAX = [
    ("list-id = arxiv.news.example.org", "list-id = arxiv.news.example.org>",
     "config/bulletin.conf:5: bad value for 'list-id' in [newsletter]: expected a "
     "dot-atom such as news.example.org (RFC 2919), at most 255 octets"),
    ("base-url = https://news.example.org",
     "base-url = https://news.example.org/u, <https://evil.example>",
     "config/bulletin.conf:6: bad value for 'base-url' in [newsletter]: only RFC 3986 "
     "path characters allowed (no spaces, quotes, <, > or ,)"),
    ("base-url = https://news.example.org", "base-url = https://news example.org",
     "config/bulletin.conf:6: bad value for 'base-url' in [newsletter]: bad host: "
     "expected letters, digits, '-' and dots (an international name in its "
     "xn-- form)"),
    ("[smtp]\n", "[smtp]\nconnections = -4\n",
     "config/bulletin.conf:12: bad value for 'connections' in [smtp]: expected a "
     "whole number from 1 to 64"),
    # it names a file, templates/labels-LANG.ini: no way out of the folder
    ("lang = zh\n", "lang = ../../etc/x\n",
     "config/bulletin.conf:19: bad value for 'lang' in [templates]: expected a "
     "language tag such as en, zh or pt-BR"),
]

COMMANDS = [("sub", "list"), ("sub", "stats"), ("preview", "digests/2021-03")]


def edit_config(project, old, new):
    text = project.config.read_text()
    assert old in text, f"{old!r} not in the config"
    project.config.write_text(text.replace(old, new, 1))


def assert_refused(proc, message):
    assert proc.returncode == EX_CONFIG, proc.stderr
    assert proc.stderr == f"bulletin: error: {message}\n"
    assert proc.stdout == ""


@pytest.mark.parametrize("old,new,message", EMPTY_VALUES + BAD_SYNTAX,
                         ids=[c[1].splitlines()[-1] for c in EMPTY_VALUES + BAD_SYNTAX])
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_bad_value_refused_by_every_command(project, old, new, message, command):
    project.copy_digest()
    edit_config(project, old, new)
    proc = project.run(*command)
    assert_refused(proc, message)
    assert not (project.path / "out").exists()
    assert not (project.path / "subscribers" / "bulletin.db").exists()


@pytest.mark.parametrize("variable,key", EMPTY_ENV)
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_empty_environment_override_refused(project, variable, key, command):
    project.copy_digest()
    proc = project.run(*command, env={variable: ""})
    assert_refused(proc, f"environment variable {variable}: bad value for "
                   f"{key}: must not be empty")


def test_empty_optional_key_means_unset(project):
    """reply-to is optional: empty in the file or the environment, the
    message simply has no Reply-To."""
    digest = project.copy_digest()
    proc = project.run("preview", digest, "-o", "out",
                       env={"BULLETIN_NEWSLETTER_REPLY_TO": ""}, check=True)
    assert proc.stderr == ""
    msg = email.message_from_bytes((project.path / "out" / "2021-03.eml").read_bytes(),
                                   policy=email.policy.default)
    assert msg["Reply-To"] is None
    edit_config(project, "reply-to = editor@news.example.org", "reply-to =")
    project.run("preview", digest, "-o", "out2", check=True)
    msg = email.message_from_bytes((project.path / "out2" / "2021-03.eml").read_bytes(),
                                   policy=email.policy.default)
    assert msg["Reply-To"] is None


def test_long_value_is_read_whole_not_split(project):
    """inih cut lines at 200 bytes and read the rest as a second key."""
    digest = project.copy_digest()
    address = "Example Press, " + "1 Sample Street, " * 60 + "Brussels Reply-To: phisher@evil.example"
    assert len(address) > 1000
    edit_config(project, "postal-address = Example Press, 1 Sample Street, 1000 Brussels, Belgium",
                f"postal-address = {address}")
    project.run("preview", digest, "-o", "out", check=True)
    eml = (project.path / "out" / "2021-03.eml").read_bytes()
    msg = email.message_from_bytes(eml, policy=email.policy.default)
    assert msg["Reply-To"] == "editor@news.example.org"
    assert "phisher" not in str(msg.items())
    assert address in (project.path / "out" / "2021-03.html").read_text()


def test_too_long_line_refused_with_its_line(project):
    digest = project.copy_digest()
    edit_config(project, "postal-address = Example Press, 1 Sample Street, 1000 Brussels, Belgium",
                "postal-address = " + "x" * 5000 + " Reply-To: phisher@evil.example")
    proc = project.run("preview", digest, "-o", "out")
    assert_refused(proc, "config/bulletin.conf:7: bad line: longer than 4096 bytes")
    assert not (project.path / "out").exists()


def test_message_over_max_size_refused(project):
    digest = project.copy_digest()
    edit_config(project, "[smtp]\n", "max-message-size = 64K\n\n[smtp]\n")
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR, proc.stderr
    m = re.fullmatch(r"bulletin: error: the message is (\d+) bytes, larger than "
                     r"the limit of 65536 bytes \(\[newsletter\] max-message-size\)\n",
                     proc.stderr)
    assert m, proc.stderr
    assert int(m.group(1)) > 65536
    assert not (project.path / "out").exists()


def test_message_within_max_size_written(project):
    """The same digest under a limit just above its size goes through."""
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    size = (project.path / "out" / "2021-03.eml").stat().st_size
    # a fresh Message-ID and Date may differ by a few bytes between runs
    limit = size + 1024
    proc = project.run("preview", digest, "-o", "out2",
                       env={"BULLETIN_NEWSLETTER_MAX_MESSAGE_SIZE": str(limit)})
    assert proc.returncode == 0, proc.stderr
    proc = project.run("preview", digest, "-o", "out3",
                       env={"BULLETIN_NEWSLETTER_MAX_MESSAGE_SIZE": str(size // 2)})
    assert proc.returncode == EX_DATAERR
    assert f"larger than the limit of {size // 2} bytes" in proc.stderr
