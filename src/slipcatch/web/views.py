"""The data of every workbench page, as plain dicts: the ``.json`` twin is exactly this, and the
HTML page renders it (Jinja2, autoescaped)."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from .store import EventFilter, Store

__all__ = ["address", "case_title", "event", "evidence", "overview", "persona", "world_map"]

EXPOSED = ("actor", "residential", "unknown")
COVER = ("tor", "vpn", "proxy", "hosting")


def duration(seconds: float | None) -> str:
    """``195 s`` as "3 min 15 s"; None as an em dash."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60} s"
    if s < 86400:
        return f"{s // 3600} h {(s % 3600) // 60} min"
    return f"{s // 86400} d {(s % 86400) // 3600} h"


def case_title(store: Store) -> str:
    title = store.document.get("title")
    return str(title) if title else store.path.name


def _rank(p: dict[str, Any]) -> tuple[Any, ...]:
    v = p["assessment"]["verdict"]
    return (v.get("actor") is None, -float(v.get("probability") or 0), -int(p["events"]), p["name"])


def overview(store: Store) -> dict[str, Any]:
    doc = store.document
    personas = []
    for p in sorted(doc.get("personas", []), key=_rank):
        v = p["assessment"]["verdict"]
        personas.append(
            {
                "id": p["id"], "name": p["name"], "events": p["events"],
                "slips": len(p.get("slips", [])), "cover_ratio": p.get("cover_ratio"),
                "actor": v.get("actor"), "probability": v.get("probability"),
                "likelihood": v.get("likelihood"), "confidence": v.get("confidence"),
                "statement": v.get("statement"),
            }
        )
    files = [
        {
            "name": Path(str(f.get("path", ""))).name, "path": f.get("path"),
            "sha256": f.get("sha256"), "format": f.get("format"), "records": f.get("records"),
            "events": f.get("events"), "rejected": f.get("rejected"),
            "duplicates": f.get("duplicates"), "size": f.get("size"),
        }
        for f in doc.get("evidence", [])
    ]
    intel = doc.get("intel", {})
    return {
        "page": "overview",
        "title": case_title(store),
        "source": {"kind": store.kind, "path": str(store.path), "writable": store.writable},
        "generated_at": doc.get("generated_at"),
        "model_version": doc.get("model_version"),
        "events": doc.get("events"),
        "event_categories": doc.get("event_categories", {}),
        "files": files,
        "rejections_by_reason": doc.get("rejections_by_reason", {}),
        "runs": store.runs or [{"run_id": None, "generated_at": doc.get("generated_at"),
                                "pack_id": intel.get("pack_id")}],
        "intel": {
            "pack_id": intel.get("pack_id"),
            "sources": [
                {k: s.get(k) for k in ("name", "kind", "version", "records", "valid_from",
                                       "valid_to", "licence")}
                for s in intel.get("sources", [])
            ],
        },
        "personas": personas,
        "remainder": _remainder(doc.get("remainder")),
    }


def _remainder(doc: Any) -> dict[str, Any] | None:
    """The unassessed remainder of a large run (``remainder`` of assessment.json), or None.

    The personas the engine did not assess one by one stay in the event table; the overview
    shows their counts so that the analyst sees how much of the log the verdicts do not cover.
    """
    if not isinstance(doc, dict):
        return None
    return {
        "events": doc.get("events"),
        "personas": doc.get("personas"),
        "by_category": list(doc.get("by_category", [])),
        "by_country": list(doc.get("by_country", [])),
        "top_addresses": list(doc.get("top_addresses", [])),
    }


def _find(store: Store, pid: str) -> dict[str, Any] | None:
    for p in store.document.get("personas", []):
        if p["id"] == pid:
            return dict(p)
    return None


def persona(store: Store, pid: str) -> dict[str, Any] | None:
    """The persona page's data; all but the notes is computed once per persona."""
    base: dict[str, Any] | None = store.cached(("persona-view", pid), lambda: _persona(store, pid))
    if base is None:
        return None
    return {
        **base,
        "notes": store.notes("persona", pid),
        "line_notes": _by_target(store.notes("line", [ln["id"] for ln in base["lines"]])),
    }


