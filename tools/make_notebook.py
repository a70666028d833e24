"""Write docs/notebooks/sony-2014.ipynb (the worked notebook), without outputs.

    .venv/bin/python tools/make_notebook.py

The test suite executes it (tests/api/test_notebook.py); edit the cells here, not by hand.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]

CELLS: list[tuple[str, str]] = [
    ("md", """# The Sony Pictures case, 2014, step by step

The bundled demo case (`slipcatch demo`, described in docs/demo.md) is a reconstruction
modelled on the public facts of the 2014 Sony Pictures hack: threat e-mails from
"God'sApstls" and "GOP", a posting log, a file share's access log, daily Tor exit lists and a
CIDR list of the ranges involved. This notebook works through it with the Python API
(docs/api.md): what an address was at a time, enriching a log, the analysis, and a what-if.
Everything runs offline."""),
    ("code", """import pandas as pd

import slipcatch
from slipcatch.api import demo_case

demo = demo_case()
title = demo.pop("title")
print(title)
print(len(demo["evidence"]), "evidence paths,", len(demo["intel"]), "intel sources")"""),
    ("md", """## 1. What was an address, at the time?

On 28 November 2014 at 02:14:13 UTC one e-mail entered from 175.45.176.71. At that moment the
address was in North Korea's own address space, a range the actor registry holds as an
exclusive range of the DPRK Reconnaissance General Bureau. Compare a Tor exit the persona used
the same day (with the demo's Tor lists as extra intel)."""),
    ("code", """at = "2014-11-28T02:14:13Z"
facts = slipcatch.lookup(["175.45.176.71", "8.8.8.8"], at=at)
facts[["ip", "at", "category", "country", "asn", "actor", "tor", "projected"]]"""),
    ("code", """from slipcatch.intel import load_pack

pack = load_pack(demo["intel"])  # the default pack plus the demo's Tor lists and ranges
tor = slipcatch.lookup(["195.154.109.139"], at="2014-11-21T03:47:17Z", pack=pack)
print(tor.loc[0, "category"], bool(tor.loc[0, "tor"]), list(tor.loc[0, "sources"]))"""),
    ("md", """## 2. Enrich a log

The posting log is a plain CSV of events. `slipcatch.enrich` adds, for every row, what its
address was at its own time (vectorised: one lookup call for the whole column)."""),
    ("code", """from slipcatch.cli import demo_case_dir

log = pd.read_csv(demo_case_dir() / "evidence" / "postings.csv")
enriched = slipcatch.enrich(log, ip="src_ip", time="time", prefix="sc_", pack=pack)
enriched[["time", "src_ip", "persona", "sc_category", "sc_country", "sc_actor"]].head(8)"""),
    ("code", """enriched["sc_category"].value_counts()"""),
    ("md", """## 3. Analyse the case

`slipcatch.analyze` takes the evidence paths (and/or DataFrames of events), the extra intel,
the persona map and the analyst's evidence (the FBI's public statement, coded B3). The result
shows a verdict card and the persona's timeline."""),
    ("code", """a = slipcatch.analyze(**demo)
a"""),
    ("code", """top = a.verdicts[0]
print(top.statement, "Confidence:", top.confidence + ".")"""),
    ("code", """cols = ["persona", "ip", "first_seen", "events", "attributed_to",
        "closed_after_seconds"]
a.slips()[cols]"""),
    ("code", """lines = a.lines()
lines[lines.persona == top.persona][["kind", "reliability", "lr:dprk-rgb", "lr:unknown"]]"""),
    ("md", """## 4. What if?

How much does the verdict rest on one piece of evidence? Drop an evidence item (the posting
log) and re-run; then drop the analyst's evidence lines (the FBI statement) instead."""),
    ("code", """kept_paths = [p for p in demo["evidence"] if p.name != "postings.csv"]
without_postings = dict(demo, evidence=kept_paths)
b = slipcatch.analyze(**without_postings)
without_analyst = dict(demo, analyst=None)
c = slipcatch.analyze(**without_analyst)
whatif = pd.DataFrame([
    {"run": "all evidence", "probability": a.verdicts[0].probability,
     "likelihood": a.verdicts[0].likelihood, "confidence": a.verdicts[0].confidence},
    {"run": "without postings.csv", "probability": b.verdicts[0].probability,
     "likelihood": b.verdicts[0].likelihood, "confidence": b.verdicts[0].confidence},
    {"run": "without analyst evidence", "probability": c.verdicts[0].probability,
     "likelihood": c.verdicts[0].likelihood, "confidence": c.verdicts[0].confidence},
])
whatif"""),
    ("md", """The events are a DataFrame too: drop the persona's North Korean slips from the events
and analyse what is left, as a table of events."""),
    ("code", """ev = a.events()
kept = ev[~((ev.persona == top.persona) & (ev.category == "actor"))]
d = slipcatch.analyze(kept[["time", "src_ip", "persona", "channel"]], intel=demo["intel"])
gop = next(v for v in d.verdicts if v.persona == top.persona)
print(len(ev) - len(kept), "events dropped;", gop.persona, "->", gop.actor, gop.likelihood)"""),
    ("md", """`a.write("out/")` writes the same files as `slipcatch analyze --out out/`
(assessment.json, events.jsonl, report.md, report.html, STIX and MISP); `a.to_html()` is the
full interactive report."""),
]


def build() -> nbformat.NotebookNode:
    cells = [new_markdown_cell(src) if kind == "md" else new_code_cell(src)
             for kind, src in CELLS]
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    return nb


if __name__ == "__main__":
    out = ROOT / "docs" / "notebooks" / "sony-2014.ipynb"
    nbformat.write(build(), out)
    print(out)
