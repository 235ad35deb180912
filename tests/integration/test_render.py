"""The HTML part in a real browser: headless Chromium at phone and desktop widths."""

import json
import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium is installed by make deps")

# Headless Chromium will not make a window narrower than 500 px, so the
# email is laid out in an iframe of the width under test (an iframe is its
# document's viewport: media queries and scrollWidth answer to it), and the
# measurements are written into the DOM, which --dump-dom prints.
PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:%(width)dpx;height:1200px;border:0"></iframe>
<script>
var f = document.getElementById('f');
f.onload = function () {
  var w = f.contentWindow, d = f.contentDocument;
  var imgs = Array.prototype.slice.call(d.images);
  var p = document.createElement('pre');
  p.textContent = 'scroll=' + Math.max(d.documentElement.scrollWidth,
      d.body.scrollWidth) + ' viewport=' + w.innerWidth +
    ' overflowing_images=' + imgs.filter(function (i) {
      return i.getBoundingClientRect().right > w.innerWidth + 1; }).length +
    ' broken_images=' + imgs.filter(function (i) {
      return !i.naturalWidth; }).length;
  document.body.appendChild(p);
};
f.srcdoc = %(html)s;
</script></body></html>"""


def chromium(*args, timeout=60):
    base = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--hide-scrollbars",
            "--virtual-time-budget=3000"]
    return subprocess.run(base + list(args), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from conftest import Project
    project = Project(tmp_path_factory.mktemp("render"))
    digest = project.copy_digest()
    project.run("preview", digest, "-o", "out", check=True)
    return project, project.path / "out" / "2021-03.html"


@pytest.mark.parametrize("width", [375, 600, 1024])
def test_no_horizontal_scrolling(page, width, tmp_path):
    project, html = page
    probe = tmp_path / "probe.html"
    probe.write_text(PROBE % {"width": width,
                              "html": json.dumps(html.read_text())})
    proc = chromium(f"--user-data-dir={tmp_path / 'profile'}",
                    "--window-size=1200,1400", "--dump-dom", probe.as_uri())
    m = re.search(r"scroll=(\d+) viewport=(\d+) overflowing_images=(\d+) "
                  r"broken_images=(\d+)", proc.stdout)
    assert m, proc.stderr[-2000:]
    scroll, viewport, overflowing, broken = map(int, m.groups())
    assert viewport == width
    assert scroll <= viewport, f"scrollWidth {scroll} > {viewport}"
    assert overflowing == 0
    assert broken == 0


def test_screenshot_is_not_blank(page, tmp_path):
    project, html = page
    shot = tmp_path / "shot.png"
    chromium(f"--user-data-dir={tmp_path / 'profile'}", "--window-size=600,1400",
             f"--screenshot={shot}", html.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000