def _persona(store: Store, pid: str) -> dict[str, Any] | None:
    p = _find(store, pid)
    if p is None:
        return None
    p = json.loads(json.dumps(p))  # labels are added below: never to the served document
    a = p["assessment"]
    hyps = a.get("hypotheses", [])
    lines = a.get("evidence_lines", [])
    hlabel = {h["id"]: f"H{k}" for k, h in enumerate(hyps, 1)}
    llabel = {line["id"]: f"L{k}" for k, line in enumerate(lines, 1)}
    slabel = {s["id"]: f"S{k}" for k, s in enumerate(p.get("slips", []), 1)}
    for h in hyps:
        h["label"] = hlabel[h["id"]]
    for line in lines:
        line["label"] = llabel[line["id"]]
        lr = line.get("likelihood_ratio") or {}
        line["lr_text"] = (
            f"{lr.get('value')} ({hlabel.get(lr.get('hypothesis'), '?')} : "
            f"{hlabel.get(lr.get('against'), '?')})" if lr else ""
        )
        line["slip_labels"] = [slabel.get(s, s) for s in line.get("slip_ids", [])]
    for s in p.get("slips", []):
        s["label"] = slabel[s["id"]]
    events, total = store.persona_events(p["name"])
    verdict = a.get("verdict", {})
    labels = {**hlabel, **llabel, **slabel}
    return {
        "page": "persona",
        "persona": {k: p.get(k) for k in ("id", "name", "events", "channels", "cover_ratio",
                                          "identities")},
        "verdict": verdict,
        "hypotheses": hyps,
        "lines": lines,
        "slips": p.get("slips", []),
        "linchpins": [{"id": i, "label": labels.get(i, i)} for i in verdict.get("linchpins", [])],
        "alternatives": [dict(x, label=labels.get(x.get("item", ""), x.get("item")))
                         for x in a.get("alternatives", [])],
        "counterfactuals": a.get("what_would_change_our_mind", []),
        "priors": a.get("priors"),
        "timeline": {"events": events, "total": total, "shown": len(events)},
        "whatif": {"available": store.assessment is not None},
    }


def _by_target(notes: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for n in notes:
        out.setdefault(n["target_id"], []).append(n)
    return out


def address(store: Store, ip: str) -> dict[str, Any]:
    rows = store.address(ip)
    return {
        "page": "address",
        "ip": ip,
        "events": rows,
        "validity_known": store.assessment is not None,
    }


def evidence(store: Store, flt: EventFilter) -> dict[str, Any]:
    data = store.events_page(flt)
    data["page_name"] = "evidence"
    data["facets"] = store.facets()
    data["personas"] = sorted(p["name"] for p in store.document.get("personas", []))
    return {"page": "evidence", **data}


def event(store: Store, eid: str) -> dict[str, Any] | None:
    rec = store.event(eid)
    if rec is None:
        return None
    return {
        "page": "event",
        "event": rec,
        "raw": json.dumps(rec.get("attributes", {}), indent=2, sort_keys=True,
                          ensure_ascii=False),
        "notes": store.notes("event", eid),
    }


@lru_cache(maxsize=1)
def _world_names() -> dict[str, str]:
    path = Path(str(resources.files("slipcatch.web") / "static" / "world-110m.json"))
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {c["iso2"]: c["name"] for c in doc["countries"] if c["iso2"]}


def world_map(store: Store, persona_name: str = "") -> dict[str, Any]:
    """Countries of exposed events, of cover events (apart), and of slips."""
    where, params = ("WHERE persona = ?", [persona_name]) if persona_name else ("", [])
    with store.cursor() as cur:
        rows = cur.execute(
            f"SELECT upper(country), category, count(*) FROM {store.tables[0]} {where} "
            "GROUP BY ALL ORDER BY ALL",
            params,
        ).fetchall()
    exposed: dict[str, int] = {}
    cover: dict[str, int] = {}
    for country, category, n in rows:
        if not country:
            continue
        if category in EXPOSED:
            exposed[country] = exposed.get(country, 0) + int(n)
        elif category in COVER:
            cover[country] = cover.get(country, 0) + int(n)
    slips = []
    for p in store.document.get("personas", []):
        if persona_name and p["name"] != persona_name:
            continue
        for s in p.get("slips", []):
            slips.append({k: s.get(k) for k in ("id", "ip", "country", "category", "attributed_to",
                                                "closed_after_seconds", "first_seen")}
                         | {"persona": p["name"], "persona_id": p["id"]})
    names = _world_names()
    return {
        "page": "map",
        "persona": persona_name,
        "personas": sorted(p["name"] for p in store.document.get("personas", [])),
        "exposed": exposed,
        "cover": cover,
        "slips": slips,
        "names": {c: names.get(c, c) for c in sorted(set(exposed) | set(cover))},
    }
