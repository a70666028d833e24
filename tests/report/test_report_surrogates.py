"""Bug found by a mutation run over the shared samples: an e-mail whose header bytes were not
UTF-8 (kept as lone surrogates) made the MISP writer fail while deriving a uuid5 from the
header text. Every writer must accept such text."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from slipcatch.report import write_reports

from .fixtures import build_assessment


def test_every_writer_accepts_lone_surrogates_in_email_headers(tmp_path: Path):
    a = build_assessment()
    odd = "Subject: caf\udce9 \udc9c"
    observations = []
    changed = 0
    for o in a.observations:
        if o.event.hops:
            hops = tuple(dataclasses.replace(h, raw=odd) for h in o.event.hops)
            attrs = {**o.event.attributes, "subject": odd}
            ev = dataclasses.replace(o.event, hops=hops, attributes=attrs)
            o = dataclasses.replace(o, event=ev)
            changed += 1
        observations.append(o)
    assert changed > 0
    out = write_reports(dataclasses.replace(a, observations=tuple(observations)), tmp_path)
    assert sorted(out) == [
            "assessment", "events", "events_parquet", "html", "markdown", "misp", "stix"
        ]
    misp = json.loads((tmp_path / "misp-event.json").read_text(encoding="utf-8"))
    values = [
        attr["value"]
        for obj in misp["Event"].get("Object", [])
        for attr in obj.get("Attribute", [])
    ]
    assert odd in values  # the header text is kept exactly, as a JSON \udcXX escape
