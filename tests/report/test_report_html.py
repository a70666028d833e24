"""report.html: self-contained, three scripts allowed by hash, every evidence string escaped."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import plotly.offline
import pytest

import slipcatch.report
from slipcatch.evidence import REASONS
from slipcatch.model import Observation, Slip
from slipcatch.report import render_html
from slipcatch.report._plots import hover_text, script_json
from slipcatch.report._timeline import build_timeline, country_breakdown, lane_of
from slipcatch.report.html import csp, script_hash

from .fixtures import HOSTILE_CHANNEL, HOSTILE_NAME, MBOX_SHA, SCRIPT, build_assessment

TEMPLATES = Path(slipcatch.report.__file__).parent / "templates"


class _Collector(HTMLParser):
    """Start tags with attributes, and the text inside each <title> / class'd span."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, str | None, str]] = []  # (tag, class, text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        d = dict(attrs)
        self.tags.append((tag, d))
        if tag not in {"meta", "line", "br", "col", "img", "input", "link"}:
            self.stack.append((tag, d))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack and data.strip():
            tag, attrs = self.stack[-1]
            self.texts.append((tag, attrs.get("class"), data))


@pytest.fixture(scope="module")
def page() -> str:
    return render_html(build_assessment())


@pytest.fixture(scope="module")
def parsed(page: str) -> _Collector:
    c = _Collector()
    c.feed(page)
    c.close()
    return c


def _scripts(page: str) -> list[tuple[str, str]]:
    return re.findall(r"<script([^>]*)>(.*?)</script>", page, flags=re.S)


def _figures(page: str) -> dict[str, Any]:
    (body,) = [b for attrs, b in _scripts(page) if 'id="slipcatch-figures"' in attrs]
    return dict(json.loads(body))


def test_hostile_persona_name_is_escaped(page: str) -> None:
    assert SCRIPT not in page
    assert page.lower().count("<script") == 3
    assert (
        "GOP &lt;script&gt;alert(1)&lt;/script&gt; &#34;God&#39;sApstls&#34; &amp; Co | `wiper`"
        in page
    )


def test_exactly_three_scripts_and_no_external_load(parsed: _Collector, page: str) -> None:
    names = [t for t, _ in parsed.tags]
    assert [a for t, a in parsed.tags if t == "script"] == [
        {"type": "application/json", "id": "slipcatch-figures"},
        {},
        {},
    ]
    assert not {"link", "img", "iframe", "object", "embed", "base", "form"} & set(names)
    assert names.count("style") == 1
    assert names.count("noscript") == 1
    for _tag, attrs in parsed.tags:
        assert not any(k.startswith("on") for k in attrs)
        assert "src" not in attrs
        href = attrs.get("href")
        assert href is None or href.startswith("#")
    (_, data), (_, lib), (_, boot) = _scripts(page)
    # The data block holds no markup character at all; evidence is JSON-escaped inside it.
    assert not set("<>&") & set(data)
    assert lib == plotly.offline.get_plotlyjs()
    assert boot == (TEMPLATES / "report.js").read_text("utf-8")
    assert "alert(" not in lib + boot and "God" not in lib + boot


def test_content_security_policy_allows_only_the_two_inline_scripts(
    parsed: _Collector, page: str
) -> None:
    metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    (_, _data), (_, lib), (_, boot) = _scripts(page)
    hashes = []
    for body in (lib, boot):
        digest = hashlib.sha256(body.encode("utf-8")).digest()
        hashes.append("'sha256-" + base64.b64encode(digest).decode() + "'")
    assert hashes == [script_hash(lib), script_hash(boot)]
    assert metas == [{"http-equiv": "Content-Security-Policy", "content": csp(hashes)}]
    policy = dict(
        (part.split(" ", 1)[0], part.split(" ", 1)[1]) for part in csp(hashes).split("; ")
    )
    assert policy == {
        "default-src": "'none'",
        "script-src": " ".join(hashes),
        "style-src": "'unsafe-inline'",
        "img-src": "data:",
        "font-src": "'none'",
        "connect-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'none'",
    }


def test_script_json_cannot_leave_its_element() -> None:
    text = script_json({"b": "</script><!-- \u2028\u2029 & x", "a": 1})
    assert text == ('{"a":1,"b":"\\u003c/script\\u003e\\u003c!-- \\u2028\\u2029 \\u0026 x"}')
    assert json.loads(text) == {"a": 1, "b": "</script><!-- \u2028\u2029 & x"}
    with pytest.raises(ValueError):
        script_json({"x": float("nan")})


