"""SpamAssassin's local rules on the previewed message: a well-formed
message scores about 0, and none of the structural rules fire."""

import re
import shutil
import subprocess

import pytest

SPAMASSASSIN = shutil.which("spamassassin")

# EMAIL-NOTES: the rules a correct message must never trigger.
FORBIDDEN = """MISSING_DATE MISSING_MID MISSING_HEADERS INVALID_MSGID INVALID_DATE
MIME_HTML_ONLY MIME_HTML_MOSTLY MPART_ALT_DIFF MPART_ALT_DIFF_COUNT
MIME_QP_LONG_LINE HTML_IMAGE_ONLY_04 HTML_IMAGE_ONLY_08 HTML_IMAGE_ONLY_12
HTML_IMAGE_ONLY_16 HTML_IMAGE_ONLY_20 HTML_IMAGE_ONLY_24 HTML_IMAGE_ONLY_28
HTML_IMAGE_ONLY_32 HTML_TITLE_SUBJ_DIFF SUBJ_ILLEGAL_CHARS FROM_EXCESS_BASE64""".split()


@pytest.mark.skipif(not SPAMASSASSIN, reason="spamassassin is installed by make deps")
def test_sample_scores_near_zero(project, tmp_path):
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    eml = (project.path / "out" / "2021-03.eml").read_bytes()
    proc = subprocess.run([SPAMASSASSIN, "-L", "-t"], input=eml,
                          capture_output=True, timeout=120,
                          env={"HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    report = proc.stdout.decode(errors="replace")
    score = float(re.search(r"Content analysis details:\s+\((-?[\d.]+) points",
                            report).group(1))
    fired = set(re.findall(r"^\s*-?[\d.]+ ([A-Z0-9_]+)\s", report, re.M))
    assert not fired & set(FORBIDDEN), fired
    assert score < 1.0, report
