"""The unassessed remainder (``Assessment.remainder``): personas the engine did not assess one
by one are summarised as tables in Markdown and HTML and as ``remainder`` in assessment.json;
event totals count them."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema

from slipcatch.model import Assessment
from slipcatch.report import assessment_document, render_html, render_markdown

from .fixtures import REMAINDER, REMAINDER_DOC, build_assessment

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / ".." / "shared" / "contracts"
     / "assessment.schema.json").read_text("utf-8")
)


def _with_remainder() -> Assessment:
    return dataclasses.replace(build_assessment(), remainder=REMAINDER)


def test_markdown_remainder_tables() -> None:
    text = render_markdown(_with_remainder())
    section = text.split("## Unassessed remainder\n", 1)[1].split("\n## ", 1)[0]
    assert section.startswith(
        "\n12345 events of 3 personas with nothing to weigh (no address in an actor's range, "
        "no exposed event amid cover) were not assessed one by one;"
    )
    lines = section.splitlines()
    assert "| Category | Events |" in lines
    assert "| tor | 9000 |" in lines
    assert "| residential | 3000 |" in lines
    assert "| &lt;b&gt;hosting&lt;/b&gt; | 345 |" in lines
    assert "| SE | 8000 |" in lines
    assert "| – | 4000 |" in lines  # no country known
    assert "| K\\|P | 345 |" in lines  # a pipe would split the cell
    assert "| 185.220.101.7 | tor | 5000 |" in lines
    assert "| &lt;script&gt;x&lt;/script&gt; | unknown | 12 |" in lines
    # The remainder comes after the personas and before the accounting.
    assert text.index("## Unassessed remainder") < text.index("## Evidence accounting")
    # Totals count every event: the fixture's 9 and the remainder's 12345.
    assert "· 12354 events · 2 personas" in text
    assert "events analysed 12354," in text


def test_markdown_without_remainder_has_no_section() -> None:
    text = render_markdown(build_assessment())
    assert "Unassessed remainder" not in text
    assert "· 9 events ·" in text


def test_html_remainder_tables_are_escaped() -> None:
    page = render_html(_with_remainder())
    section = page.split('<section id="remainder">', 1)[1].split("</section>", 1)[0]
    assert "<h2>Unassessed remainder</h2>" in section
    assert "<p>12345 events of 3 personas" in section
    assert '<tr><td>tor</td><td class="num">9000</td></tr>' in section
    assert '<tr><td>&lt;b&gt;hosting&lt;/b&gt;</td><td class="num">345</td></tr>' in section
    assert '<tr><td>–</td><td class="num">4000</td></tr>' in section
    assert '<tr><td>K|P</td><td class="num">345</td></tr>' in section
    assert ('<tr><td class="mono">185.220.101.7</td><td>tor</td><td class="num">5000</td>'
            "</tr>") in section
    assert ('<tr><td class="mono">&lt;script&gt;x&lt;/script&gt;</td><td>unknown</td>'
            '<td class="num">12</td></tr>') in section
    assert "<script>x" not in page
    assert '<li><a href="#remainder">Unassessed remainder</a></li>' in page
    assert "· 12354 events · 2 personas</p>" in page


def test_html_without_remainder_has_no_section() -> None:
    page = render_html(build_assessment())
    assert 'id="remainder"' not in page and "#remainder" not in page


def test_assessment_json_carries_the_remainder() -> None:
    doc = assessment_document(_with_remainder())
    jsonschema.validate(doc, SCHEMA)  # the schema allows added top-level fields
    assert doc["remainder"] == REMAINDER_DOC
    assert doc["events"] == 9 + 12345
    # The fixture's own categories (tor 2, residential 1) plus the remainder's.
    assert doc["event_categories"]["tor"] == 2 + 9000
    assert doc["event_categories"]["residential"] == 1 + 3000
    assert doc["event_categories"]["<b>hosting</b>"] == 345
    assert doc["event_categories"]["actor"] == 2


def test_assessment_json_without_remainder_has_no_key() -> None:
    doc = assessment_document(build_assessment())
    assert "remainder" not in doc and doc["events"] == 9
