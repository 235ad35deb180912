"""The peer: Python's email package building the same personalised messages.

usage: render_python.py OUT_DIR N    (OUT_DIR holds a preview of the digest)
It takes the HTML and text bodies and the images of bulletin's own preview,
so both sides build equivalent messages: multipart/alternative with the
text, and multipart/related holding the HTML and its inline images;
quoted-printable bodies, an RFC 2047 subject and display name, the same
headers.
"""

import sys
import time
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path


def main():
    out, n = Path(sys.argv[1]), int(sys.argv[2])
    from email import message_from_bytes, policy
    sample = message_from_bytes(next(out.glob("*.eml")).read_bytes(),
                                policy=policy.default)
    text_part, related = sample.get_payload()
    html_part, *images = related.get_payload()
    text = text_part.get_content()
    html = html_part.get_content()
    imgs = [(i.get_content(), i["Content-ID"], i.get_filename()) for i in images]
    subject = str(sample["Subject"])
    sample_addr = sample["To"].addresses[0].addr_spec
    start = time.perf_counter()
    total = 0
    for i in range(n):
        email = f"reader{i}@example.org"
        unsubscribe = f"https://news.example.org/u/{i * 2654435761:016x}"
        msg = EmailMessage(policy=SMTP)
        msg["Date"] = formatdate(localtime=True)
        msg["From"] = Address("Best of arXiv", "digest", "news.example.org")
        msg["Reply-To"] = "editor@news.example.org"
        msg["To"] = Address(f"读者 {i}", addr_spec=email)
        msg["Subject"] = subject
        msg["Message-ID"] = make_msgid(domain="news.example.org")
        msg["List-Id"] = "Best of arXiv <arxiv.news.example.org>"
        msg["List-Unsubscribe"] = f"<{unsubscribe}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        msg["Auto-Submitted"] = "auto-generated"
        msg.set_content(text.replace(sample_addr, email), cte="quoted-printable")
        msg.add_alternative(html.replace(sample_addr, email), subtype="html",
                            cte="quoted-printable")
        html_msg = msg.get_payload()[1]
        for data, cid, filename in imgs:
            html_msg.add_related(data, "image", "png", cid=cid,
                                 filename=filename, disposition="inline")
        total += len(msg.as_bytes())
    print(f"messages={n} bytes={total} seconds={time.perf_counter() - start:.3f}")


if __name__ == "__main__":
    main()
