"""The HTML part in a real browser: headless Chromium at phone and desktop widths."""

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium")

pytestmark = pytest.mark.skipif(not CHROMIUM, reason="chromium is installed by make deps")

# Writes the layout's measurements into the DOM, which --dump-dom prints.
PROBE = """<script>
window.addEventListener('load', function () {
  var d = document.documentElement, b = document.body;
  var imgs = Array.prototype.filter.call(document.images, function (i) {
    return i.getBoundingClientRect().right > window.innerWidth + 1; }).length;
  var p = document.createElement('pre');
  p.id = 'probe';
  p.textContent = 'scroll=' + Math.max(d.scrollWidth, b.scrollWidth) +
    ' viewport=' + window.innerWidth + ' overflowing_images=' + imgs +
    ' broken_images=' + Array.prototype.filter.call(document.images,
      function (i) { return !i.naturalWidth; }).length;
  b.appendChild(p);
});
</script>"""


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
    html = (project.path / "out" / "2021-03.html").read_text()
    probe = project.path / "probe.html"
    probe.write_text(html.replace("</body>", PROBE + "</body>"))
    return project, probe


@pytest.mark.parametrize("width", [375, 600, 1024])
def test_no_horizontal_scrolling(page, width, tmp_path):
    project, probe = page
    proc = chromium(f"--user-data-dir={tmp_path / 'profile'}",
                    f"--window-size={width},900", "--dump-dom",
                    probe.as_uri())
    m = re.search(r"scroll=(\d+) viewport=(\d+) overflowing_images=(\d+) "
                  r"broken_images=(\d+)", proc.stdout)
    assert m, proc.stderr[-2000:]
    scroll, viewport, overflowing, broken = map(int, m.groups())
    assert viewport == width
    assert scroll <= viewport, f"scrollWidth {scroll} > {viewport}"
    assert overflowing == 0
    assert broken == 0


def test_screenshot_is_not_blank(page, tmp_path):
    project, probe = page
    shot = tmp_path / "shot.png"
    chromium(f"--user-data-dir={tmp_path / 'profile'}", "--window-size=375,1400",
             f"--screenshot={shot}", probe.as_uri())
    assert shot.exists() and shot.stat().st_size > 20_000
