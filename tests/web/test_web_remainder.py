"""The overview shows the unassessed remainder of a large run (issue 13, item 5): counts by
category and country and the busiest addresses, escaped, in the page and its JSON twin."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from starlette.testclient import TestClient

from report.fixtures import (  # tests/report (rootdir on sys.path)
    REMAINDER,
    REMAINDER_DOC,
    build_assessment,
)
from slipcatch.report import write_reports
from slipcatch.web import create_app, open_store

TOKEN = "tok-" + "r" * 20

def _client(out: Path, with_remainder: bool) -> tuple[TestClient, object]:
    assessment = build_assessment()
    if with_remainder:
        assessment = dataclasses.replace(assessment, remainder=REMAINDER)
    write_reports(assessment, out, only=["assessment", "events"])
    store = open_store(out)
    client = TestClient(create_app(store, TOKEN))
    assert client.get(f"/?token={TOKEN}").status_code == 200
    return client, store


def test_overview_shows_the_remainder_escaped(tmp_path: Path) -> None:
    client, store = _client(tmp_path / "out", True)
    try:
        doc = client.get("/.json").json()
        assert doc["remainder"] == REMAINDER_DOC
        html = client.get("/").text
        section = html.split('<section id="remainder">', 1)[1].split("</section>", 1)[0]
        assert "12345 events of 3 personas" in section
        assert "<td>tor</td><td class=\"num\">9000</td>" in section
        assert "<td>–</td><td class=\"num\">4000</td>" in section  # no country known
        assert '<td class="mono">185.220.101.7</td><td>tor</td><td class="num">5000</td>' in section
        assert "&lt;b&gt;hosting&lt;/b&gt;" in section
        assert "&lt;script&gt;x&lt;/script&gt;" in section
        assert "<script>x" not in html and "<b>hosting" not in html
    finally:
        client.close()
        store.close()  # type: ignore[attr-defined]


def test_overview_without_remainder_has_no_section(tmp_path: Path) -> None:
    client, store = _client(tmp_path / "out", False)
    try:
        assert client.get("/.json").json()["remainder"] is None
        assert 'id="remainder"' not in client.get("/").text
    finally:
        client.close()
        store.close()  # type: ignore[attr-defined]
