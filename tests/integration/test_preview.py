"""bulletin preview: the sample issue, as a mail client and a reader see it."""

import re

import pytest

import tokens
from mail import display_width, html_images, html_links, parse_eml

SUBJECT = "arXiv 精选：2021 年 3 月"


@pytest.fixture
def preview(project):
    digest = project.copy_digest()
    proc = project.run("preview", digest, "-o", "out", check=True)
    out = project.path / "out"
    return {
        "proc": proc,
        "eml": out / "2021-03.eml",
        "html": out / "2021-03.html",
        "txt": out / "2021-03.txt",
        "project": project,
    }


def parts(msg):
    alt = msg
    text, related = alt.get_payload()
    return text, related


def test_writes_three_files(preview):
    for key in ("eml", "html", "txt"):
        assert preview[key].stat().st_size > 1000
    assert "wrote out/2021-03.eml" in preview["proc"].stdout


def test_headers_once_each_and_correct(preview):
    msg = parse_eml(preview["eml"])
    for name in ("Date", "From", "Message-ID", "To", "Subject",
                 "MIME-Version", "List-Id", "List-Unsubscribe",
                 "List-Unsubscribe-Post"):
        assert len(msg.get_all(name, [])) == 1, name
    assert msg["Subject"] == SUBJECT
    assert msg["From"].addresses[0].addr_spec == "digest@news.example.org"
    assert msg["From"].addresses[0].display_name == "Best of arXiv"
    assert msg["To"].addresses[0].addr_spec == "ada@example.org"
    assert msg["To"].addresses[0].display_name == "Ada Lovelace"
    assert re.fullmatch(r"<[^<>@\s]+@news\.example\.org>", msg["Message-ID"])
    assert msg["List-Id"] == "Best of arXiv <arxiv.news.example.org>"
    token = tokens.make(0, "2021-03")
    assert msg["List-Unsubscribe"] == (
        f"<https://news.example.org/u/{token}>, "
        f"<mailto:unsubscribe@news.example.org?subject=unsubscribe%20{token}>")
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert msg["Reply-To"].addresses[0].addr_spec == "editor@news.example.org"
    assert msg["Date"].datetime.tzinfo is not None
    assert "Return-Path" not in msg


def test_mime_structure(preview):
    msg = parse_eml(preview["eml"])
    assert msg.get_content_type() == "multipart/alternative"
    text, related = msg.get_payload()
    assert text.get_content_type() == "text/plain"
    assert text.get_content_charset() == "utf-8"
    assert text["Content-Transfer-Encoding"] == "quoted-printable"
    assert related.get_content_type() == "multipart/related"
    assert related.get_param("type") == "text/html"
    html, *images = related.get_payload()
    assert html.get_content_type() == "text/html"
    assert html["Content-Transfer-Encoding"] == "quoted-printable"
    assert len(images) == 3
    for img in images:
        assert img.get_content_type() == "image/png"
        assert img.get_content_disposition() == "inline"
        assert img["Content-Transfer-Encoding"] == "base64"
        assert re.fullmatch(r"<[^<>\s]+@news\.example\.org>", img["Content-ID"])
        assert img.get_content().startswith(b"\x89PNG")


def test_every_part_decodes_and_cids_resolve(preview):
    msg = parse_eml(preview["eml"])
    text, related = msg.get_payload()
    html, *images = related.get_payload()
    body_text = text.get_content()
    body_html = html.get_content()
    assert "TransGAN: Two Transformers Can Make One Strong GAN" in body_text
    assert "为什么值得读" in body_html and "为什么值得读" in body_text
    cids = {img["Content-ID"].strip("<>") for img in images}
    srcs = [src for tag, src in html_links(body_html) if tag == "img"]
    assert srcs, "the sample has figures"
    for src in srcs:
        assert src.startswith("cid:") and src[4:] in cids


def test_wire_format_limits(preview):
    raw = preview["eml"].read_bytes()
    assert all(b < 128 for b in raw), "the message must be 7-bit"
    assert b"\n" not in raw.replace(b"\r\n", b""), "bare LF"
    assert b"\r" not in raw.replace(b"\r\n", b""), "bare CR"
    head, body = raw.split(b"\r\n\r\n", 1)
    for line in raw.split(b"\r\n"):
        assert len(line) <= 998
    for line in body.split(b"\r\n"):
        assert len(line) <= 76, line
    for line in head.split(b"\r\n"):
        # a List-Unsubscribe URI cannot be folded (RFC 2369 brackets):
        # its line may pass 78 (a SHOULD), never 998
        if re.fullmatch(rb"(List-Unsubscribe:)? <[^<>\s]+>,?", line):
            continue
        assert len(line) <= 78, line


