"""The HTML part in a real browser: headless Chromium at phone and desktop
widths, in light and dark mode."""

import html as htmllib
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


# Every element the theme styles, so that each is measured: the sample
# issue has no headings of every level, block quote or code block.
EVERY_ELEMENT = """

# 一级标题 Heading one

## 二级标题

#### 四级标题

##### 五级标题

###### 六级标题

> 引用一段话，*强调* 和 **加粗**，还有 `inline code` 与 [链接](https://example.org/q)。

```
def train(model):
    for step in range(1000):  # 一个很长很长很长很长很长很长很长很长很长很长很长的注释 https://example.org/a/very/long/path/that/has/to/wrap/somewhere/in/the/block
        model.step()
```

1. 第一项 `x = 1`
2. 第二项 **粗体**

---
"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from conftest import Project
    project = Project(tmp_path_factory.mktemp("render"))
    digest = project.copy_digest()
    entry = digest / "01-transgan.md"
    entry.write_text(entry.read_text() + EVERY_ELEMENT)
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


# WCAG 2.1 contrast (1.4.3, AA) of every element with text of its own, in
# the colour scheme Chromium was started with. The background is found by
# walking up the ancestors and laying their background colours over each
# other (over the canvas) until an opaque one.
CONTRAST_PROBE = """<!DOCTYPE html><html><body style="margin:0">
<iframe id="f" style="width:600px;height:1200px;border:0"></iframe>
<script>
var f = document.getElementById('f');
function rgba(s) {
  var m = /rgba?\\(([^)]*)\\)/.exec(s);
  if (!m) return [0, 0, 0, 0];
  var p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function over(top, under) {
  var a = top[3];
  return [0, 1, 2].map(function (i) {
    return top[i] * a + under[i] * (1 - a); }).concat([1]);
}
function luminance(c) {
  var l = c.slice(0, 3).map(function (v) {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * l[0] + 0.7152 * l[1] + 0.0722 * l[2];
}
function ratio(a, b) {
  var x = luminance(a), y = luminance(b);
  return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05);
}
function hex(c) {
  return '#' + c.slice(0, 3).map(function (v) {
    return ('0' + Math.round(v).toString(16)).slice(-2); }).join('');
}
function name(e) {
  return e.tagName.toLowerCase() + (e.className ? '.' + e.className : '');
}
f.onload = function () {
  var w = f.contentWindow, d = f.contentDocument;
  var dark = w.matchMedia('(prefers-color-scheme: dark)').matches;
  var canvas = dark ? [18, 18, 18, 1] : [255, 255, 255, 1];
  function background(e) {
    var layers = [];
    for (; e; e = e.parentElement) {
      var c = rgba(w.getComputedStyle(e).backgroundColor);
      if (c[3] > 0) layers.push(c);
      if (c[3] >= 1) break;
    }
    return layers.reduceRight(function (under, top) {
      return over(top, under); }, canvas);
  }
  var out = {dark: dark, checked: 0, failures: [], light_backgrounds: [],
             body_background: w.getComputedStyle(d.body).backgroundColor};
  var all = [d.body].concat(Array.prototype.slice.call(
      d.body.getElementsByTagName('*')));
  all.forEach(function (e) {
    var cs = w.getComputedStyle(e);
    var own = rgba(cs.backgroundColor);
    if (dark && own[3] > 0 && luminance(own) > 0.2)
      out.light_backgrounds.push(name(e) + ' ' + hex(own));
    var text = Array.prototype.filter.call(e.childNodes, function (n) {
      return n.nodeType === 3 && /\\S/.test(n.data); })
      .map(function (n) { return n.data.trim(); }).join(' ');
    if (!text || !e.getClientRects().length || cs.visibility === 'hidden')
      return;
    var size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    var large = size >= 24 || (size >= 18.66 && bold);
    var bg = background(e), fg = over(rgba(cs.color), bg);
    var r = ratio(fg, bg), need = large ? 3 : 4.5;
    out.checked++;
    if (r < need)
      out.failures.push(name(e) + ' "' + text.slice(0, 30) + '" ' + hex(fg) +
        ' on ' + hex(bg) + ': ' + r.toFixed(2) + ':1 < ' + need + ':1');
  });
  var p = document.createElement('pre');
  p.textContent = 'RESULT' + JSON.stringify(out) + 'END';
  document.body.appendChild(p);
};
f.srcdoc = %(html)s;
</script></body></html>"""


def measure_contrast(html, tmp_path, dark):
    probe = tmp_path / "contrast.html"
    probe.write_text(CONTRAST_PROBE % {"html": json.dumps(html.read_text())})
    # Debian's headless Chromium (156) answers prefers-color-scheme: dark
    # with Blink's setting (0 is dark), as it does with --force-dark-mode;
    # the test below proves the dark rules were applied either way
    scheme = ["--blink-settings=preferredColorScheme=0"] if dark else []
    proc = chromium(f"--user-data-dir={tmp_path / ('dark' if dark else 'light')}",
                    "--window-size=800,1400", *scheme, "--dump-dom",
                    probe.as_uri())
    m = re.search(r"<pre>RESULT(.*?)END</pre>", proc.stdout, re.S)
    assert m, proc.stderr[-2000:]
    return json.loads(htmllib.unescape(m.group(1)))


@pytest.fixture(scope="module")
def contrast(page, tmp_path_factory):
    project, html = page
    tmp = tmp_path_factory.mktemp("contrast")
    return {"light": measure_contrast(html, tmp, dark=False),
            "dark": measure_contrast(html, tmp, dark=True)}


def test_dark_rules_really_applied(contrast):
    assert contrast["light"]["dark"] is False
    assert contrast["dark"]["dark"] is True
    assert contrast["dark"]["body_background"] != contrast["light"]["body_background"]


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_text_contrast_meets_wcag_aa(contrast, scheme):
    result = contrast[scheme]
    assert result["checked"] > 200, result["checked"]
    assert not result["failures"], (
        f"{scheme} mode, {len(result['failures'])} of {result['checked']} "
        "text elements below WCAG AA:\n" + "\n".join(result["failures"]))


def test_every_background_has_a_dark_counterpart(contrast):
    assert not contrast["dark"]["light_backgrounds"], \
        "light backgrounds left in dark mode: " + \
        ", ".join(contrast["dark"]["light_backgrounds"])
