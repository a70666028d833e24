"""The workbench's pages, JSON twins, token gate, evidence filter, notes and what-if (in process,
through Starlette's TestClient, on the demo case)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from slipcatch.case import Case
from slipcatch.web import create_app, open_store

from .harness import GOP, analyze_demo, demo_manifest

TOKEN = "tok-" + "x" * 20
LINCHPIN_KIND = "exposed-elsewhere"
HOSTILE = ("<script>document.title='pwned'</script>", "javascript:alert(1)",
           "<img src=x onerror=alert(1)>")


@pytest.fixture(scope="module")
def client(demo_case: tuple[Path, Path]) -> Iterator[TestClient]:
    store = open_store(demo_case[0])
    with TestClient(create_app(store, TOKEN)) as c:
        assert c.get(f"/?token={TOKEN}").status_code == 200  # sets the cookie
        yield c
    store.close()


@pytest.fixture(scope="module")
def out_client(demo_case: tuple[Path, Path]) -> Iterator[TestClient]:
    store = open_store(demo_case[1])
    with TestClient(create_app(store, TOKEN)) as c:
        c.get(f"/?token={TOKEN}")
        yield c
    store.close()


def _gop(client: TestClient) -> dict[str, Any]:
    doc = client.get("/.json").json()
    (p,) = [p for p in doc["personas"] if p["name"] == GOP]
    return dict(p)


def _pages(client: TestClient) -> list[str]:
    gop = _gop(client)
    page = client.get(f"/persona/{gop['id']}.json").json()
    slip = page["slips"][0]
    event = client.get("/evidence.json", params={"persona": GOP}).json()["events"][0]
    return ["/", f"/persona/{gop['id']}", f"/address/{slip['ip']}", "/evidence",
            f"/event/{event['id']}", "/map"]


@pytest.mark.parametrize("which", ["case", "out"])
def test_every_page_and_its_json_twin(which: str, client: TestClient,
                                      out_client: TestClient) -> None:
    c = client if which == "case" else out_client
    for path in _pages(c):
        html = c.get(path)
        assert html.status_code == 200, path
        assert html.headers["content-type"].startswith("text/html")
        twin = c.get("/.json" if path == "/" else path + ".json")
        assert twin.status_code == 200, path
        assert twin.headers["content-type"] == "application/json"
        assert c.get(path, params={"format": "json"}).json() == twin.json()
        # the page carries its data as an inert JSON block, and scripts only with a nonce
        nonce = re.search(r"'nonce-([^']+)'", html.headers["content-security-policy"])
        assert nonce is not None
        for tag in re.findall(r"<script[^>]*>", html.text):
            assert 'type="application/json"' in tag or f'nonce="{nonce.group(1)}"' in tag, tag


def test_overview_accounts_files_runs_and_ranks_personas(client: TestClient) -> None:
    doc = client.get("/.json").json()
    assert doc["files"] and all(
        f["records"] == f["events"] + f["rejected"] + f["duplicates"] for f in doc["files"]
    )
    assert len(doc["runs"]) == 1 and doc["runs"][0]["run_id"].startswith("run--")
    assert doc["intel"]["sources"]
    assert doc["personas"][0]["name"] == GOP and doc["personas"][0]["actor"] == "dprk-rgb"


def test_persona_page_labels_lines_and_hypotheses(client: TestClient) -> None:
    gop = _gop(client)
    page = client.get(f"/persona/{gop['id']}.json").json()
    assert [ln["label"] for ln in page["lines"]] == [f"L{k}" for k in
                                                     range(1, len(page["lines"]) + 1)]
    assert all(h["label"].startswith("H") for h in page["hypotheses"])
    assert page["linchpins"] and page["linchpins"][0]["label"].startswith("L")
    assert page["timeline"]["total"] == gop["events"]
    html = client.get(f"/persona/{gop['id']}").text
    for line in page["lines"]:
        assert f'title="{line["id"]}">{line["label"]}<' in html
    assert "Diagnosticity" in html and "Back under cover after" in html


def test_requests_without_the_token_get_403(demo_case: tuple[Path, Path]) -> None:
    store = open_store(demo_case[1])
    with TestClient(create_app(store, TOKEN)) as c:
        for path in ("/", "/.json", "/evidence", "/static/app.js", "/static/plotly.min.js",
                     "/map.json", "/notes.json"):
            assert c.get(path).status_code == 403, path
            assert c.get(path, params={"token": "wrong"}).status_code == 403
            assert c.get(path, headers={"cookie": "slipcatch_token=wrong"}).status_code == 403
        assert c.post("/api/whatif", json={}).status_code == 403
        assert c.post("/api/notes", json={}).status_code == 403
        first = c.get("/", params={"token": TOKEN})
        assert first.status_code == 200
        cookie = first.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert c.get("/evidence").status_code == 200  # the cookie now carries the token
        assert first.headers["referrer-policy"] == "no-referrer"
        assert "script-src 'self' 'nonce-" in first.headers["content-security-policy"]
        assert "unsafe-inline" not in first.headers["content-security-policy"].split(
            "script-src")[1].split(";")[0]
    store.close()


@pytest.mark.parametrize("hostile", [
    "x' OR '1'='1", "'; DROP TABLE events; --", "%", "\\", "Guardians of Peace' --",
    "\x00", "ü' UNION SELECT * FROM runs --",
])
def test_evidence_filter_binds_hostile_input(client: TestClient, hostile: str) -> None:
    for key in ("persona", "channel", "category", "country", "src_ip", "text"):
        r = client.get("/evidence.json", params={key: hostile})
        assert r.status_code == 200, (key, r.text)
        if key != "text":  # a backslash is in the JSON of some records: a fair match
            assert r.json()["total"] == 0, key
    r = client.get("/evidence.json", params={"since": hostile})
    assert r.status_code == 400
    assert client.get("/evidence.json").json()["total"] == client.get("/.json").json()["events"]


def test_evidence_filter_and_paging(client: TestClient) -> None:
    gop = _gop(client)
    first = client.get("/evidence.json", params={"persona": GOP}).json()
    assert first["total"] == gop["events"] and first["pages"] == -(-gop["events"] // 50)
    second = client.get("/evidence.json", params={"persona": GOP, "page": 2}).json()
    assert not {e["id"] for e in first["events"]} & {e["id"] for e in second["events"]}
    actor = client.get("/evidence.json", params={"category": "actor"}).json()
    assert actor["total"] == 6 and {e["category"] for e in actor["events"]} == {"actor"}
    email = client.get("/evidence.json", params={"persona": GOP, "channel": "email",
                                                 "since": "2014-11-28"}).json()
    assert email["events"] and all(e["time"] >= "2014-11-28" for e in email["events"])


def test_event_page_shows_raw_record_and_hops(client: TestClient) -> None:
    ev = client.get("/evidence.json", params={"persona": GOP, "channel": "email"}).json()
    rec = client.get(f"/event/{ev['events'][0]['id']}.json").json()
    assert rec["event"]["hops"] and rec["event"]["origin_trust"]
    html = client.get(f"/event/{ev['events'][0]['id']}").text
    assert "E-mail hops" in html and "Raw record" in html
    assert client.get("/event/ev--nope").status_code == 404


def test_address_page_gives_every_fact_with_validity_and_projection(client: TestClient) -> None:
    gop = _gop(client)
    slip = client.get(f"/persona/{gop['id']}.json").json()["slips"][0]
    page = client.get(f"/address/{slip['ip']}.json").json()
    assert page["events"] and page["validity_known"]
    facts = [f for e in page["events"] for f in e["facts"]]
    assert facts and all({"source", "valid_from", "valid_to", "projected"} <= set(f)
                         for f in facts)
    assert any(f["actor"] == "dprk-rgb" and f["exclusivity"] for f in facts)


def test_map_separates_cover_from_exposed(client: TestClient) -> None:
    m = client.get("/map.json", params={"persona": GOP}).json()
    assert "KP" in m["exposed"] and m["cover"]
    assert {s["country"] for s in m["slips"]} >= {"KP", "TH"}
    world = client.get("/static/world-110m.json").json()
    codes = {c["iso2"] for c in world["countries"]}
    assert set(m["exposed"]) <= codes | {""}


def test_notes_round_trip_into_the_case(client: TestClient, demo_case: tuple[Path, Path],
                                        out_client: TestClient) -> None:
    gop = _gop(client)
    line = client.get(f"/persona/{gop['id']}.json").json()["lines"][0]["id"]
    text = "check <b>this</b> & javascript:alert(1)"
    for kind, target in (("persona", gop["id"]), ("line", line), ("event", "ev--x")):
        r = client.post("/api/notes", json={"target_kind": kind, "target_id": target,
                                            "tag": "todo", "note": text})
        assert r.status_code == 201, r.text
    assert client.post("/api/notes", json={"target_kind": "file", "target_id": "x",
                                           "tag": "t"}).status_code == 400
    notes = client.get("/notes.json").json()["notes"]
    assert {(n["target_kind"], n["note"]) for n in notes} >= {("persona", text), ("line", text)}
    page = client.get(f"/persona/{gop['id']}.json").json()
    assert page["notes"][0]["note"] == text and page["line_notes"][line][0]["tag"] == "todo"
    assert "check &lt;b&gt;this&lt;/b&gt; &amp; javascript:alert(1)" in client.get(
        f"/persona/{gop['id']}").text
    # stored in the case, in the web_notes table
    with Case.open(demo_case[0], create=False) as case:
        assert case.counts()["events"] > 0
    import duckdb

    con = duckdb.connect(str(demo_case[0]), read_only=False)
    try:
        rows = con.execute("SELECT target_kind, note FROM web_notes").fetchall()
    finally:
        con.close()
    assert ("line", text) in rows
    nid = notes[0]["id"]
    assert client.post(f"/api/notes/{nid}/delete").json() == {"deleted": True}
    assert out_client.post("/api/notes", json={"target_kind": "persona", "target_id": "p",
                                               "tag": "t"}).status_code == 409


def _linchpin(client: TestClient) -> tuple[dict[str, Any], str]:
    gop = _gop(client)
    page = client.get(f"/persona/{gop['id']}.json").json()
    (lp,) = page["linchpins"]
    (line,) = [ln for ln in page["lines"] if ln["id"] == lp["id"]]
    assert line["kind"] == LINCHPIN_KIND
    return page, lp["id"]


def test_whatif_without_the_linchpin_changes_the_verdict(client: TestClient) -> None:
    page, linchpin = _linchpin(client)
    pid = page["persona"]["id"]
    same = client.post("/api/whatif", json={"persona_id": pid}).json()
    v = page["verdict"]
    assert (same["probability"], same["likelihood"], same["confidence"]) == (
        v["probability"], v["likelihood"], v["confidence"])
    r = client.post("/api/whatif", json={"persona_id": pid, "drop": [linchpin]}).json()
    assert r["dropped"] == [linchpin]
    assert (r["actor"], r["likelihood"], r["confidence"]) != (v["actor"], v["likelihood"],
                                                              v["confidence"])


def test_whatif_bad_input_is_refused(client: TestClient, out_client: TestClient) -> None:
    assert client.post("/api/whatif", json={"persona_id": "nope"}).status_code == 400
    assert client.post("/api/whatif", content=b"{").status_code == 400
    pid = _gop(client)["id"]
    assert client.post("/api/whatif", json={"persona_id": pid, "unknown": 1.5}).status_code == 400
    assert client.post("/api/whatif", json={"persona_id": pid, "drop": "x"}).status_code == 400
    r = out_client.post("/api/whatif", json={"persona_id": pid})
    assert r.status_code == 409 and "case store" in r.json()["error"]
    assert "needs the case store" in out_client.get(f"/persona/{pid}").text


def test_whatif_exclusivity_matches_the_models_own_counterfactual(client: TestClient) -> None:
    page, _ = _linchpin(client)
    (cf,) = [c for c in page["counterfactuals"] if c["kind"] == "range-shared"]
    e = float(re.search(r"exclusivity ([0-9.]+)", cf["description"]).group(1))  # type: ignore[union-attr]
    r = client.post("/api/whatif", json={"persona_id": page["persona"]["id"],
                                         "exclusivity": e}).json()
    assert (r["probability"], r["likelihood"]) == (cf["probability"], cf["likelihood"])


def _fresh_gop(result: Any) -> Any:
    (p,) = [p for p in result.assessment.personas if p.persona.name == GOP]
    return p


def test_whatif_equals_a_fresh_analyze_without_the_analyst_item(
    client: TestClient, tmp_path: Path, intel_cache: None
) -> None:
    """Drop analyst item fbi-malware-links from the evidence file: exactly its line goes."""
    root, manifest = demo_manifest()
    spec = yaml.safe_load((root / manifest["evidence_file"]).read_text(encoding="utf-8"))
    spec["evidence"] = [i for i in spec["evidence"] if i["id"] != "fbi-malware-links"]
    edited = tmp_path / "analyst.yaml"
    edited.write_text(yaml.safe_dump(spec), encoding="utf-8")
    fresh = _fresh_gop(analyze_demo(evidence_file=edited))
    page, _ = _linchpin(client)
    gone = {ln["id"] for ln in page["lines"]} - {ln.id for ln in fresh.evidence}
    assert len(gone) == 1
    r = client.post("/api/whatif", json={"persona_id": page["persona"]["id"],
                                         "drop": sorted(gone)}).json()
    assert r["probability"] == fresh.verdict.probability
    assert r["likelihood"] == fresh.verdict.likelihood
    assert r["confidence"] == fresh.verdict.confidence
    assert r["posteriors"] == {h.id: h.probability for h in fresh.hypotheses}


OPERATING = """version: "1"
actors:
  - id: dprk-rgb
    name: DPRK Reconnaissance General Bureau (Lazarus Group)
    operating_countries: [JP, TH, TW]
    sources: ["test only: hypothetical operating countries"]
