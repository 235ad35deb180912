"""bulletin preview on bad input: a clear message, an exit status, no files."""

import pytest

EX_USAGE, EX_DATAERR, EX_NOINPUT, EX_CONFIG = 64, 65, 66, 78


def edit(path, old, new):
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


CASES = [
    # (file, old text, new text, expected message)
    ("issue.md", 'subject: "arXiv 精选：2021 年 3 月"\n', "",
     "issue.md:1: missing required 'subject'"),
    ("01-transgan.md", 'title: "TransGAN: Two Transformers Can Make One Strong GAN"\n',
     "", "01-transgan.md:1: missing required 'title'"),
    ("01-transgan.md", "url: https://arxiv.org/abs/2102.07074\n", "",
     "01-transgan.md:1: missing required 'url'"),
    ("01-transgan.md", "url: https://arxiv.org/abs/2102.07074",
     "url: ftp://arxiv.org/abs/2102.07074",
     "01-transgan.md:3: 'url' is not an http(s) URL: 'ftp://arxiv.org/abs/2102.07074'"),
    ("01-transgan.md", "code: https://github.com/VITA-Group/TransGAN",
     "code: javascript:alert(1)", "01-transgan.md:6: link 'code' is not an http(s) URL"),
    ("01-transgan.md", "tags: [GAN, Transformer, 图像生成]",
     "tags: [GAN, Transformer", "01-transgan.md:7: front matter is not valid YAML"),
    ("01-transgan.md", "tags: [GAN", "colour: red\ntags: [GAN",
     "01-transgan.md:7: unknown key 'colour'"),
    ("01-transgan.md", "(fig-transgan-attention.png)", "(fig-missing.png)",
     "01-transgan.md:24: image 'fig-missing.png' does not exist"),
    ("01-transgan.md", "(fig-transgan-attention.png)", "(../../etc/passwd)",
     "01-transgan.md:24: image '../../etc/passwd' must be a file in the digest folder"),
    ("01-transgan.md", "(fig-transgan-attention.png)",
     "(https://example.org/x.png)",
     "01-transgan.md:24: image 'https://example.org/x.png' must be a file in the digest folder"),
    ("01-transgan.md", "[论文 PDF](https://arxiv.org/pdf/2102.07074.pdf)",
     "[论文 PDF](paper.pdf)",
     "01-transgan.md:22: link 'paper.pdf' must be an absolute http(s) or mailto URL"),
    ("01-transgan.md", 'title: "TransGAN: Two',
     'title: "Injected\\r\\nBcc: victim@example.org\\r\\nX: TransGAN: Two',
     "01-transgan.md:2: 'title' must be one line"),
    ("issue.md", "每个月", "每个\x07月", "issue.md:8: control character U+0007"),
]


@pytest.mark.parametrize("name,old,new,message", CASES,
                         ids=[c[3][:40] for c in CASES])
def test_bad_digest_is_refused(project, name, old, new, message):
    digest = project.copy_digest()
    edit(digest / name, old, new)
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR, proc.stderr
    assert message in proc.stderr
    assert str(digest / name) in proc.stderr or name in proc.stderr
    assert not (project.path / "out").exists(), "nothing may be written"


def test_error_line_numbers_point_into_the_body(project):
    digest = project.copy_digest()
    path = digest / "02-scaling-laws-transfer.md"
    lines = path.read_text().splitlines()
    lines.append("")
    lines.append("![a figure](nowhere.png)")
    path.write_text("\n".join(lines) + "\n")
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR
    assert f"02-scaling-laws-transfer.md:{len(lines)}: image 'nowhere.png'" in proc.stderr


def test_every_problem_is_reported(project):
    digest = project.copy_digest()
    edit(digest / "01-transgan.md", "url: https://arxiv.org/abs/2102.07074\n", "")
    edit(digest / "09-paq.md", "title:", "titel:")
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR
    assert "01-transgan.md:1: missing required 'url'" in proc.stderr
    assert "09-paq.md:2: unknown key 'titel'" in proc.stderr


def test_invalid_utf8(project):
    digest = project.copy_digest()
    path = digest / "03-automate-scientific-reviewing.md"
    lines = path.read_bytes().count(b"\n")
    path.write_bytes(path.read_bytes() + b"\xff\xfe\n")
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR
    assert f"03-automate-scientific-reviewing.md:{lines + 1}: not valid UTF-8" in proc.stderr


def test_missing_digest(project):
    proc = project.run("preview", "digests/1999-01", "-o", "out")
    assert proc.returncode == EX_NOINPUT
    assert "cannot read digest folder 'digests/1999-01'" in proc.stderr


def test_usage(project):
    proc = project.run("preview")
    assert proc.returncode == EX_USAGE
    assert "usage: bulletin preview DIGEST" in proc.stderr
    proc = project.run("preview", "--bogus", "x")
    assert proc.returncode == EX_USAGE
    assert "unrecognized option '--bogus'" in proc.stderr
    assert "usage: bulletin preview DIGEST" in proc.stderr
    proc = project.run("preview", "--help")
    assert proc.returncode == 0 and "usage: bulletin preview" in proc.stdout


def test_recipient_with_line_break_is_refused(project):
    digest = project.copy_digest()
    proc = project.run("preview", digest, "-o", "out", "--to",
                       "Eve\r\nBcc: x@example.org <eve@example.org>")
    assert proc.returncode == EX_USAGE
    assert "bad recipient" in proc.stderr
    assert not (project.path / "out").exists()


def test_bad_config_names_file_and_line(project):
    digest = project.copy_digest()
    text = project.config.read_text().replace("[smtp]", "[smtp]\nconections = 4")
    project.config.write_text(text)
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_CONFIG
    assert "bulletin.conf:12: unknown key 'conections' in section [smtp]" in proc.stderr


def test_missing_config_key(project):
    digest = project.copy_digest()
    text = project.config.read_text().replace("list-id = arxiv.news.example.org\n", "")
    project.config.write_text(text)
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_CONFIG
    assert "missing 'list-id' in section [newsletter]" in proc.stderr


def test_unknown_partial_in_template(project, tmp_path):
    import shutil
    from conftest import ROOT
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    edit(templates / "digest.html.mustache", "</body>", "{{> nowhere}}</body>")
    text = project.config.read_text().replace(str(ROOT / "templates"), str(templates))
    project.config.write_text(text)
    digest = project.copy_digest()
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR
    assert "digest.html.mustache:" in proc.stderr
    assert "unknown partial 'nowhere'" in proc.stderr
    assert not (project.path / "out").exists()


def test_config_value_with_line_break_from_environment(project):
    digest = project.copy_digest()
    proc = project.run("preview", digest, "-o", "out",
                       env={"BULLETIN_NEWSLETTER_NAME": "News\r\nBcc: x@example.org"})
    assert proc.returncode == EX_CONFIG
    assert ("environment variable BULLETIN_NEWSLETTER_NAME: bad value for 'name' "
            "in [newsletter]: line breaks are not allowed") in proc.stderr
    assert not (project.path / "out").exists()
