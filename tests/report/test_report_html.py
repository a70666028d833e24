"""report.html: self-contained, no script, every evidence string escaped."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

import slipcatch.report
from slipcatch.report import render_html
from slipcatch.report._timeline import WIDTH, build_timeline, lane_of
from slipcatch.report.html import CSP

from .fixtures import HOSTILE_CHANNEL, SCRIPT, build_assessment

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


def test_hostile_persona_name_is_escaped(page: str) -> None:
    assert SCRIPT not in page
    assert "<script" not in page.lower()
    assert (
        "GOP &lt;script&gt;alert(1)&lt;/script&gt; &#34;God&#39;sApstls&#34; &amp; Co | `wiper`"
        in page
    )


def test_no_script_element_and_no_external_load(parsed: _Collector) -> None:
    names = [t for t, _ in parsed.tags]
    assert names.count("script") == 0
    assert not {"link", "img", "iframe", "object", "embed", "base", "form"} & set(names)
    assert names.count("style") == 1
    for _tag, attrs in parsed.tags:
        assert not any(k.startswith("on") for k in attrs)
        assert "src" not in attrs
        href = attrs.get("href")
        assert href is None or href.startswith("#")


def test_content_security_policy_forbids_external_loads(parsed: _Collector) -> None:
    metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    assert metas == [{"http-equiv": "Content-Security-Policy", "content": CSP}]
    assert CSP.startswith("default-src 'none'; style-src 'unsafe-inline'; img-src data:")
    assert "script-src" not in CSP


def test_hostile_text_inside_svg_title_stays_text(parsed: _Collector) -> None:
    titles = [text for tag, _, text in parsed.texts if tag == "title"]
    assert any(HOSTILE_CHANNEL in t for t in titles)


def test_verdict_banner_keeps_likelihood_and_confidence_apart(parsed: _Collector) -> None:
    terms = [text for _, cls, text in parsed.texts if cls == "term"]
    confidences = [text for _, cls, text in parsed.texts if cls and "confidence " in cls]
    assert terms == ["very likely", "likely"]
    assert confidences == ["Confidence: moderate", "Confidence: low"]
    statements = [text for _, cls, text in parsed.texts if cls == "statement"]
    assert statements[0].startswith("We assess it is very likely (93%) that GOP " + SCRIPT)


def test_timeline_marks_slip_and_categories(parsed: _Collector) -> None:
    circles = [a["class"] for t, a in parsed.tags if t == "circle"]
    # GOP: 5 marks (the two slip events share a pixel column); noise: 3.
    assert circles == [
        "mark cover", "mark cover", "mark actor slip", "mark cover", "mark cover",
        "mark exposed", "mark exposed", "mark cover",
    ]


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


def test_timeline_with_no_events_or_one_instant() -> None:
    a = build_assessment()
    assert build_timeline((), {}).marks == ()
    one = build_timeline(a.observations[:1], {})
    assert [(m.x, m.lane, m.count) for m in one.marks] == [(110 + (WIDTH - 110 - 12) // 2,
                                                           "cover", 1)]


def test_timeline_bins_many_events_into_bounded_marks() -> None:
    a = build_assessment()
    many = a.observations * 2000  # same times repeated: one column per distinct (time, lane)
    tl = build_timeline(sorted(many, key=lambda o: o.event.time), {})
    assert len(tl.marks) <= 9
    assert sum(m.count for m in tl.marks) == 18000


def test_lane_of_categories() -> None:
    from slipcatch.model import Category

    assert [lane_of(c) for c in Category] == [
        "cover", "cover", "cover", "cover", "exposed", "exposed", "actor", "exposed",
    ]


def test_joined_lists_are_escaped_exactly_once(page: str) -> None:
    # Identities and channels go through |join, which escapes; finalize must not escape again.
    assert "identities: &lt;script&gt;alert(1)&lt;/script&gt;@example.net, gop@example.net" in page
    assert "&amp;lt;" not in page and "&amp;amp;" not in page
