"""bulletin preview on hostile digests (issue 6): every refusal names the
file and line, exits 65 (bad input), writes nothing, and stays fast and
small however the input is built."""

import os
import resource
import shutil
import subprocess

import pytest

from conftest import ROOT

EX_DATAERR = 65


def refused(project, digest, message, name):
    """Runs preview; checks status, message, file named, nothing written."""
    proc = project.run("preview", digest, "-o", "out")
    assert proc.returncode == EX_DATAERR, proc.stderr
    assert message in proc.stderr, proc.stderr
    assert name in proc.stderr
    assert not (project.path / "out").exists(), "nothing may be written"
    return proc


def append(path, text):
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def replace(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def body_line(path):
    """The line number the next appended line will have."""
    return path.read_text().count("\n") + 1


# ---- repeated keys --------------------------------------------------------

@pytest.mark.parametrize("key,value", [
    ("links", "links:\n  demo: https://a.org/d\n"),
    ("authors", "authors: [Someone Else]\n"),
    ("tags", "tags: [x]\n"),
    ("url", "url: https://a.org/\n"),
])
def test_repeated_key_is_refused(project, key, value):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    lines = entry.read_text().split("\n")
    first = next(i for i, l in enumerate(lines) if l.startswith(key + ":")) + 1
    closing = lines.index("---", 1) + 1
    replace(entry, "\n---\n\n", "\n" + value + "---\n\n")
    refused(project, digest,
            f"01-transgan.md:{closing}: repeated key '{key}' (first on line {first})",
            "01-transgan.md")


def test_repeated_subject_is_refused(project):
    digest = project.copy_digest()
    replace(digest / "issue.md", "\n---\n", '\nsubject: "another"\n---\n')
    refused(project, digest, "repeated key 'subject' (first on line 2)", "issue.md")


# ---- nesting and size --------------------------------------------------------

def run_bounded(project, digest, mem_mb=200, timeout=10):
    """Runs preview under an address-space limit and a time limit. The
    plain build: the memory asked of it is what a user's run would take
    (a sanitizer build reserves terabytes of shadow address space)."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (mem_mb << 20, mem_mb << 20))
    return subprocess.run([str(ROOT / "bulletin"), "preview", str(digest), "-o", "out"],
                          cwd=project.path, capture_output=True, text=True,
                          timeout=timeout, preexec_fn=limit,
                          env={**os.environ, "BULLETIN_CONFIG": str(project.config)})


@pytest.mark.parametrize("levels", [20000, 100000])
def test_deep_markdown_is_refused_quickly(project, levels):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    line = body_line(entry)
    append(entry, "> " * levels + "deep\n")
    proc = run_bounded(project, digest)
    assert proc.returncode == EX_DATAERR, proc.stderr
    assert f"01-transgan.md:{line}: Markdown nested deeper than 32 levels" in proc.stderr


def test_deep_inline_markdown_is_refused(project):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    line = body_line(entry)
    append(entry, "".join(f"[*a{i} " for i in range(40)) + "x" + "*]" * 40 + "\n")
    refused(project, digest,
            f"01-transgan.md:{line}: Markdown nested deeper than 32 levels",
            "01-transgan.md")


def test_deep_yaml_is_refused_quickly(project):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    replace(entry, "tags: [", "tags: " + "[" * 100000 + "[")
    proc = run_bounded(project, digest)
    assert proc.returncode == EX_DATAERR, proc.stderr
    assert "01-transgan.md:7: front matter nested deeper than 8 levels" in proc.stderr


def test_yaml_alias_amplification_is_refused_quickly(project):
    digest = project.copy_digest()
    replace(digest / "01-transgan.md", "tags: [",
            'tags: [&a "' + "x" * 100000 + '", ' + "*a, " * 35000)
    proc = run_bounded(project, digest)
    assert proc.returncode == EX_DATAERR, proc.stderr
    assert "01-transgan.md:7: front matter may not use aliases ('*name')" in proc.stderr


def test_huge_file_is_refused(project):
    digest = project.copy_digest()
    append(digest / "02-scaling-laws-transfer.md", "word " * 220000 + "\n")
    refused(project, digest, "02-scaling-laws-transfer.md' is larger than 262144 bytes",
            "02-scaling-laws-transfer.md")


# ---- control characters ----------------------------------------------------------

def test_escape_sequence_in_yaml_is_refused(project):
    digest = project.copy_digest()
    replace(digest / "01-transgan.md", 'title: "TransGAN',
            'title: "\\e]0;owned\\aTransGAN')
    refused(project, digest, "01-transgan.md:2: 'title' holds control character U+001B",
            "01-transgan.md")


def test_nul_in_subject_is_refused_with_file_and_line(project):
    digest = project.copy_digest()
    replace(digest / "issue.md", 'subject: "arXiv', 'subject: "\\0arXiv')
    refused(project, digest, "issue.md:2: 'subject' holds control character U+0000",
            "issue.md")


def test_c1_control_in_yaml_is_refused(project):
    digest = project.copy_digest()
    replace(digest / "01-transgan.md", "authors: [", 'authors: ["\\x9b2J", ')
    refused(project, digest, "01-transgan.md:4: 'authors' holds control character U+009B",
            "01-transgan.md")


@pytest.mark.parametrize("text,cp", [
    ("clear &#x1b;[2J the screen", "U+001B"),
    ("csi &#155;2J", "U+009B"),
    ("`&#7;` is code, entities stay", None),
])
def test_control_entity_in_markdown_is_refused(project, text, cp):
    digest = project.copy_digest()
    entry = digest / "03-automate-scientific-reviewing.md"
    line = body_line(entry)
    append(entry, text + "\n")
    if cp is None:
        # in a code span "&#7;" is literal text: nothing to refuse
        proc = project.run("preview", digest, "-o", "out", check=True)
        assert "&#7;" in (project.path / "out" / "2021-03.txt").read_text()
        return
    refused(project, digest,
            f"03-automate-scientific-reviewing.md:{line}: control character {cp} in the text",
            "03-automate-scientific-reviewing.md")


def test_raw_control_byte_in_markdown_is_refused(project):
    digest = project.copy_digest()
    entry = digest / "03-automate-scientific-reviewing.md"
    line = body_line(entry)
    with open(entry, "ab") as f:
        f.write(b"bell \x1b[2J\n")
    refused(project, digest,
            f"03-automate-scientific-reviewing.md:{line}: control character U+001B",
            "03-automate-scientific-reviewing.md")


# ---- per-recipient slots --------------------------------------------------------------

def test_forged_slot_marker_is_refused(project):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    line = body_line(entry)
    append(entry, "Write to &#x1e;A&#x1e; today.\n")
    refused(project, digest,
            f"01-transgan.md:{line}: control character U+001E in the text",
            "01-transgan.md")


def test_slot_marker_in_a_template_is_refused(project, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    append(templates / "digest.txt.mustache", "forged \x1eA\x1e\n")
    project.config.write_text(project.config.read_text().replace(
        str(ROOT / "templates"), str(templates)))
    digest = project.copy_digest()
    refused(project, digest,
            "digest.txt.mustache: the rendered body holds byte 0x1e, "
            "which marks per-recipient values", "digest.txt.mustache")


# ---- files outside the folder, broken images ---------------------------------------------

def test_image_symlink_out_of_the_folder_is_refused(project, tmp_path):
    digest = project.copy_digest()
    secret = tmp_path / "secret.png"
    shutil.copy(digest / "fig-scaling-law.png", secret)
    (digest / "fig-transgan-attention.png").unlink()
    (digest / "fig-transgan-attention.png").symlink_to(secret)
    refused(project, digest,
            "image 'fig-transgan-attention.png' leads outside the digest folder",
            "01-transgan.md")


def test_entry_symlink_out_of_the_folder_is_refused(project, tmp_path):
    digest = project.copy_digest()
    outside = tmp_path / "outside.md"
    shutil.copy(digest / "09-paq.md", outside)
    (digest / "09-paq.md").unlink()
    (digest / "09-paq.md").symlink_to(outside)
    refused(project, digest, "09-paq.md' leads outside", "09-paq.md")


def test_fifo_entry_is_refused_without_hanging(project):
    digest = project.copy_digest()
    os.mkfifo(digest / "10-fifo.md")
    refused(project, digest, "10-fifo.md' is not a regular file", "10-fifo.md")


def test_symlink_inside_the_folder_is_fine(project):
    digest = project.copy_digest()
    (digest / "fig-transgan-attention.png").unlink()
    (digest / "fig-transgan-attention.png").symlink_to("fig-scaling-law.png")
    project.run("preview", digest, "-o", "out", check=True)


def test_partial_symlink_out_of_the_templates_is_refused(project, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(ROOT / "templates", templates)
    (tmp_path / "footer.html.mustache").write_text("outside\n")
    (templates / "footer.html.mustache").symlink_to(tmp_path / "footer.html.mustache")
    replace(templates / "digest.html.mustache", "</body>", "{{> footer}}</body>")
    project.config.write_text(project.config.read_text().replace(
        str(ROOT / "templates"), str(templates)))
    digest = project.copy_digest()
    proc = refused(project, digest, "footer.html.mustache' leads outside",
                   "digest.html.mustache")
    assert "unknown partial 'footer'" in proc.stderr


@pytest.mark.parametrize("cut,message", [
    (2000, "is a truncated PNG image: no IEND chunk"),
    (20, "is not a valid PNG image: no IHDR chunk"),
])
def test_truncated_png_is_refused(project, cut, message):
    digest = project.copy_digest()
    image = digest / "fig-review-aspects.png"
    image.write_bytes(image.read_bytes()[:cut])
    refused(project, digest, f"fig-review-aspects.png' {message}", "fig-review-aspects.png")


@pytest.mark.parametrize("data,message", [
    (b"GIF89a\x02\x00\x02\x00\x00\x00\x00,", "is a truncated GIF image: no trailer"),
    (b"\xff\xd8\xff\xe0\x00\x06JFIF\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"
     b"\xff\xda\x00\x02\x12", "is a truncated JPEG image: no end of image"),
    (b"\xff\xd8\xff\xe0\x00\x06JF", "is a truncated or broken JPEG image: no frame header"),
])
def test_broken_gif_and_jpeg_are_refused(project, data, message):
    digest = project.copy_digest()
    (digest / "fig-review-aspects.png").write_bytes(data)
    refused(project, digest, f"fig-review-aspects.png' {message}", "fig-review-aspects.png")


# ---- raw HTML ------------------------------------------------------------------------------

def test_dropped_raw_html_is_warned_with_file_and_line(project):
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    line = body_line(entry) + 1
    append(entry, '\n<p class="raw">x</p>\n')
    proc = project.run("preview", digest, "-o", "out", check=True)
    assert (f"warning: {entry}:{line}: raw HTML dropped "
            "(set allow-raw-html in [templates] to send it)") in proc.stderr
    project.config.write_text(project.config.read_text().replace(
        "[templates]\n", "[templates]\nallow-raw-html = true\n"))
    proc = project.run("preview", digest, "-o", "out", check=True)
    assert "raw HTML" not in proc.stderr
