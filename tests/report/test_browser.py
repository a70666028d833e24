"""report.html in a real browser: headless Chromium driven over the DevTools protocol
(tests/devtools.py, shared with the workbench's browser tests).

The demo case's report must draw every chart, log no console error or CSP violation, and make
no request but the file itself; hostile evidence (a persona that is a ``<script>``, a channel
that is an ``<img onerror>``) must stay text, in the page and in Plotly's hover labels.

Chromium is required, not optional: ``.ci/run`` installs it (Debian's ``chromium`` package).
A screenshot of the demo report at 1024 px is kept in ``docs/images/report-demo.png`` (the
README shows it) and in ``test-artifacts/``. At 1024 px the page must not scroll sideways and no
table header may break inside a word; under ``prefers-color-scheme: dark`` the page and the
charts turn dark; the world map draws from the bundled outline without any request.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools import CHROMIUM, Browser, chromium
from slipcatch import cli

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
TITLE = "slipcatch assessment"
#: The demo's title: the default one plus the case's name (from its case.json).
DEMO_TITLE = "slipcatch assessment: Sony Pictures Entertainment, Nov-Dec 2014 (reconstruction)"
DOCS_IMAGE = ROOT / "docs" / "images" / "report-demo.png"
HOSTILE_PERSONA = "<script>document.title='pwned'</script>"
HOSTILE_CHANNEL = "<img src=x onerror=\"document.title='img'\">"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: the browser test needs it "
            "(.ci/run installs Debian's chromium package; or set SLIPCATCH_CHROMIUM)",
            pytrace=False,
        )
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as b:
        yield b


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, intel_cache: None) -> Path:
    out = tmp_path_factory.mktemp("demo")
    assert cli.main(["demo", "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def demo_page(browser: Browser, demo: Path) -> Browser:
    browser.open(demo / "report.html")
    return browser


def _gop(demo: Path) -> dict[str, Any]:
    doc = json.loads((demo / "assessment.json").read_text("utf-8"))
    (gop,) = [p for p in doc["personas"] if p["name"] == "Guardians of Peace"]
    return dict(gop)


def test_every_chart_is_drawn(demo_page: Browser, demo: Path) -> None:
    doc = json.loads((demo / "assessment.json").read_text("utf-8"))
    # A section (timeline, countries, map) for each persona with an actor hit or a slip; the
    # others share one table.
    major = sum(
        1
        for p in doc["personas"]
        if p["slips"] or any(h["kind"] == "actor" for h in p["assessment"]["hypotheses"])
    )
    assert major == demo_page.evaluate("document.querySelectorAll('section.persona').length")
    assert demo_page.evaluate("document.querySelectorAll('table.minor tbody tr').length") == (
        len(doc["personas"]) - major
    )
    drawn = demo_page.evaluate(
        "Array.from(document.querySelectorAll('div.js-plotly-plot')).map(d => d.id)"
    )
    assert sorted(drawn) == sorted(
        f"{kind}-{i}" for i in range(1, major + 1) for kind in ("timeline", "countries", "map")
    )
    assert demo_page.evaluate("document.querySelectorAll('svg.main-svg').length") >= 2 * len(drawn)


def test_attributed_persona_comes_first_with_its_slips(demo_page: Browser, demo: Path) -> None:
    gop = _gop(demo)
    slips = gop["slips"]
    assert demo_page.evaluate("document.querySelector('#persona-1 h2').textContent") == (
        "Persona: Guardians of Peace"
    )
    traces = demo_page.evaluate(
        "document.getElementById('timeline-1').data.map(t => [t.name, t.x.length])"
    )
    names = [n for n, _ in traces]
    assert "slip event" in names and "time to close" in names
    slip_points = dict(traces)["slip event"]
    assert slip_points == sum(s["events"] for s in slips)
    # One shaded episode and one "S<n>" label per slip, in the slips table's order.
    assert demo_page.evaluate("document.getElementById('timeline-1').layout.shapes.length") == (
        len(slips)
    )
    labels = demo_page.evaluate(
        "Array.from(document.querySelectorAll('#timeline-1 .annotation-text'))"
        ".map(a => a.textContent)"
    )
    assert labels == [f"S{i}" for i in range(1, len(slips) + 1)]
    countries = demo_page.evaluate("document.getElementById('countries-1').data.map(t => t.name)")
    assert "actor range" in countries


def test_no_console_error_and_no_request_but_the_file(demo_page: Browser, demo: Path) -> None:
    assert demo_page.problems() == []
    assert demo_page.requests() == [(demo / "report.html").as_uri()]
    assert demo_page.evaluate("document.title") == DEMO_TITLE


def test_world_map_draws_from_the_bundled_outline(demo_page: Browser) -> None:
    # The outline (every country, filled) is under the persona's own traces; Plotly's geo base
    # layers stay off, so it fetched nothing (the test above: no request but the file).
    traces = demo_page.evaluate(
        "document.getElementById('map-1').data.map(t => [t.type, t.name, t.lon.length])"
    )
    assert traces[0][:2] == ["scattergeo", "world"] and traces[0][2] > 5000
    names = [n for _, n, _ in traces]
    assert {"cover countries", "exposed countries", "actor range countries", "slip"} <= set(names)
    assert demo_page.evaluate("document.querySelectorAll('#map-1 .geolayer path').length") > 3
    slips = demo_page.evaluate(
        "document.getElementById('map-1').data.find(t => t.name === 'slip').text"
    )
    assert slips == ["S1", "S2", "S3", "S4", "S5", "S6", "S7"]


# Header cells whose text does not fit their box, and words that a line break cuts in two
# (a word whose glyphs lie on more than one line).
_BROKEN_HEADERS = """
(() => {
  const out = [];
  for (const th of document.querySelectorAll('th')) {
    if (th.offsetParent === null) continue;  // inside a closed <details>
    if (th.scrollWidth > th.clientWidth + 1) out.push('overflow: ' + th.textContent);
    const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const m of node.data.matchAll(/\\S+/g)) {
        const r = document.createRange();
        r.setStart(node, m.index);
        r.setEnd(node, m.index + m[0].length);
        const tops = new Set(Array.from(r.getClientRects()).map(c => Math.round(c.top)));
        if (tops.size > 1) out.push('broken: ' + m[0]);
      }
    }
  }
  return out;
})()
"""


def test_at_1024_px_nothing_overflows_and_no_header_breaks_a_word(
    browser: Browser, demo: Path
) -> None:
    browser.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": 1024, "height": 900, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        browser.open(demo / "report.html")
        width = browser.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], width
        # Open every <details> so the collapsed tables are measured too.
        browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert browser.evaluate(_BROKEN_HEADERS) == []
        assert browser.evaluate("document.documentElement.scrollWidth") <= 1024
        browser.evaluate("document.querySelectorAll('details').forEach(d => d.open = false)")
        # From the title down to the attributed persona's charts and map.
        bottom = browser.evaluate(
            "Math.ceil(document.querySelector('#persona-1 .plot.map').getBoundingClientRect()"
            ".bottom + window.scrollY + 16)"
        )
        assert 800 < bottom < 5000
        png = browser.screenshot(ARTIFACTS / "report-demo.png", height=bottom, width=1024)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        assert len(png) > 50_000  # a blank page compresses to a few kB
        DOCS_IMAGE.write_bytes(png)
        assert browser.problems() == []
    finally:
        browser.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )


def test_dark_scheme_applies_to_page_and_charts(browser: Browser, demo: Path) -> None:
    browser.call(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": "dark"}]},
    )
    try:
        browser.open(demo / "report.html")
        bg = browser.evaluate("getComputedStyle(document.body).backgroundColor")
        ink = browser.evaluate("getComputedStyle(document.body).color")
        assert bg == "rgb(20, 24, 28)" and ink == "rgb(226, 230, 234)"
        layouts = browser.evaluate(
            "['timeline-1', 'countries-1', 'map-1'].map(id => {"
            " const l = document.getElementById(id)._fullLayout;"
            " return [l.paper_bgcolor, l.font.color]; })"
        )
        assert layouts == [["#14181c", "#e2e6ea"]] * 3
        assert browser.problems() == []
        assert browser.requests() == [(demo / "report.html").as_uri()]
    finally:
        browser.call("Emulation.setEmulatedMedia", {"features": []})
    browser.open(demo / "report.html")
    assert browser.evaluate("getComputedStyle(document.body).backgroundColor") == (
        "rgb(255, 255, 255)"
    )


def test_page_reads_without_scripts(browser: Browser, demo: Path) -> None:
    browser.call("Emulation.setScriptExecutionDisabled", {"value": True})
    try:
        browser.events.clear()
        browser.call("Page.navigate", {"url": (demo / "report.html").as_uri()})
        browser.wait_event("Page.loadEventFired")
        text = browser.evaluate("document.body.innerText")
        drawn = browser.evaluate("document.querySelectorAll('svg.main-svg').length")
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", {"value": False})
    assert drawn == 0
    assert "Scripts are blocked, so the charts are not drawn." in text
    assert "We assess it is" in text and "Evidence with provenance".upper() in text.upper()
    assert browser.problems() == []


def test_hostile_evidence_stays_text(browser: Browser, tmp_path: Path, intel_cache: None) -> None:
    csv = tmp_path / "posts.csv"
    channel = '"' + HOSTILE_CHANNEL.replace('"', '""') + '"'
    csv.write_text(
        "time,src_ip,persona,channel\n"
        f'2014-11-21T08:00:00Z,171.25.193.20,"{HOSTILE_PERSONA}",{channel}\n'
        f'2014-11-21T09:00:00Z,175.45.176.10,"{HOSTILE_PERSONA}",web\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert cli.main(["analyze", str(csv), "--out", str(out)]) == 0
    browser.open(out / "report.html")
    assert browser.evaluate("document.title") == TITLE
    assert browser.evaluate("document.scripts.length") == 3
    assert browser.evaluate("document.querySelectorAll('img').length") == 0
    assert browser.evaluate(
        f"document.body.innerText.includes({json.dumps('Persona: ' + HOSTILE_PERSONA)})"
    )
    # Plotly's hover label shows the hostile channel as text, not as an element.
    browser.evaluate(
        "(() => { const el = document.getElementById('timeline-1');"
        " const i = el.data.findIndex(t => t.hovertext.some(h => h.includes('channel &lt;img')));"
        " window.Plotly.Fx.hover(el, [{curveNumber: i, pointNumber: 0}]); })()"
    )
    hover = browser.evaluate(
        "Array.from(document.querySelectorAll('#timeline-1 .hoverlayer .hovertext'))"
        ".map(h => h.textContent).join('|')"
    )
    assert f"channel {HOSTILE_CHANNEL}" in hover
    assert (
        browser.evaluate("document.querySelectorAll('.hoverlayer img, .hoverlayer a').length") == 0
    )
    time.sleep(0.3)
    assert browser.evaluate("document.title") == TITLE
    assert browser.problems() == []
    assert browser.requests() == [(out / "report.html").as_uri()]
