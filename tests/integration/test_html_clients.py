"""The HTML part against what the big mail clients do with it (caniemail's
support data): Outlook for Windows (Word), Yahoo, Apple Mail."""

import re
from html.parser import HTMLParser

import pytest

from mail import html_images, parse_eml

MSO_OPEN = "<!--[if mso]>"
MSO_CLOSE = "<![endif]-->"


@pytest.fixture(scope="module")
def html(tmp_path_factory):
    from conftest import Project
    project = Project(tmp_path_factory.mktemp("clients"))
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    msg = parse_eml(project.path / "out" / "2021-03.eml")
    return msg.get_payload()[1].get_payload()[0].get_content()


def mso_blocks(html):
    """The text of each <!--[if mso]> block; asserts they are well formed."""
    blocks = []
    at = 0
    while True:
        start = html.find("<!--[if", at)
        if start < 0:
            break
        assert html.startswith(MSO_OPEN, start), html[start:start + 40]
        end = html.find(MSO_CLOSE, start)
        assert end > 0, "an [if mso] block is never closed"
        inner = html[start + len(MSO_OPEN):end]
        assert "<!--" not in inner and "-->" not in inner, inner
        blocks.append(inner)
        at = end + len(MSO_CLOSE)
    assert html.count(MSO_CLOSE) == len(blocks)
    return blocks


def outlook_view(html):
    """The document as Outlook for Windows reads it."""
    return html.replace(MSO_OPEN, "").replace(MSO_CLOSE, "")


def browser_view(html):
    """The document as every other client reads it (comments dropped)."""
    return re.sub(r"<!--.*?-->", "", html, flags=re.S)


class Tree(HTMLParser):
    """Checks that table, tr, td, a, p and span nest, and notes for each
    element with a class what tables enclose it."""

    CHECKED = {"table", "tr", "td", "a", "p", "span", "html", "head", "body"}

    def __init__(self):
        super().__init__()
        self.stack = []
        self.enclosing = {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag in self.CHECKED:
            self.stack.append((tag, attrs))
        for cls in (attrs.get("class") or "").split():
            self.enclosing.setdefault(cls, [
                a for t, a in self.stack[:-1] if t == "table"])

    def handle_endtag(self, tag):
        if tag in self.CHECKED:
            assert self.stack, f"</{tag}> closes nothing"
            open_tag, _ = self.stack.pop()
            assert open_tag == tag, f"</{tag}> closes <{open_tag}>"


def style_of(attrs):
    """An element's inline style as a dict of properties."""
    return dict(p.split(":", 1) for p in attrs.get("style", "").split(";")
                if ":" in p)


def parse_tree(doc):
    tree = Tree()
    tree.feed(doc)
    tree.close()
    assert not tree.stack, [t for t, _ in tree.stack]
    return tree


def test_mso_conditionals_well_formed_in_both_views(html):
    blocks = mso_blocks(html)
    assert len(blocks) >= 4
    parse_tree(outlook_view(html))
    parse_tree(browser_view(html))


def test_outlook_gets_a_fixed_600px_table_around_the_card(html):
    outer = parse_tree(outlook_view(html)).enclosing["card"]
    assert any(t.get("width") == "600" and style_of(t).get("width") == "600px"
               for t in outer), outer
    # the browsers' layout has no fixed-width table: max-width does it
    outer = parse_tree(browser_view(html)).enclosing["card"]
    assert not any(style_of(t).get("width") == "600px" for t in outer)
    assert any(style_of(t).get("max-width") == "600px" for t in outer)


def test_outlook_head(html):
    assert re.search(r'<html [^>]*xmlns:v="urn:schemas-microsoft-com:vml"', html)
    assert re.search(r'<html [^>]*xmlns:o="urn:schemas-microsoft-com:office:office"',
                     html)
    head = html.split("</head>")[0]
    mso = "".join(mso_blocks(head))
    assert re.search(r"<o:OfficeDocumentSettings>.*<o:PixelsPerInch>96"
                     r"</o:PixelsPerInch>.*</o:OfficeDocumentSettings>", mso, re.S)
    fonts = re.findall(r"font-family:\s*([^;}]+)", mso)
    assert fonts and fonts[0].split(",")[0].strip(" '\"") == "Microsoft YaHei"
    assert "mso-line-height-rule: exactly" in mso
    # every inline line-height is exact in Outlook
    for style in re.findall(r'style="([^"]*line-height:[^"]*)"', html):
        if "mso-line-height-rule" not in style:
            continue
        assert style.index("mso-line-height-rule:exactly") < style.index("line-height:")


def test_outlook_separates_the_pills(html):
    """Outlook drops the pills' padding and inline-block: something must
    stand between two links for it, and not for the other clients."""
    mso = outlook_view(html)
    pairs = re.findall(r'</a>(.*?)<a class="pill"', mso)
    assert pairs
    for between in pairs:
        assert re.search(r"\||&nbsp;|\s", between), between
    assert not re.findall(r'</a><a class="pill"', mso)
    assert re.findall(r'</a><a class="pill"', browser_view(html))


def test_images_scale_without_a_height_attribute(html):
    images = html_images(html)
    assert images
    for img in images:
        # Yahoo turns height into min-height: the image would stretch
        assert "height" not in img, img
        # Apple Mail ignores the width attribute on cid: images
        style = style_of(img)
        assert style.get("width") == f"{img['width']}px", img
        assert style.get("max-width") == "100%"
        assert style.get("height") == "auto"


def test_apple_keeps_the_layout(html):
    assert '<meta name="x-apple-disable-message-reformatting">' in html
