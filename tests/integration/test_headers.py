"""Subject, From and To as a mail client decodes them: folded at 78
columns, RFC 2047 words where needed, and decoded back exactly."""

import json
import re
from email.header import decode_header, make_header

import pytest

from mail import parse_eml

# "Subject: " takes 9 columns of the first line; a line holds 78.
FIRST_ROOM = 78 - len("Subject: ")

SUBJECTS = {
    "cjk": "arXiv 精选：2021 年 3 月",
    "cjk-long": "本月精选：纯 Transformer 的生成对抗网络、迁移学习的幂律、"
                "机器审稿、对比学习、零样本文生图、因果表示学习与无归一化网络",
    "mixed": "Best of arXiv — 三月 (March) «édition» 😀 and more words to fold",
    "ascii-short": "Best of arXiv: March 2021",
    "ascii-long-sentence": " ".join(["word"] * 40),
    "ascii-long-word": "see " + "x" * 90 + " today",
    "ascii-url": "https://example.org/" + "a/" * 50,
    "ascii-first-word-fits": "y" * FIRST_ROOM + " end",
    "ascii-first-word-too-long": "y" * (FIRST_ROOM + 1) + " end",
    "ascii-word-fits-continuation": "a " + "z" * 77,
    "ascii-word-too-long-continuation": "a " + "z" * 78,
    "ascii-exactly-one-line": "q" * 30 + " " + "r" * (FIRST_ROOM - 31),
    "ascii-one-over-line": "q" * 30 + " " + "r" * (FIRST_ROOM - 30),
    "double-spaces": "two  spaces and   three",
    "lookalike": "=?utf-8?B?SGk=?= is not a word",
    "emoji-only": "😀" * 40,
}
# every length of a CJK subject across the first two word boundaries
for n in range(10, 34):
    SUBJECTS[f"cjk-{n}"] = "中" * n
for n in range(40, 48):
    SUBJECTS[f"one-byte-{n}"] = "é" + "a" * n


def header_lines(raw: bytes):
    head = raw.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")


def unfoldable(line: bytes) -> bool:
    """A List-Unsubscribe URI cannot be folded (RFC 2369 brackets): its
    line may pass 78 octets (a SHOULD), never 998."""
    return re.fullmatch(rb"(List-Unsubscribe:)? <[^<>\s]+>,?", line) is not None


def raw_header(raw: bytes, name: str) -> str:
    """The header's value as written, unfolded."""
    m = re.search(rb"^" + name.encode() + rb": (.*?)\r\n(?![ \t])", raw,
                  re.M | re.S)
    assert m, name
    return m.group(1).replace(b"\r\n", b"").decode("ascii")


def check_wire(raw: bytes, name: str):
    lines = header_lines(raw)
    for line in lines:
        assert len(line) <= 998
        assert len(line) <= 78 or unfoldable(line), line
    # the value starts on the header's own line, never after a bare fold
    first = next(line for line in lines if line.startswith(name.encode() + b":"))
    assert first.rstrip() != name.encode() + b":", first
    assert all(b < 128 for b in raw)


def set_subject(digest, subject):
    issue = digest / "issue.md"
    issue.write_text(re.sub(r"^subject: .*$", "subject: " + json.dumps(
        subject, ensure_ascii=False), issue.read_text(), count=1, flags=re.M))


@pytest.mark.parametrize("key", sorted(SUBJECTS))
def test_subject_decodes_exactly(project, key):
    subject = SUBJECTS[key]
    digest = project.copy_digest()
    set_subject(digest, subject)
    project.run("preview", digest, "-o", "out", check=True)
    eml = project.path / "out" / "2021-03.eml"
    raw = eml.read_bytes()
    check_wire(raw, "Subject")
    assert parse_eml(eml)["Subject"] == subject


def test_plain_ascii_subject_stays_readable(project):
    digest = project.copy_digest()
    set_subject(digest, SUBJECTS["ascii-long-sentence"])
    project.run("preview", digest, "-o", "out", check=True)
    raw = (project.path / "out" / "2021-03.eml").read_bytes()
    assert b"Subject: word word" in raw
    assert b"=?utf-8?" not in raw.split(b"\r\nTo:")[0].split(b"Subject:")[-1]


# Display names: Python's address parser (3.11) keeps the space between
# two encoded words of a phrase, which RFC 2047 §6.2 says to drop, so a
# name longer than one word is checked with the RFC decoder as well.
NAMES = {
    "cjk": "林晓",
    "ascii": "Ada Lovelace",
    "specials": 'Lovelace, Ada "the Countess"',
    "cjk-long": "林" * 60,
    "mixed-long": "Ada Lovelace 林晓 " * 6 + "end",
    "ascii-long-word": "A" * 120,
}


@pytest.mark.parametrize("key", sorted(NAMES))
def test_to_display_name(project, key):
    name = NAMES[key]
    digest = project.copy_digest()
    quoted = '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
    project.run("preview", digest, "-o", "out", "--to",
                f"{quoted} <ada@example.org>", check=True)
    eml = project.path / "out" / "2021-03.eml"
    raw = eml.read_bytes()
    check_wire(raw, "To")
    value = raw_header(raw, "To")
    assert value.endswith(" <ada@example.org>")
    phrase = value[:-len(" <ada@example.org>")]
    if phrase.startswith('"'):
        assert json.loads(phrase) == name  # the same escapes as JSON here
    else:
        assert str(make_header(decode_header(phrase))) == name
    addr = parse_eml(eml)["To"].addresses[0]
    assert addr.addr_spec == "ada@example.org"
    if phrase.count("=?") <= 1:
        assert addr.display_name == name


def test_from_display_name_long_cjk(project):
    name = "最好的 arXiv 论文月报" * 5
    project.config.write_text(project.config.read_text().replace(
        "from = Best of arXiv <", f"from = {name} <"))
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    raw = (project.path / "out" / "2021-03.eml").read_bytes()
    check_wire(raw, "From")
    value = raw_header(raw, "From")
    phrase, addr = value.rsplit(" ", 1)
    assert addr == "<digest@news.example.org>"
    assert str(make_header(decode_header(phrase))) == name


def test_address_longer_than_a_line_gets_its_own(project):
    """An address cannot fold: it goes on a line of its own, which may
    pass 78 octets but never 998."""
    local = "l" * 64
    domain = ".".join(["d" * 60] * 2) + ".example.org"  # 198 octets in all
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", "--to",
                f"林晓 <{local}@{domain}>", check=True)
    eml = project.path / "out" / "2021-03.eml"
    raw = eml.read_bytes()
    to = re.search(rb"^To: .*?\r\n(?! )", raw, re.M | re.S).group(0)
    lines = to.split(b"\r\n")[:-1]
    assert lines[0].startswith(b"To: =?utf-8?B?")
    assert lines[-1] == b" <" + f"{local}@{domain}".encode() + b">"
    for line in header_lines(raw):
        assert len(line) <= 998
        if local.encode() not in line and not unfoldable(line):
            assert len(line) <= 78, line
    addr = parse_eml(eml)["To"].addresses[0]
    assert addr.display_name == "林晓"
    assert addr.addr_spec == f"{local}@{domain}"
