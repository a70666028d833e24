"""The workbench in real headless Chromium on the demo case: every page loads with no console
error and no request leaving loopback; the what-if toggle of the linchpin changes the verdict
shown, with the numbers the server computed; hostile evidence renders inert; a screenshot of the
persona page at 1024 px goes to docs/images/workbench-persona.png and test-artifacts/."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx2
import pytest

from devtools import CHROMIUM, Browser, chromium

from .harness import GOP, ROOT, Live, analyze_demo, live_server
from .test_web_app import HOSTILE

SCREENSHOT = ROOT / "docs" / "images" / "workbench-persona.png"
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def live(demo_case: tuple[Path, Path]) -> Iterator[Live]:
    with live_server(demo_case[0]) as server:
        yield server


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory, live: Live) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (set SLIPCATCH_CHROMIUM)", pytrace=False)
    with chromium(tmp_path_factory.mktemp("chromium-web"), width=1024) as b:
        b.goto(live.url)  # the token in the URL sets the cookie for the other pages
        yield b


def _loopback_only(b: Browser) -> None:
    hosts = {urlsplit(u).hostname for u in b.requests() if not u.startswith("data:")}
    assert hosts <= {"127.0.0.1"}, b.requests()


def _gop(live: Live) -> dict:
    doc = httpx2.get(f"{live.base}/.json", params={"token": live.token}).json()
    (p,) = [p for p in doc["personas"] if p["name"] == GOP]
    return dict(p)


def test_every_page_loads_without_error_or_outside_request(browser: Browser, live: Live) -> None:
    gop = _gop(live)
    page = httpx2.get(f"{live.base}/persona/{gop['id']}.json",
                      params={"token": live.token}).json()
    ev = httpx2.get(f"{live.base}/evidence.json",
                    params={"token": live.token, "persona": GOP, "channel": "email"}).json()
    paths = ["/", f"/persona/{gop['id']}", f"/address/{page['slips'][0]['ip']}",
             "/evidence", f"/evidence?persona={GOP}&page=2", f"/event/{ev['events'][0]['id']}",
             "/map", f"/map?persona={GOP}"]
    for path in paths:
        browser.goto(live.base + path)
        assert browser.problems() == [], path
        _loopback_only(browser)
        assert browser.evaluate("document.querySelector('h1') !== null"), path
    browser.goto(f"{live.base}/map")
    # the world outline is drawn (three fill traces) with markers for exposed events
    assert browser.evaluate("document.getElementById('map').data.length") >= 5


def test_screenshot_of_the_persona_page_at_1024(browser: Browser, live: Live) -> None:
    # notes other tests left on the shared demo case are no part of the README's picture
    auth = {"token": live.token}
    for note in httpx2.get(f"{live.base}/notes.json", params=auth).json()["notes"]:
        httpx2.post(f"{live.base}/api/notes/{note['id']}/delete", params=auth)
    browser.goto(f"{live.base}/persona/{_gop(live)['id']}")
    width = browser.evaluate("document.documentElement.scrollWidth")
    assert width <= 1024, "the persona page must fit 1024 px"
    png = browser.screenshot(ARTIFACTS / "workbench-persona.png", width=1024, height=1800)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ARTIFACTS / "workbench-persona.png", SCREENSHOT)


def test_whatif_toggle_of_the_linchpin_changes_the_verdict(browser: Browser, live: Live) -> None:
    gop = _gop(live)
    page = httpx2.get(f"{live.base}/persona/{gop['id']}.json",
                      params={"token": live.token}).json()
    (linchpin,) = [x["id"] for x in page["linchpins"]]
    browser.goto(f"{live.base}/persona/{gop['id']}")
    shown = browser.evaluate("document.getElementById('w-confidence').textContent")
    assert shown == page["verdict"]["confidence"]
    box = f"input[name=line][value={json.dumps(linchpin)}]"
    browser.evaluate(
        f"(() => {{ const c = document.querySelector('{box}');"
        " c.checked = false; c.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )
    browser.wait_for("document.getElementById('whatif-result').dataset.done !== undefined")
    after = {k: browser.evaluate(f"document.getElementById('w-{k}').textContent")
             for k in ("likelihood", "probability", "confidence", "actor")}
    assert browser.evaluate("document.getElementById('w-state').dataset.state") == "changed"
    server = httpx2.post(f"{live.base}/api/whatif", params={"token": live.token},
                         json={"persona_id": gop["id"], "drop": [linchpin]}).json()
    assert after["confidence"] == server["confidence"] != page["verdict"]["confidence"]
    assert after["likelihood"] == server["likelihood"]
    assert after["probability"] == f"{100 * server['probability']:.1f}%"
    assert browser.problems() == []
    _loopback_only(browser)


def test_hostile_evidence_renders_inert(tmp_path_factory: pytest.TempPathFactory,
                                        browser: Browser, intel_cache: None) -> None:
    tmp = tmp_path_factory.mktemp("hostile-web")
    persona, link, img = HOSTILE
    csv = tmp / "posts.csv"
    csv.write_text(
        "time,src_ip,persona,channel,note\n"
        f'2014-11-21T08:00:00Z,171.25.193.20,"{persona}","{img}","{link}"\n'
        f'2014-11-21T09:00:00Z,175.45.176.10,"{persona}",web,"{img}"\n',
        encoding="utf-8",
    )
    analyze_demo(case=tmp / "hostile.duckdb", extra_evidence=(csv,))
    with live_server(tmp / "hostile.duckdb", token="hostile-token") as live:
        browser.goto(live.url)
        doc = httpx2.get(f"{live.base}/.json", params={"token": live.token}).json()
        (p,) = [x for x in doc["personas"] if x["name"] == persona]
        ev = httpx2.get(f"{live.base}/evidence.json",
                        params={"token": live.token, "persona": persona}).json()["events"]
        for path in (f"/persona/{p['id']}", f"/event/{ev[0]['id']}", f"/map?persona={persona}",
                     "/evidence?persona=" + persona, "/"):
            browser.goto(live.base + path)
            time.sleep(0.2)
            assert browser.evaluate("document.title").endswith("slipcatch workbench"), path
            assert browser.evaluate("document.title") != "pwned"  # shown as text, never run
            assert browser.evaluate("document.querySelectorAll('img').length") == 0, path
            assert browser.evaluate(
                "Array.from(document.querySelectorAll('a')).every(a => "
                "!a.getAttribute('href').toLowerCase().startsWith('javascript'))"
            ), path
            assert browser.problems() == [], path
            _loopback_only(browser)
        browser.goto(f"{live.base}/persona/{p['id']}")
        assert browser.evaluate(
            f"document.body.innerText.includes({json.dumps(persona)})")
        browser.goto(f"{live.base}/event/{ev[0]['id']}")
        assert browser.evaluate(f"document.body.innerText.includes({json.dumps(link)})")
        assert browser.evaluate(
            "Array.from(document.scripts).every(s => s.type === 'application/json' || s.src)")
