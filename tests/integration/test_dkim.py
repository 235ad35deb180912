"""DKIM: bulletin's signatures checked by two verifiers that share no code
with libopendkim or each other (Python's dkim, Perl's Mail::DKIM), on the
sample issue (CJK Subject, inline images); the keys and records that
'bulletin dkim keygen' and 'dkim show' make; every bad key refused."""

import base64
import os
import re
import subprocess
from pathlib import Path

import dkim
import dkim.crypto
import dkim.util
import pytest

HERE = Path(__file__).resolve().parent
PERL_VERIFIER = HERE / "dkim_verify.pl"

RSA_SECTION = """
[dkim]
domain = news.example.org
selector = s2026
key-file = config/rsa.pem
"""
ED_SECTION = RSA_SECTION.replace("s2026", "e2026").replace("rsa.pem",
                                                           "ed.pem")
DUAL_SECTION = RSA_SECTION + "selector2 = e2026\nkey-file2 = config/ed.pem\n"
SIGNED = ["From", "To", "Subject", "Date", "Message-ID", "Reply-To",
          "MIME-Version", "Content-Type", "List-Id", "List-Unsubscribe",
          "List-Unsubscribe-Post"]


# ---- helpers ---------------------------------------------------------------

def records(zone: str):
    """{b'NAME.': b'TXT text'} from zone-file lines as bulletin prints them."""
    found = {}
    for name, body in re.findall(r"^(\S+)\s+IN\s+TXT\s+\((.*?)\)", zone,
                                 re.S | re.M):
        strings = re.findall(r'"([^"]*)"', body)
        assert all(len(s.encode()) <= 255 for s in strings)
        found[name.encode()] = "".join(strings).encode()
    return found


def python_verify(eml: bytes, zone: str):
    """The result of Python's dkim for each signature, in order (with
    idx > 0 a body hash mismatch is raised rather than returned)."""
    recs = records(zone)
    count = len(re.findall(rb"^DKIM-Signature:", eml, re.M | re.I))
    results = []
    for i in range(count):
        try:
            results.append(dkim.DKIM(eml).verify(
                idx=i, dnsfunc=lambda n, timeout=5: recs.get(n)))
        except dkim.ValidationError:
            results.append(False)
    return results