def test_every_html_link_reachable_from_text(preview):
    msg = parse_eml(preview["eml"])
    text, related = msg.get_payload()
    body_text = text.get_content()
    body_html = related.get_payload()[0].get_content()
    hrefs = [url for tag, url in html_links(body_html) if tag == "a"]
    assert len(hrefs) > 20
    missing = [url for url in hrefs if url not in body_text]
    assert not missing


def test_html_is_email_safe(preview):
    msg = parse_eml(preview["eml"])
    html = msg.get_payload()[1].get_payload()[0].get_content()
    assert len(html.encode()) < 100 * 1024
    assert re.search(r"<title>(.*?)</title>", html).group(1) == SUBJECT
    for tag in ("<script", "<form", "<iframe", "<object", "<embed"):
        assert tag not in html.lower()
    assert 'name="color-scheme" content="light dark"' in html
    for img in html_images(html):
        # no height attribute: Yahoo reads it as min-height (test_html_clients)
        assert img.get("alt") and img.get("width")
        assert int(img["width"]) <= 536
    assert html.count("<html") == html.count("</html>") == 1
    assert html.count("<body") == html.count("</body>") == 1
    # every element the Markdown renderer writes carries its own style
    for tag in ("p", "li", "h3", "strong", "a"):
        for m in re.finditer(rf"<{tag}\b([^>]*)>", html):
            assert "style=" in m.group(1), m.group(0)


def test_text_wrapped_at_72_columns(preview):
    text = preview["txt"].read_text()
    for line in text.splitlines():
        if display_width(line) > 72:
            # only a run that cannot be broken, such as a URL, may overflow
            assert " " not in line.strip() or re.search(r"https?://\S{40,}", line), line
    assert "[image: " not in text  # the theme's label is used
    assert re.search(r"\[图: [^\]]+\]", text)
    # link references stay apart from the issue's own numbered list
    assert re.search(r"^\[L1\] https://", text, re.M)
    assert re.search(r"^1\. Bootstrap Your Own Latent", text, re.M)
    body = text.split("\n链接\n")[0]
    refs = re.findall(r"\[L(\d+)\]", body)
    listed = re.findall(r"^\[L(\d+)\] https://", text, re.M)
    assert listed == [str(n) for n in range(1, len(listed) + 1)]
    assert set(refs) == set(listed)
    assert not re.search(r"(?<!L)\[\d+\]", text), "a bare [n] is ambiguous"


def test_preview_html_shows_images_inline(preview):
    html = preview["html"].read_text()
    assert "cid:" not in html
    assert html.count('src="data:image/png;base64,') == 3
    assert "Ada Lovelace" not in html  # the name is not shown, the address is
    assert "ada@example.org" in html


def test_to_option_with_utf8_name(project):
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", "--to",
                "林晓 <Lin.Xiao@Example.ORG>", check=True)
    msg = parse_eml(project.path / "out" / "2021-03.eml")
    assert msg["To"].addresses[0].display_name == "林晓"
    assert msg["To"].addresses[0].addr_spec == "Lin.Xiao@example.org"
    raw = (project.path / "out" / "2021-03.eml").read_bytes()
    assert b"=?utf-8?B?" in raw


def test_message_ids_are_unique(project):
    digest = project.copy_digest()
    ids = set()
    for i in range(3):
        project.run("preview", digest, "-o", f"out{i}", check=True)
        ids.add(parse_eml(project.path / f"out{i}" / "2021-03.eml")["Message-ID"])
    assert len(ids) == 3


def test_output_replaces_files_atomically(preview):
    project = preview["project"]
    project.run("preview", project.path / "digests" / "2021-03", "-o", "out",
                check=True)
    leftovers = [p.name for p in (project.path / "out").iterdir()
                 if ".tmp." in p.name]
    assert not leftovers


def test_raw_html_dropped_unless_the_config_allows_it(project):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    entry.write_text(entry.read_text() + '\n<p class="raw">原样 HTML</p>\n')
    project.run("preview", digest, "-o", "out", check=True)
    assert 'class="raw"' not in (project.path / "out" / "2021-03.html").read_text()
    project.config.write_text(project.config.read_text().replace(
        "[templates]\n", "[templates]\nallow-raw-html = true\n"))
    project.run("preview", digest, "-o", "out", check=True)
    assert '<p class="raw">原样 HTML</p>' in (project.path / "out" / "2021-03.html").read_text()