"""


def test_whatif_without_the_linchpin_equals_a_fresh_analyze(
    client: TestClient, tmp_path: Path, intel_cache: None
) -> None:
    """The linchpin (exposed elsewhere) exists because JP, TH and TW are not the actor's
    operating countries: layering a registry that names them removes that line (and makes
    the three country-hit lines neutral) on the same evidence files."""
    layer = tmp_path / "ops.yaml"
    layer.write_text(OPERATING, encoding="utf-8")
    fresh = _fresh_gop(analyze_demo(extra_intel=(layer,)))
    page, linchpin = _linchpin(client)
    assert linchpin not in {ln.id for ln in fresh.evidence}
    assert {ln["id"] for ln in page["lines"]} - {ln.id for ln in fresh.evidence} == {linchpin}
    r = client.post("/api/whatif", json={"persona_id": page["persona"]["id"],
                                         "drop": [linchpin]}).json()
    assert r["probability"] == fresh.verdict.probability
    assert r["likelihood"] == fresh.verdict.likelihood
    assert r["confidence"] == fresh.verdict.confidence
    assert r["posteriors"] == {h.id: h.probability for h in fresh.hypotheses}


def test_hostile_evidence_is_escaped(tmp_path: Path, intel_cache: None) -> None:
    csv = tmp_path / "posts.csv"
    persona, link, img = HOSTILE
    csv.write_text(
        "time,src_ip,persona,channel,note\n"
        f'2014-11-21T08:00:00Z,171.25.193.20,"{persona}","{img}","{link}"\n'
        f'2014-11-21T09:00:00Z,175.45.176.10,"{persona}",web,"{img}"\n',
        encoding="utf-8",
    )
    case = tmp_path / "hostile.duckdb"
    analyze_demo(case=case, extra_evidence=(csv,))
    store = open_store(case)
    with TestClient(create_app(store, TOKEN)) as c:
        c.get(f"/?token={TOKEN}")
        doc = c.get("/.json").json()
        (p,) = [p for p in doc["personas"] if p["name"] == persona]
        ev = c.get("/evidence.json", params={"persona": persona}).json()["events"]
        for path in ("/", f"/persona/{p['id']}", "/evidence", f"/event/{ev[0]['id']}",
                     f"/evidence?persona={persona}", f"/map?persona={persona}",
                     f"/address/{ev[0]['src_ip']}"):
            html = c.get(path).text
            assert "<script>document.title" not in html, path
            assert "<img src=x" not in html, path
            assert 'href="javascript:' not in html, path
            blob = re.search(r'<script type="application/json" id="page-data">(.*?)</script>',
                             html, re.S)
            assert blob is not None and "<" not in blob.group(1), path
            json.loads(blob.group(1).replace("&#34;", '"'))
    store.close()
