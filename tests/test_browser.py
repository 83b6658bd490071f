"""The reports in a real browser: headless Chromium loads every page of a build (each campaign
report, the comparison, the index), every image renders, no errors.

The probe script is injected into a copy of the build (the committed pages have no scripts): it
records each image's state and any error or console.error into the DOM, which --dump-dom prints.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
         "--enable-logging=stderr", "--v=0"]

PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) {
  var t = e.target || {};
  window.__errors.push(t.src ? ('failed to load ' + t.src) : String(e.message));
}, true);
var _ce = console.error;
console.error = function () { window.__errors.push(Array.from(arguments).join(' ')); _ce.apply(console, arguments); };
window.addEventListener('load', function () {
  var imgs = Array.from(document.images).map(function (i) {
    return {src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0, w: i.naturalWidth};
  });
  var out = document.createElement('pre');
  out.id = 'probe';
  out.textContent = JSON.stringify({images: imgs, errors: window.__errors});
  document.body.appendChild(out);
});
</script>"""


def _chromium(*args: str, user_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CHROMIUM), *FLAGS, f"--user-data-dir={user_dir}", *args],
                          capture_output=True, text=True, timeout=120)


def _pages(root: Path) -> list[str]:
    """Every page of a build: index.html at the top and in each report folder."""
    return sorted(p.relative_to(root).as_posix() for p in root.glob("**/index.html"))


def test_every_page_of_the_build_is_checked(built_reports):
    import conflictstats as cs

    pages = _pages(built_reports[0])
    assert pages == sorted(["index.html", "comparison/index.html",
                            *(f"{name}/index.html" for name in cs.list_datasets())])


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (.ci/run installs it)")
def test_reports_render_in_chromium(built_reports, tmp_path):
    out = built_reports[0]
    site = tmp_path / "site"
    shutil.copytree(out, site)
    for n, page in enumerate(_pages(out)):
        # Let the probe script through the page's Content-Security-Policy (this copy only); the
        # rest of the policy (img-src 'self', nothing else) still applies to the images.
        index = site / page
        html = index.read_text(encoding="utf-8")
        assert html.count("default-src 'none';") == 1, f"{page}: the page's Content-Security-Policy changed"
        html = html.replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
        index.write_text(html.replace("<head>", "<head>\n" + PROBE, 1), encoding="utf-8")

        proc = _chromium("--virtual-time-budget=10000", "--dump-dom", index.as_uri(), user_dir=tmp_path / f"p{n}")
        found = re.search(r'<pre id="probe">(.*?)</pre>', proc.stdout, flags=re.S)
        assert found, f"{page} did not finish loading:\n{proc.stderr[-3000:]}"
        probe = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&")
                           .replace("&lt;", "<").replace("&gt;", ">"))
        folder = (out / page).parent
        expected = sorted(p.relative_to(folder).as_posix() for p in (folder / "figures").glob("*.svg"))
        assert sorted(i["src"] for i in probe["images"]) == expected, page
        broken = [i["src"] for i in probe["images"] if not i["ok"]]
        assert not broken, f"{page}: images that did not load: {broken}"
        assert probe["errors"] == [], (page, probe["errors"])
        console = [ln for ln in proc.stderr.splitlines() if "CONSOLE" in ln and ("ERROR" in ln or "error" in ln)]
        assert not console, (page, console)

    shot = tmp_path / "shot.png"
    _chromium("--window-size=1280,2400", f"--screenshot={shot}", (out / "comparison" / "index.html").as_uri(),
              user_dir=tmp_path / "shot-profile")
    assert shot.is_file() and shot.stat().st_size > 10_000, "no screenshot was taken"
