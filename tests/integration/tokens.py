"""Unsubscribe tokens as token.c makes them, written out independently
from the scheme in token.h, so a test can make and read them."""

import base64
import hashlib
import hmac
import re
import struct

from conftest import SECRET

TOKEN_RE = r"[A-Za-z0-9_-]+"


def make(sub_id: int, campaign: str = "", secret: str = SECRET) -> str:
    """VERSION(1) | ID(8) | N(1) | CAMPAIGN | HMAC-SHA256[:16], base64url."""
    body = struct.pack(">BQB", 1, sub_id, len(campaign)) + campaign.encode()
    mac = hmac.new(bytes.fromhex(secret), b"bulletin-unsubscribe\0" + body,
                   hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(body + mac).decode().rstrip("=")


def read(token: str):
    """(subscriber id, campaign) of a genuine token; raises if forged."""
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    version, sub_id, n = struct.unpack(">BQB", raw[:10])
    campaign = raw[10:10 + n].decode()
    assert version == 1 and make(sub_id, campaign) == token, token
    return sub_id, campaign


def from_url(url: str) -> str:
    return re.fullmatch(r"https://news\.example\.org/u/(" + TOKEN_RE + ")",
                        url).group(1)