def test_hover_text_is_escaped_and_cleaned() -> None:
    assert hover_text(["<b>x</b> & 'y' \"z\"", "bidi\u202eevil"]) == (
        "&lt;b&gt;x&lt;/b&gt; &amp; 'y' \"z\"<br>bidi\ufffdevil"
    )


def test_hostile_channel_reaches_plotly_only_escaped(page: str) -> None:
    figures = _figures(page)
    texts = [h for f in figures.values() for t in f["data"] for h in t.get("hovertext", [])]
    assert any(
        "channel table:post&lt;/title&gt;&lt;script&gt;alert(3)&lt;/script&gt;" in (h or "")
        for h in texts
    )
    assert not any(HOSTILE_CHANNEL in (h or "") for h in texts)
    assert not any("<script" in (h or "") for h in texts)


def test_figures_are_valid_plotly(page: str) -> None:
    figures = _figures(page)
    assert sorted(figures) == [
        "countries-1", "countries-2", "map-1", "map-2", "outline", "timeline-1", "timeline-2",
    ]
    outline = figures.pop("outline")["data"]
    for fig in figures.values():
        data = outline + fig["data"] if fig.get("outline") else fig["data"]
        go.Figure(data=data, layout=fig["layout"])  # raises on an unknown property


def test_timeline_figure_of_the_attributed_persona(page: str) -> None:
    fig = _figures(page)["timeline-1"]
    assert [(t["name"], len(t["x"])) for t in fig["data"]] == [
        ("cover", 4),
        ("slip event", 2),
        ("time to close", 3),
    ]
    slip, close = fig["data"][1], fig["data"][2]
    assert slip["x"] == ["2014-11-21 09:00:00", "2014-11-21 09:02:00"]
    assert slip["y"] == ["actor range", "actor range"]
    assert close["x"] == ["2014-11-21 09:02:00", "2014-11-21 09:05:30", None]
    assert "back under cover after 210 s (3 min 30 s)" in close["hovertext"][0]
    (shape,) = fig["layout"]["shapes"]
    assert (shape["x0"], shape["x1"]) == ("2014-11-21 09:00:00", "2014-11-21 09:05:30")
    assert [a["text"] for a in fig["layout"]["annotations"]] == ["S1"]


def test_country_figure_of_the_attributed_persona(page: str) -> None:
    fig = _figures(page)["countries-1"]
    assert [(t["name"], t["y"], t["x"]) for t in fig["data"]] == [
        ("cover", ["KP", "SE", "RO", "US"], [0, 2, 1, 1]),
        ("actor range", ["KP", "SE", "RO", "US"], [2, 0, 0, 0]),
    ]


def test_verdict_banner_keeps_likelihood_and_confidence_apart(parsed: _Collector) -> None:
    terms = [text for _, cls, text in parsed.texts if cls == "term"]
    confidences = [text for _, cls, text in parsed.texts if cls and "confidence " in cls]
    # Key judgement (the attributed persona), then each persona's own banner.
    assert terms == ["very likely", "very likely", "likely"]
    assert confidences == ["Confidence: moderate"] * 2 + ["Confidence: low"]
    statements = [text for _, cls, text in parsed.texts if cls == "statement"]
    assert statements[0].startswith("We assess it is very likely (93%) that GOP " + SCRIPT)
    assert statements[0] == statements[1]


def test_provenance_rows_name_file_locator_hash_and_intel(page: str) -> None:
    section = page[page.index('id="persona-1"') : page.index('id="persona-2"')]
    table = section[section.index('<table class="provenance">') :]
    table = table[: table.index("</table>")]
    assert table.count("<tr>") == 3  # header + the two slip events
    assert "evidence/gop-mail.mbox<br>message 2 · " in table
    assert "evidence/posts &amp; &lt;logins&gt;.csv<br>row 3 · " in table
    assert f'title="{MBOX_SHA}">{MBOX_SHA[:16]}…' in table
    assert (
        "<li>actor-registry v1 (actor, Star JV, actor lazarus, exclusivity 1.00) "
        "valid 2010-01-01 – …</li>" in table
    )
    assert "<li>geoip2fast v1.2.2 (Ryugyong-dong)</li>" in table


def test_rejection_reasons_are_explained(page: str) -> None:
    method = page[page.index('id="method"') :]
    assert f"<td>bad-address</td><td>{html.escape(REASONS['bad-address'])}</td>" in method


