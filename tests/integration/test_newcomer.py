"""A new user's first hour: the README's tour from an empty folder, an
installed copy (make install), the man page, the languages of the labels.
"""

import email
import email.policy
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import BINARY, ROOT

EX_USAGE, EX_NOINPUT, EX_CANTCREAT = 64, 66, 73


def clean_env(**extra):
    """The environment without any BULLETIN_ variable of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULLETIN_")}
    env.update(extra)
    return env


def run(cwd, *args, binary=BINARY, env=None):
    return subprocess.run([str(binary), *map(str, args)], cwd=cwd,
                          env=env or clean_env(), capture_output=True,
                          text=True, timeout=120)


def readme_tour():
    """The shell block after the README's tour marker, as written."""
    text = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- tour:[^>]*-->\n```sh\n(.*?)\n```", text, re.S)
    assert m, "README.md lost its tour block"
    return m.group(1)


def parse_message(path):
    with open(path, "rb") as f:
        msg = email.message_from_binary_file(f, policy=email.policy.default)
    assert msg["Subject"] and msg["From"] and msg["Message-ID"]
    html = msg.get_body(("html",)).get_content()
    text = msg.get_body(("plain",)).get_content()
    return msg, html, text


@pytest.mark.parametrize("copy", ["built", "installed"])
def test_readme_tour_runs_as_written(tmp_path, copy, request):
    """The tour, with ./bulletin or the make install copy on PATH."""
    tour = readme_tour()
    bindir = ROOT if copy == "built" else \
        request.getfixturevalue("installed") / "bin"
    env = clean_env(PATH=f"{bindir}:{os.environ['PATH']}")
    proc = subprocess.run(["bash", "-e", "-c", tour], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "ada@example.org" in proc.stdout
    project = tmp_path / "my-newsletter"
    emls = list((project / "out").glob("*.eml"))
    assert len(emls) == 1
    issue = emls[0].stem
    assert re.fullmatch(r"\d{4}-\d{2}", issue)
    assert (project / "digests" / issue / "issue.md").exists()
    msg, html, text = parse_message(emls[0])
    assert str(msg["Subject"]) == "My Newsletter: the first issue"
    # English labels by default, nothing of the sample's Chinese
    assert '<html lang="en"' in html
    assert "Unsubscribe" in text and "Paper:" in text
    assert not re.search(r"[\u4e00-\u9fff]", html + text)


def test_init_zh_gives_the_sample_labels(tmp_path):
    proc = run(tmp_path, "init", "--lang", "zh")
    assert proc.returncode == 0, proc.stderr
    assert "lang = zh" in (tmp_path / "config" / "bulletin.conf").read_text()
    issue = next((tmp_path / "digests").iterdir())
    proc = run(tmp_path, "preview", issue, "-o", "out")
    assert proc.returncode == 0, proc.stderr
    _, html, text = parse_message(tmp_path / "out" / f"{issue.name}.eml")
    assert '<html lang="zh-CN"' in html
    assert "退订" in text and "论文" in text


def test_the_sample_keeps_its_chinese_theme(tmp_path):
    """make demo: config/bulletin.conf previews the sample in Chinese."""
    secret = tmp_path / "secret"
    secret.write_text("ab" * 32)
    secret.chmod(0o600)
    env = clean_env(BULLETIN_TOKENS_SECRET_FILE=str(secret),
                    BULLETIN_STORE_PATH=str(tmp_path / "none.db"))
    proc = run(ROOT, "-c", "config/bulletin.conf", "preview",
               "digests/2021-03", "-o", tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    _, html, text = parse_message(tmp_path / "2021-03.eml")
    assert '<html lang="zh-CN"' in html
    assert "本邮件发送至" in text and "精选" in text


def test_a_language_without_labels_is_refused(tmp_path):
    assert run(tmp_path, "init").returncode == 0
    issue = next((tmp_path / "digests").iterdir())
    proc = run(tmp_path, "preview", issue, "-o", "out",
               env=clean_env(BULLETIN_TEMPLATES_LANG="fr"))
    assert proc.returncode == 65
    assert proc.stderr == ("bulletin: error: cannot open "
                           "'templates/labels-fr.ini': No such file or "
                           "directory\n")
    assert not (tmp_path / "out").exists()


def test_labels_left_in_theme_ini_are_refused(tmp_path):
    """A theme.ini of before the labels moved says where they live now."""
    assert run(tmp_path, "init").returncode == 0
    theme = tmp_path / "templates" / "theme.ini"
    theme.write_text(theme.read_text() + "\n[labels]\nentry = Pick\n")
    lines = theme.read_text().count("\n")
    issue = next((tmp_path / "digests").iterdir())
    proc = run(tmp_path, "preview", issue, "-o", "out")
    assert proc.returncode == 65
    assert proc.stderr == (f"bulletin: error: templates/theme.ini:{lines - 1}: "
                           "unknown section [labels] (expected [style]: the "
                           "labels live in labels-LANG.ini)\n")


def test_init_language_must_exist(tmp_path):
    proc = run(tmp_path, "init", "--lang", "../x")
    assert proc.returncode == EX_USAGE
    assert "bulletin: error: unknown language '../x'" in proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_init_never_overwrites_templates_or_the_issue(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "theme.ini").write_text("mine")
    proc = run(tmp_path, "init")
    assert proc.returncode == EX_CANTCREAT
    assert ("bulletin: error: templates folder 'templates' already exists: "
            "not overwriting it") in proc.stderr
    assert (tmp_path / "templates" / "theme.ini").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["templates"]


def test_init_is_all_or_nothing(tmp_path):
    """The last step fails (digests is a dangling link, so the issue folder
    cannot be made after the templates were copied): all the rest goes."""
    (tmp_path / "digests").symlink_to(tmp_path / "nowhere")
    proc = run(tmp_path, "init")
    assert proc.returncode == EX_CANTCREAT
    assert re.search(r"bulletin: error: cannot create 'digests/\d{4}-\d{2}'",
                     proc.stderr)
    assert "created" not in proc.stdout
    # not even the folders it made for them
    assert [p.name for p in tmp_path.iterdir()] == ["digests"]


def test_init_without_defaults_says_where_it_looked(tmp_path):
    env = clean_env(BULLETIN_DATADIR=str(tmp_path / "nowhere"))
    proc = run(tmp_path, "init", env=env)
    assert proc.returncode == EX_NOINPUT
    assert (f"bulletin: error: BULLETIN_DATADIR: '{tmp_path}/nowhere' holds "
            "no templates/theme.ini") in proc.stderr
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """make install DESTDIR=...: a staged copy, as a package would hold."""
    dest = tmp_path_factory.mktemp("destdir")
    proc = subprocess.run(["make", "-s", "install", f"DESTDIR={dest}"],
                          cwd=ROOT, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr
    return dest / "usr" / "local"


def test_install_layout(installed):
    assert os.access(installed / "bin" / "bulletin", os.X_OK)
    share = installed / "share" / "bulletin"
    for name in ("theme.ini", "labels-en.ini", "labels-zh.ini",
                 "digest.html.mustache", "digest.txt.mustache"):
        assert (share / "templates" / name).read_bytes() == \
            (ROOT / "templates" / name).read_bytes()
    for lang in ("en", "zh"):
        assert (share / "starter" / lang / "issue.md").exists()
    assert (installed / "share" / "man" / "man1" / "bulletin.1").exists()


def test_installed_copy_inits_and_previews(installed, tmp_path):
    """The installed program finds its own defaults (../share/bulletin),
    not the build tree's: a changed installed label shows."""
    labels = installed / "share" / "bulletin" / "templates" / "labels-en.ini"
    text = labels.read_text()
    try:
        labels.write_text(text.replace("unsubscribe = Unsubscribe",
                                       "unsubscribe = Opt out"))
        binary = installed / "bin" / "bulletin"
        proc = run(tmp_path, "init", binary=binary)
        assert proc.returncode == 0, proc.stderr
        issue = next((tmp_path / "digests").iterdir())
        proc = run(tmp_path, "preview", issue, "-o", "out", binary=binary)
        assert proc.returncode == 0, proc.stderr
        _, _, body = parse_message(tmp_path / "out" / f"{issue.name}.eml")
        assert "Opt out" in body
        # BULLETIN_DATADIR overrides: the build tree's own labels
        other = tmp_path / "other"
        other.mkdir()
        proc = run(other, "init", binary=binary,
                   env=clean_env(BULLETIN_DATADIR=str(ROOT)))
        assert proc.returncode == 0, proc.stderr
        assert (other / "templates" / "labels-en.ini").read_text() == \
            (ROOT / "templates" / "labels-en.ini").read_text()
    finally:
        labels.write_text(text)


def man_render(page, width=80):
    return subprocess.run(["man", "--warnings", "-l", str(page)],
                          env=clean_env(MANWIDTH=str(width), MANPAGER="cat",
                                        PAGER="cat", LANG="C.UTF-8"),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.skipif(not shutil.which("man"), reason="man-db: make deps")
def test_man_page_renders_without_warnings(installed):
    for page in (ROOT / "man" / "bulletin.1",
                 installed / "share" / "man" / "man1" / "bulletin.1"):
        proc = man_render(page)
        assert proc.returncode == 0
        assert proc.stderr == ""
        assert "BULLETIN(1)" in proc.stdout and "EXIT STATUS" in proc.stdout


def test_man_page_covers_every_command_and_key():
    page = (ROOT / "man" / "bulletin.1").read_text()
    usage = run(ROOT, "--help").stdout
    commands = re.findall(r"^  (\S+)\s", usage.split("commands:")[1], re.M)
    assert commands
    for command in commands:
        assert f".SS {command}\n" in page, f"bulletin(1) lacks '{command}'"
    subcommands = re.findall(r"^  (\S+)\s", run(ROOT, "sub", "--help").stdout,
                             re.M)
    for sub in subcommands:
        assert f"sub {sub}" in page, f"bulletin(1) lacks 'sub {sub}'"
    # every configuration key, as the config module names it
    keys = re.findall(r'(?:TEXT|NUM)\("(\w+)", "([\w-]+)"',
                      (ROOT / "src" / "config.c").read_text())
    assert len(keys) > 10
    sections = page.split(".SH CONFIGURATION")[1].split(".SH ENVIRONMENT")[0]
    for section, key in keys:
        part = sections.split(f".SS [{section}]")[1].split(".SS")[0]
        assert f".B {key.replace('-', chr(92) + '-')}\n" in part, \
            f"bulletin(1) lacks [{section}] {key}"


def test_man_page_covers_every_option():
    """Each --option a command's --help names is in the page (troff writes
    its dashes as \\-)."""
    page = (ROOT / "man" / "bulletin.1").read_text()
    helps = [run(ROOT, "--help").stdout]
    commands = re.findall(r"^  (\S+)\s", helps[0].split("commands:")[1], re.M)
    for command in commands:
        text = run(ROOT, command, "--help").stdout
        helps.append(text)
        # a family of subcommands lists them as the top level does
        if "commands:" in text:
            for sub in re.findall(r"^  (\S+)\s", text.split("commands:")[1],
                                  re.M):
                helps.append(run(ROOT, command, sub, "--help").stdout)
    options = {o for text in helps
               for o in re.findall(r"--([a-z][a-z0-9-]+)", text)}
    assert {"lang", "from", "map", "dry-run", "output"} <= options
    for option in options:
        troff = "\\-\\-" + option.replace("-", "\\-")
        assert troff in page, f"bulletin(1) lacks --{option}"