def perl_verify(eml: bytes, zone: str, tmp: Path):
    """Mail::DKIM's (result, algorithm) for each signature, in order."""
    zone_file = tmp / "zone.txt"
    zone_file.write_text(zone)
    proc = subprocess.run(["perl", str(PERL_VERIFIER), str(zone_file)],
                          input=eml, capture_output=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.decode().splitlines()
    assert lines[-1].startswith("overall ")
    return [tuple(line.split()[:2]) for line in lines[:-1]]


def signatures(eml: bytes):
    """The DKIM-Signature fields' tags, unfolded, in order."""
    head = eml.split(b"\r\n\r\n", 1)[0]
    fields = re.findall(rb"^DKIM-Signature:(.*?)(?=\r\n\S)", head + b"\r\nX",
                        re.M | re.S)
    return [dkim.util.parse_tag_value(re.sub(rb"\s+", b"", f))
            for f in fields]


def add_section(project, section):
    with open(project.config, "a") as f:
        f.write(section)


def keygen(project, *args):
    return project.run("dkim", "keygen", *args, check=True)


@pytest.fixture(scope="module")
def keys(tmp_path_factory):
    """An RSA-2048 and an Ed25519 key made by bulletin, and a 1024-bit RSA
    key made by OpenSSL (bulletin refuses to make one)."""
    d = tmp_path_factory.mktemp("keys")
    (d / "config").mkdir()
    (d / "config" / "bulletin.conf").write_text(
        "[newsletter]\nname = K\nfrom = k@news.example.org\n"
        "list-id = k.news.example.org\nbase-url = https://news.example.org\n"
        "postal-address = 1 Street\n")
    run = lambda *a: subprocess.run(  # noqa: E731
        [str(HERE.parents[1] / "bulletin"), *a], cwd=d, check=True,
        capture_output=True, text=True)
    out = {
        "rsa": run("dkim", "keygen", "-s", "x", "-o", "rsa.pem").stdout,
        "ed": run("dkim", "keygen", "-s", "x", "-t", "ed25519",
                  "-o", "ed.pem").stdout,
    }
    subprocess.run(["openssl", "genrsa", "-out", str(d / "weak.pem"), "1024"],
                   check=True, capture_output=True)
    return {name: (d / f"{name}.pem").read_bytes()
            for name in ("rsa", "ed", "weak")} | {"out": out}


def install(project, keys, *names):
    for name in names:
        path = project.path / "config" / f"{name}.pem"
        path.write_bytes(keys[name])
        path.chmod(0o600)


@pytest.fixture
def signed(project, keys):
    """preview with a [dkim] section; returns (eml bytes, zone from show)."""
    def make(section, *key_names):
        install(project, keys, *key_names)
        add_section(project, section)
        digest = project.copy_digest()
        project.run("preview", digest, "-o", "out", check=True)
        zone = project.run("dkim", "show", check=True).stdout
        return (project.path / "out" / "2021-03.eml").read_bytes(), zone
    return make


# ---- both verifiers accept what bulletin signs ----------------------------

@pytest.mark.parametrize("section,key_names,algorithms", [
    (RSA_SECTION, ["rsa"], ["rsa-sha256"]),
    (ED_SECTION, ["ed"], ["ed25519-sha256"]),
    (DUAL_SECTION, ["rsa", "ed"], ["rsa-sha256", "ed25519-sha256"]),
])
def test_preview_signature_verifies_twice(signed, tmp_path, section,
                                          key_names, algorithms):
    eml, zone = signed(section, *key_names)
    assert [s[b"a"].decode() for s in signatures(eml)] == algorithms
    assert python_verify(eml, zone) == [True] * len(algorithms)
    assert perl_verify(eml, zone, tmp_path) == [
        ("pass", f"a={a}") for a in algorithms]
    # the sample issue is the hard case: encoded CJK Subject, images
    assert b"Subject: =?utf-8?B?" in eml
    assert eml.count(b"Content-Type: image/") >= 1


def test_signature_tags(signed):
    eml, _ = signed(DUAL_SECTION, "rsa", "ed")
    for tags in signatures(eml):
        assert tags[b"d"] == b"news.example.org"
        assert tags[b"c"] == b"relaxed/relaxed"
        assert b"l" not in tags
        signed_fields = tags[b"h"].decode().lower().split(":")
        # each field present once is listed twice: signed and over-signed
        for name in SIGNED:
            assert signed_fields.count(name.lower()) == 2, name
        assert len(signed_fields) == 2 * len(SIGNED)


def test_signature_fields_fold_within_78_columns(signed):
    eml, _ = signed(DUAL_SECTION, "rsa", "ed")
    head = eml.split(b"\r\n\r\n", 1)[0].decode()
    in_sig = False
    for line in head.split("\r\n"):
        if not line[:1].isspace():
            in_sig = line.startswith("DKIM-Signature:")
        if in_sig:
            assert len(line) <= 78, line
    assert "\n" not in head.replace("\r\n", "")


def test_the_message_after_the_signatures_is_unchanged(project, keys, signed):
    eml, _ = signed(RSA_SECTION, "rsa")
    head = eml.split(b"\r\n\r\n", 1)[0]
    last = [m.end() for m in re.finditer(rb"DKIM-Signature:.*?\r\n(?=\S)",
                                         head, re.S)][-1]
    assert eml[last:].startswith(b"Date: ")


# ---- what must break a signature -------------------------------------------

def tamper_body(eml):
    i = eml.index(b"\r\n\r\n") + 200
    return eml[:i] + bytes([eml[i] ^ 1]) + eml[i + 1:]


def tamper_field(name):
    def change(eml):
        m = re.search(rb"^" + name + rb": .*?[a-z]", eml, re.M)
        i = m.end() - 1
        return eml[:i] + bytes([eml[i] ^ 0x20]) + eml[i + 1:]
    return change


def add_list_unsubscribe(eml):
    i = eml.index(b"\r\n\r\n") + 2
    return (eml[:i] + b"List-Unsubscribe: <https://evil.example/u/x>\r\n"
            + eml[i:])


@pytest.mark.parametrize("tamper", [
    tamper_body, tamper_field(b"List-Unsubscribe"), tamper_field(b"Subject"),
    add_list_unsubscribe,
], ids=["body", "list-unsubscribe", "subject", "second-list-unsubscribe"])
def test_tampering_fails_both_verifiers(signed, tmp_path, tamper):
    eml, zone = signed(DUAL_SECTION, "rsa", "ed")
    bad = tamper(eml)
    assert bad != eml and len(bad) >= len(eml)
    assert python_verify(bad, zone) == [False, False]
    assert [r for r, _ in perl_verify(bad, zone, tmp_path)] == ["fail"] * 2


def test_another_key_fails_both_verifiers(signed, keys, tmp_path):
    """The verifiers check the key: the right record is what passes."""
    eml, zone = signed(DUAL_SECTION, "rsa", "ed")
    other = subprocess.run(
        ["openssl", "genpkey", "-algorithm", "ed25519"], check=True,
        capture_output=True).stdout
    raw = subprocess.run(["openssl", "pkey", "-pubout", "-outform", "DER"],
                         input=other, check=True,
                         capture_output=True).stdout[-32:]
    wrong = re.sub(r'k=ed25519; p=[^"]*',
                   "k=ed25519; p=" + base64.b64encode(raw).decode(), zone)
    assert python_verify(eml, wrong) == [True, False]
    assert [r for r, _ in perl_verify(eml, wrong, tmp_path)] == [
        "pass", "fail"]


# ---- keygen and show --------------------------------------------------------

def test_keygen_writes_key_and_record_that_verifies(project, tmp_path):
    add_section(project, RSA_SECTION)
    proc = keygen(project)
    key = project.path / "config" / "rsa.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert "wrote config/rsa.pem" in proc.stdout
    recs = records(proc.stdout)
    assert list(recs) == [b"s2026._domainkey.news.example.org."]
    txt = next(iter(recs.values()))
    tags = dkim.util.parse_tag_value(txt)
    assert tags[b"v"] == b"DKIM1" and tags[b"k"] == b"rsa"
    pub = dkim.crypto.parse_public_key(base64.b64decode(tags[b"p"]))
    assert pub["modulus"].bit_length() == 2048
    # a record over 255 octets is split into several strings
    assert len(re.findall(r'"[^"]*"', proc.stdout)) == 2
    assert records(project.run("dkim", "show", check=True).stdout) == recs
    project.run("preview", project.copy_digest(), "-o", "out", check=True)
    eml = (project.path / "out" / "2021-03.eml").read_bytes()
    assert python_verify(eml, proc.stdout) == [True]
    assert perl_verify(eml, proc.stdout, tmp_path) == [
        ("pass", "a=rsa-sha256")]


def test_keygen_ed25519_for_selector2(project, tmp_path):
    add_section(project, DUAL_SECTION)
    rsa = keygen(project)
    ed = keygen(project, "--type", "ed25519")
    assert "key-file2 = config/ed.pem" in ed.stdout
    tags = dkim.util.parse_tag_value(
        records(ed.stdout)[b"e2026._domainkey.news.example.org."])
    assert tags[b"k"] == b"ed25519"
    assert len(base64.b64decode(tags[b"p"])) == 32
    project.run("preview", project.copy_digest(), "-o", "out", check=True)
    eml = (project.path / "out" / "2021-03.eml").read_bytes()
    zone = rsa.stdout + ed.stdout
    assert python_verify(eml, zone) == [True, True]
    assert perl_verify(eml, zone, tmp_path) == [
        ("pass", "a=rsa-sha256"), ("pass", "a=ed25519-sha256")]


def test_keygen_without_dkim_section_uses_from_domain(project):
    proc = keygen(project, "--selector", "jan", "--bits", "3072")
    key = project.path / "config" / "dkim-jan.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    txt = records(proc.stdout)[b"jan._domainkey.news.example.org."]
    pub = dkim.crypto.parse_public_key(
        base64.b64decode(dkim.util.parse_tag_value(txt)[b"p"]))
    assert pub["modulus"].bit_length() == 3072
    assert "domain = news.example.org" in proc.stdout


def test_keygen_never_overwrites(project):
    add_section(project, RSA_SECTION)
    keygen(project)
    key = project.path / "config" / "rsa.pem"
    before = key.read_bytes()
    proc = project.run("dkim", "keygen")
    assert proc.returncode == 73
    assert "config/rsa.pem" in proc.stderr and "exists" in proc.stderr
    assert proc.stdout == ""
    assert key.read_bytes() == before


@pytest.mark.parametrize("args,message", [
    (["--bits", "1024"], "bad --bits '1024': expected 2048 to 4096"),
    (["--bits", "8192"], "bad --bits '8192': expected 2048 to 4096"),
    (["--bits", "2k"], "bad --bits '2k': expected 2048 to 4096"),
    (["--type", "dsa"], "unknown key type 'dsa': expected rsa or ed25519"),
    (["--type", "ed25519", "--bits", "2048"],
     "--bits is for RSA keys: an Ed25519 key has a fixed size"),
    (["--selector", "../x"],
     "bad --selector '../x': expected letters, digits, '-' and dots"),
    (["--selector", "a b"],
     "bad --selector 'a b': expected letters, digits, '-' and dots"),
    (["extra"], "dkim keygen takes no arguments"),
])
def test_keygen_bad_usage(project, args, message):
    proc = project.run("dkim", "keygen", *args)
    assert proc.returncode == 64
    assert f"bulletin: error: {message}\n" in proc.stderr
    assert list((project.path / "config").glob("*.pem")) == []


def test_show_without_dkim_section(project):
    proc = project.run("dkim", "show")
    assert proc.returncode == 78
    assert proc.stderr == (
        "bulletin: error: config/bulletin.conf has no [dkim] section: "
        "'bulletin dkim keygen' makes a key and says what to add\n")


def test_no_dkim_section_no_signature(project):
    project.run("preview", project.copy_digest(), "-o", "out", check=True)
    eml = (project.path / "out" / "2021-03.eml").read_bytes()
    assert b"DKIM-Signature" not in eml


def test_parent_domain_aligns(signed, tmp_path):
    eml, zone = signed(RSA_SECTION.replace("news.example.org", "example.org"),
                       "rsa")
    assert signatures(eml)[0][b"d"] == b"example.org"
    assert python_verify(eml, zone) == [True]


# ---- refusals, before anything is written ---------------------------------

CONF = "config/bulletin.conf"
KEY = f"{CONF}: [dkim] key-file 'config/rsa.pem'"


def refusal(project, keys, section, prepare=None):
    """Runs preview and show; both must refuse with 78 and the same
    message, and preview must write nothing."""
    install(project, keys, "rsa")
    add_section(project, section)
    if prepare:
        prepare(project.path / "config" / "rsa.pem")
    digest = project.copy_digest()
    messages = []
    for args in (["preview", digest, "-o", "out"], ["dkim", "show"]):
        proc = project.run(*args)
        assert proc.returncode == 78, proc.stderr
        assert proc.stdout == ""
        messages.append(proc.stderr)
    assert not (project.path / "out").exists()
    assert messages[0] == messages[1]
    return messages[0]


def test_refuses_key_readable_by_others(project, keys):
    assert refusal(project, keys, RSA_SECTION,
                   lambda p: p.chmod(0o644)) == (
        f"bulletin: error: {KEY} can be read by others (mode 0644): make it "
        "readable by its owner alone (chmod 600)\n")


def test_refuses_key_readable_by_group(project, keys):
    assert "(mode 0640)" in refusal(project, keys, RSA_SECTION,
                                    lambda p: p.chmod(0o640))


def test_refuses_missing_key(project, keys):
    assert refusal(project, keys, RSA_SECTION, os.unlink) == (
        f"bulletin: error: {KEY}: cannot open: No such file or directory\n")


def test_refuses_key_that_does_not_parse(project, keys):
    def garble(p):
        p.write_bytes(keys["rsa"].replace(b"MII", b"AAA"))
    message = refusal(project, keys, RSA_SECTION, garble)
    assert message.startswith(
        f"bulletin: error: {KEY}: not an unencrypted PEM private key (")


def test_refuses_a_certificate_or_text(project, keys):
    def text(p):
        p.write_text("hello\n")
    assert refusal(project, keys, RSA_SECTION, text).startswith(
        f"bulletin: error: {KEY}: not an unencrypted PEM private key (")


def test_refuses_1024_bit_key(project, keys):
    def weak(p):
        p.write_bytes(keys["weak"])
    assert refusal(project, keys, RSA_SECTION, weak) == (
        f"bulletin: error: {KEY}: an RSA key of 1024 bits is too weak: DKIM "
        "needs 2048 bits or more\n")


def test_refuses_ecdsa_key(project, keys):
    def ecdsa(p):
        p.write_bytes(subprocess.run(
            ["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt",
             "ec_paramgen_curve:P-256"], check=True,
            capture_output=True).stdout)
    assert refusal(project, keys, RSA_SECTION, ecdsa) == (
        f"bulletin: error: {KEY}: an algorithm DKIM does not sign with "
        "(EC/ECDSA): use RSA (2048 bits or more) or Ed25519\n")


@pytest.mark.parametrize("domain", ["other.example.org", "example.com",
                                    "org", "ws.example.org"])
def test_refuses_domain_not_aligned_with_from(project, keys, domain):
    section = RSA_SECTION.replace("domain = news.example.org",
                                  f"domain = {domain}")
    assert refusal(project, keys, section) == (
        f"bulletin: error: {CONF}: [dkim] domain '{domain}' does not align "
        "with the From domain 'news.example.org': it must be that domain or "
        "a parent of it (DMARC)\n")


@pytest.mark.parametrize("drop,missing,group", [
    ("selector = s2026\n", "selector", "domain, selector and key-file"),
    ("key-file = config/rsa.pem\n", "key-file",
     "domain, selector and key-file"),
    ("domain = news.example.org\n", "domain", "domain, selector and key-file"),
])
def test_refuses_incomplete_section(project, keys, drop, missing, group):
    assert refusal(project, keys, RSA_SECTION.replace(drop, "")) == (
        f"bulletin: error: {CONF}: [dkim] '{missing}' is missing ({group} go "
        "together)\n")


def test_refuses_selector2_without_key_file2(project, keys):
    assert refusal(project, keys, RSA_SECTION + "selector2 = e1\n") == (
        f"bulletin: error: {CONF}: [dkim] 'key-file2' is missing (selector2 "
        "and key-file2 go together)\n")


def test_refuses_bad_selector_syntax(project, keys):
    install(project, keys, "rsa")
    add_section(project, RSA_SECTION.replace("s2026", "s 2026"))
    line = project.config.read_text().splitlines().index("selector = s 2026")
    proc = project.run("dkim", "show")
    assert proc.returncode == 78
    assert proc.stderr == (
        f"bulletin: error: {CONF}:{line + 1}: bad value for 'selector' in [dkim]: "
        "expected a DNS name of letters, digits, '-' and dots (an "
        "international name in its xn-- form)\n")


def test_environment_names_the_key(project, keys):
    install(project, keys, "rsa")
    add_section(project, RSA_SECTION)
    proc = project.run("dkim", "show",
                       env={"BULLETIN_DKIM_KEY_FILE": "config/none.pem"})
    assert proc.returncode == 78
    assert proc.stderr == (
        f"bulletin: error: {CONF}: [dkim] key-file 'config/none.pem': "
        "cannot open: No such file or directory\n")


def test_refuses_huge_key_file(project, keys):
    def huge(p):
        p.write_bytes(keys["rsa"] * 50)
    assert refusal(project, keys, RSA_SECTION, huge) == (
        f"bulletin: error: {KEY}: larger than 64 KB: not a private key\n")


def test_refuses_folder_as_key(project, keys):
    def folder(p):
        p.unlink()
        p.mkdir(mode=0o700)
    assert refusal(project, keys, RSA_SECTION, folder) == (
        f"bulletin: error: {KEY}: not a regular file\n")


def test_domain_is_lower_cased(signed):
    eml, zone = signed(RSA_SECTION.replace("domain = news.example.org",
                                           "domain = News.Example.ORG"), "rsa")
    assert signatures(eml)[0][b"d"] == b"news.example.org"
    assert "s2026._domainkey.news.example.org." in zone
    assert python_verify(eml, zone) == [True]


def test_help_needs_no_config(tmp_path):
    for args in (["dkim", "--help"], ["dkim", "keygen", "--help"],
                 ["dkim", "show", "--help"]):
        proc = subprocess.run([str(HERE.parents[1] / "bulletin"), *args],
                              cwd=tmp_path, capture_output=True, text=True)
        assert proc.returncode == 0, args
        assert proc.stdout.startswith("usage: bulletin dkim"), args


def test_bad_subcommand(project):
    proc = project.run("dkim", "rotate")
    assert proc.returncode == 64
    assert proc.stderr == ("bulletin: error: unknown command 'dkim rotate' "
                           "(see 'bulletin dkim --help')\n")
    proc = project.run("dkim")
    assert proc.returncode == 64
    assert proc.stderr.startswith("usage: bulletin dkim keygen | show")


def test_refuses_second_key_without_first(project, keys):
    install(project, keys, "ed")
    add_section(project, "\n[dkim]\nselector2 = e1\nkey-file2 = config/ed.pem\n")
    proc = project.run("dkim", "show")
    assert proc.returncode == 78
    assert proc.stderr == (
        f"bulletin: error: {CONF}: [dkim] selector2 needs domain, selector "
        "and key-file\n")


def test_absent_field_cannot_be_added(project, keys, signed, tmp_path):
    """Without reply-to the message has no Reply-To; h= still names it
    once, so one added on the way breaks the signature."""
    project.config.write_text(re.sub(r"^reply-to = .*\n", "",
                                     project.config.read_text(), flags=re.M))
    eml, zone = signed(RSA_SECTION, "rsa")
    assert b"\r\nReply-To:" not in eml.split(b"\r\n\r\n", 1)[0]
    fields = signatures(eml)[0][b"h"].decode().lower().split(":")
    assert fields.count("reply-to") == 1
    assert fields.count("from") == 2
    assert python_verify(eml, zone) == [True]
    i = eml.index(b"\r\n\r\n") + 2
    bad = eml[:i] + b"Reply-To: evil@example.com\r\n" + eml[i:]
    assert python_verify(bad, zone) == [False]
    assert [r for r, _ in perl_verify(bad, zone, tmp_path)] == ["fail"]


# ---- send signs every message it writes -------------------------------------

def sent_messages(project):
    new = project.path / "outbox" / "new"
    return [p.read_bytes() for p in sorted(new.iterdir())]


def test_every_sent_message_verifies(project, keys, tmp_path):
    """send signs each recipient's own message (To, Message-ID and the
    List-Unsubscribe token differ) after it is complete: both verifiers
    accept every one, and both List-Unsubscribe headers are signed."""
    install(project, keys, "rsa", "ed")
    add_section(project, DUAL_SECTION)
    for i in range(3):
        project.run("sub", "add", f"reader{i}@example.org", "--name",
                    f"读者 {i}", check=True)
    digest = project.copy_digest()
    proc = project.run("send", digest, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert "unsigned" not in proc.stderr
    zone = project.run("dkim", "show", check=True).stdout
    messages = sent_messages(project)
    assert len(messages) == 3
    for eml in messages:
        assert python_verify(eml, zone) == [True, True]
        assert perl_verify(eml, zone, tmp_path) == [
            ("pass", "a=rsa-sha256"), ("pass", "a=ed25519-sha256")]
        for tags in signatures(eml):
            signed_fields = tags[b"h"].lower().split(b":")
            assert signed_fields.count(b"list-unsubscribe") >= 2
            assert b"list-unsubscribe-post" in signed_fields


def test_send_without_dkim_warns_once(project):
    project.run("sub", "add", "reader@example.org", check=True)
    digest = project.copy_digest()
    proc = project.run("send", digest, "--yes")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.count("no [dkim] section: messages go out unsigned") == 1
    assert not re.search(rb"^DKIM-Signature:", sent_messages(project)[0], re.M)


def test_send_refuses_a_bad_key_before_sending(project, keys):
    install(project, keys, "weak")
    add_section(project, RSA_SECTION.replace("rsa.pem", "weak.pem"))
    project.run("sub", "add", "reader@example.org", check=True)
    digest = project.copy_digest()
    proc = project.run("send", digest, "--yes")
    assert proc.returncode == 78
    assert "1024" in proc.stderr
    assert not (project.path / "outbox").exists()


def test_parallel_signing_keeps_each_message_its_own(project, keys):
    """send signs in worker threads and sends in the order they hand
    messages back: with 50 recipients over 4 connections, every message
    verifies with both keys, each recipient gets exactly one message, and
    that message's signed To is that recipient (none mixed up)."""
    install(project, keys, "rsa", "ed")
    add_section(project, DUAL_SECTION)
    emails = [f"reader{i}@example.org" for i in range(50)]
    csv = project.path / "subs.csv"
    csv.write_text("email\n" + "\n".join(emails) + "\n")
    project.run("sub", "import", csv, check=True)
    proc = project.run("send", project.copy_digest(), "--yes",
                       "--connections", "4")
    assert proc.returncode == 0, proc.stderr
    zone = project.run("dkim", "show", check=True).stdout
    messages = sent_messages(project)
    assert len(messages) == len(emails)
    envelope_to = []
    for eml in messages:
        assert python_verify(eml, zone) == [True, True]
        to = re.search(rb"^To: *(.*)\r?$", eml, re.M | re.I).group(1)
        envelope_to.append(to.decode().strip())
        assert b"to" in signatures(eml)[0][b"h"].lower().split(b":")
    assert sorted(envelope_to) == sorted(emails)
