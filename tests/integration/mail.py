"""Helpers to read what bulletin wrote the way a mail client would."""

import email
import re
import unicodedata
from email import policy
from html.parser import HTMLParser
from pathlib import Path


def parse_eml(path: Path):
    """Returns the message parsed with the modern email API."""
    return email.message_from_bytes(path.read_bytes(), policy=policy.default)


def html_links(html: str):
    """Every href and img src of an HTML document, in order."""
    found = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "a" and "href" in attrs:
                found.append(("a", attrs["href"]))
            if tag == "img":
                found.append(("img", attrs.get("src", "")))

    Collector().feed(html)
    return found


def html_images(html: str):
    """The attributes of every <img>."""
    images = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if tag == "img":
                images.append(dict(attrs))

    Collector().feed(html)
    return images


def display_width(s: str) -> int:
    """Terminal columns: East Asian wide and fullwidth count two."""
    width = 0
    for ch in s:
        if unicodedata.combining(ch) or unicodedata.category(ch) == "Cf":
            continue
        width += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
    return width


URL_RE = re.compile(r"https?://\S+")