def test_render_is_deterministic() -> None:
    assert render_html(build_assessment()) == render_html(build_assessment())


def test_hop_rows_show_who_wrote_them(parsed: _Collector) -> None:
    rows = [a["class"] for t, a in parsed.tags if t == "tr" and a.get("class")]
    assert rows == ["trust-trusted-relay", "trust-sender-provider", "trust-sender-written"] * 2


def test_print_stylesheet_present(page: str) -> None:
    assert "@media print" in page


def test_templates_never_mark_text_safe() -> None:
    for path in TEMPLATES.iterdir():
        text = path.read_text(encoding="utf-8")
        assert "|safe" not in text.replace(" ", "")
        assert "autoescape false" not in text


def _gop_observations() -> tuple[list[Observation], dict[str, str], tuple[Slip, ...]]:
    a = build_assessment()
    (gop,) = [p for p in a.personas if p.slips]
    obs = [o for o in a.observations if o.event.persona == HOSTILE_NAME]
    slip_of_event = {e: s.id for s in gop.slips for e in s.event_ids}
    return obs, slip_of_event, gop.slips


def test_timeline_points_and_episode() -> None:
    obs, slip_of_event, slips = _gop_observations()
    tl = build_timeline(obs, slip_of_event, slips)
    assert not tl.binned
    assert [(p.time.strftime("%d %H:%M:%S"), p.lane, p.slip, p.count) for p in tl.points] == [
        ("21 08:00:00", "cover", None, 1),
        ("21 08:30:00", "cover", None, 1),
        ("21 09:00:00", "actor", "S1", 1),
        ("21 09:02:00", "actor", "S1", 1),
        ("21 09:05:30", "cover", None, 1),
        ("24 10:00:00", "cover", None, 1),
    ]
    assert tl.points[2].hover == (
        "2014-11-21T09:00:00Z",
        "175.45.176.10 · actor · KP · AS131279 · Ryugyong-dong",
        "channel email",
        "evidence/gop-mail.mbox message 2",
        "slip S1",
    )
    (ep,) = tl.episodes
    assert (ep.label, ep.lane, ep.closed_after) == ("S1", "actor", "210 s (3 min 30 s)")
    assert ep.closed_at == datetime(2014, 11, 21, 9, 5, 30, tzinfo=UTC)


def test_timeline_with_no_events() -> None:
    tl = build_timeline((), {})
    assert (tl.points, tl.episodes, tl.start) == ((), (), None)


def test_timeline_bins_many_events_into_bounded_points() -> None:
    a = build_assessment()
    many = sorted(a.observations * 2000, key=lambda o: o.event.time)
    tl = build_timeline(many, {}, max_points=1000)
    assert tl.binned
    # Same 9 times repeated: one point per distinct (bucket, lane); buckets are 444 s wide
    # here, so the two actor-range events at 09:00 and 09:02 share one.
    assert len(tl.points) == 8
    assert sum(p.count for p in tl.points) == 18000
    assert [p.count for p in tl.points if p.lane == "actor"] == [4000]
    assert tl.points[0].hover[0].startswith("2000 events 2014-11-21T08:00:00Z")
    assert not build_timeline(many, {}, max_points=18000).binned


def test_country_breakdown_orders_and_folds_the_tail() -> None:
    obs, _, _ = _gop_observations()
    rows = country_breakdown(obs)
    assert [(r.country, r.counts, r.addresses) for r in rows] == [
        ("KP", (0, 0, 2), 1),
        ("SE", (2, 0, 0), 1),
        ("RO", (1, 0, 0), 1),
        ("US", (1, 0, 0), 1),
    ]
    folded = country_breakdown(obs, limit=2)
    assert [(r.country, r.counts, r.addresses) for r in folded] == [
        ("KP", (0, 0, 2), 1),
        ("other (3 countries)", (4, 0, 0), 3),
    ]


def test_lane_of_categories() -> None:
    from slipcatch.model import Category

    assert [lane_of(c) for c in Category] == [
        "cover",
        "cover",
        "cover",
        "cover",
        "exposed",
        "exposed",
        "actor",
        "exposed",
    ]


def test_joined_lists_are_escaped_exactly_once(page: str) -> None:
    # Identities and channels go through |join, which escapes; finalize must not escape again.
    assert "identities: &lt;script&gt;alert(1)&lt;/script&gt;@example.net, gop@example.net" in page
    assert "&amp;lt;" not in page and "&amp;amp;" not in page
