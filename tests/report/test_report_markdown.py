"""report.md: order of sections, escaping of evidence text, tables that stay tables."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from slipcatch.report import render_markdown
from slipcatch.report._format import md

from .fixtures import SCRIPT, build_assessment


@pytest.fixture(scope="module")
def text() -> str:
    return render_markdown(build_assessment())


def test_verdicts_come_first_then_personas_then_accounting_and_method(text: str) -> None:
    heads = [line for line in text.splitlines() if line.startswith("## ")]
    assert heads[0] == "## Verdicts"
    assert heads[1].startswith("## Persona: GOP")
    assert heads[2] == "## Persona: noise"
    assert heads[3:] == ["## Evidence accounting", "## Method"]


def test_persona_sections_in_reading_order(text: str) -> None:
    first = text.split("## Persona: ")[1]
    order = [
        "### Verdict",
        "### Slips",
        "### Evidence lines",
        "### Hypotheses",
        "### ACH matrix",
        "### Linchpins",
        "### Alternatives",
        "### E-mail origins",
    ]
    positions = [first.index(h) for h in order]
    assert positions == sorted(positions)


def test_no_raw_angle_bracket_reaches_a_markdown_viewer(text: str) -> None:
    assert SCRIPT not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<" not in text and ">" not in text.replace("\n> ", "\n")


def _unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_every_table_row_has_its_header_column_count(text: str) -> None:
    tables = 0
    header_pipes = None
    for line in text.splitlines():
        if line.startswith("|"):
            if header_pipes is None:
                header_pipes = _unescaped_pipes(line)
                tables += 1
            assert _unescaped_pipes(line) == header_pipes, line
        else:
            header_pipes = None
    assert tables == 14


def test_key_rows(text: str) -> None:
    # ACH rows are named by line label (L1...), with the Diagnosticity column last.
    assert "| L1 | + 0.9 | − 0.05 | − 0.001 | 1 |" in text
    assert "| L2 | 0.5 | n/a | 1 |" in text
    assert "| 2 | 210 s (3 min 30 s) | email, web | trusted-relay |" in text
    # Label, id, ..., LR vs the strongest rival, that rival, LR vs the unknown party.
    assert (
        "| L1 | L1-actor-range | actor-range-slip | 2 events from 175.45.176.0/22 (Star JV, KP), "
        "exclusive to lazarus | B2 | R1 actor-range slip | 18 | H2 false flag | 900 | 1 | S1 |"
    ) in text
    assert "| S1 | slip--0268cc4cb7892eea | 175.45.176.10 |" in text
    assert "- L1 (L1-actor-range): evidence line (actor-range-slip)" in text
    assert "Closed after: seconds from the slip's last exposed event" in text
    assert "| bad-address | 2 |" in text
    assert "Totals: records 13, events analysed 9, rejected 3, duplicates 1." in text
    assert "- Intel pack: pack--0123456789abcdef" in text


def test_md_escapes_markup_and_line_breaks() -> None:
    assert md("a|b") == "a\\|b"
    assert md("`x` *y* _z_ [l](u) #h $m$ ~s~") == (
        "\\`x\\` \\*y\\* \\_z\\_ \\[l\\](u) \\#h \\$m\\$ \\~s\\~"
    )
    assert md("<b>&amp;</b>") == "&lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert md("line1\nline2\r\nx") == "line1 line2  x"
    assert md("a\\b") == "a\\\\b"


def test_md_neutralises_controls_surrogates_and_bidi_overrides() -> None:
    assert md("ab\x00c\x1b") == "ab\ufffdc\ufffd"
    assert md("bad\udcffbyte") == "bad\ufffdbyte"
    assert md("evil\u202eexe.txt") == "evil\ufffdexe.txt"


def test_unbounded_ratio_is_shown_as_infinity() -> None:
    a = build_assessment()
    gop = a.personas[1]
    line = replace(
        gop.evidence[2], likelihoods={"H-lazarus": 0.5, "H-false-flag": 0.0, "H-unknown": 0.0}
    )
    a = replace(a, personas=(a.personas[0], replace(gop, evidence=(line,))))
    assert "| D4 | R5 country | ∞ | H2 false flag |" in render_markdown(a)


def test_ratios_read_as_numbers_at_every_size():
    from slipcatch.report._format import ratio

    assert [ratio(x) for x in (0.5, 4.8, 999.4, 1286.13, 3.66e8, 1e9, 3.656e15, 1e100)] == [
        "0.5",
        "4.8",
        "999",
        "1,286",
        "366,000,000",
        "1e+09",
        "3.66e+15",
        "1e+100",
    ]
    assert (ratio(None), ratio(float("inf"))) == ("n/a", "∞")
