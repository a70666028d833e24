"""assessment.json: schema, exact values, stable order and float handling."""

from __future__ import annotations

import json
import math
import re
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from slipcatch.report import assessment_document
from slipcatch.report._format import iso, natural_key, num
from slipcatch.report.json_doc import dumps_document

from .fixtures import (
    CSV,
    GENERATED_AT,
    HOSTILE_NAME,
    MBOX,
    NOISE_NAME,
    SLIP_IP,
    build_assessment,
)

SCHEMA_PATH = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "contracts" / ("assessment.schema.json")
)
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?Z$")


@pytest.fixture(scope="module")
def doc() -> dict:
    return assessment_document(build_assessment())


def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def test_document_is_valid_against_the_contract_schema(doc: dict) -> None:
    errors = [e.message for e in _validator().iter_errors(doc)]
    assert errors == []


def test_schema_rejects_a_document_missing_a_required_field(doc: dict) -> None:
    # Proves the validation above has teeth.
    broken = json.loads(json.dumps(doc))
    del broken["personas"][0]["slips"][0]["closed_after_seconds"]
    assert not _validator().is_valid(broken)


def test_top_level_values(doc: dict) -> None:
    assert doc["schema_version"] == "1"
    assert doc["generated_at"] == "2024-05-01T12:00:00Z"
    assert doc["model_version"] == "0.1.0"
    assert doc["events"] == 9
    assert doc["event_categories"] == {
        "actor": 2,
        "hosting": 2,
        "residential": 1,
        "tor": 2,
        "unknown": 1,
        "vpn": 1,
    }
    assert [f["path"] for f in doc["evidence"]] == [MBOX, CSV]
    assert doc["evidence"][1]["records"] == 10
    assert doc["evidence"][1]["duplicates"] == 1
    assert doc["intel"]["pack_id"] == "pack--0123456789abcdef"
    assert [(s["name"], s["valid_from"], s["valid_to"]) for s in doc["intel"]["sources"]] == [
        ("geoip2fast", None, None),
        ("tor-exit-2014-11", "2014-11-01T00:00:00Z", "2014-12-01T00:00:00Z"),
        ("actor-registry", "2010-01-01T00:00:00Z", None),
    ]
    assert [a["id"] for a in doc["actors"]] == ["apt28", "lazarus"]


def test_rejections_sorted_by_path_then_natural_locator(doc: dict) -> None:
    assert [(r["path"], r["locator"]) for r in doc["rejections"]] == [
        (MBOX, "message 3"),
        (CSV, "row 9"),
        (CSV, "row 11"),
    ]
    assert doc["rejections_by_reason"] == {"bad-address": 2, "no-origin": 1}


def test_persona_with_slip(doc: dict) -> None:
    assert [p["name"] for p in doc["personas"]] == [HOSTILE_NAME, NOISE_NAME]
    gop = doc["personas"][0]
    assert gop["events"] == 6
    assert gop["cover_ratio"] == 0.666667
    assert gop["channels"] == sorted(gop["channels"])
    [slip] = gop["slips"]
    assert slip["ip"] == SLIP_IP
    assert slip["attributed_to"] == "lazarus"
    assert slip["first_seen"] == "2014-11-21T09:00:00Z"
    assert slip["last_seen"] == "2014-11-21T09:02:00Z"
    assert slip["closed_after_seconds"] == 210.0
    assert slip["events"] == 2 == len(slip["event_ids"])
    assert slip["channels"] == ["email", "web"]
    assert slip["origin_trust"] == "trusted-relay"


def test_hypotheses_most_probable_first_with_icd203_terms(doc: dict) -> None:
    hyps = doc["personas"][0]["assessment"]["hypotheses"]
    assert [(h["id"], h["probability"], h["likelihood"], h["prior"]) for h in hyps] == [
        ("H-lazarus", 0.93, "very likely", 0.2),
        ("H-false-flag", 0.05, "very unlikely", 0.05),
        ("H-unknown", 0.02, "almost no chance", 0.75),
    ]
    assert hyps[1]["contradicting"] == ["L1-actor-range"]


def test_evidence_lines_carry_likelihoods_and_lead_ratio(doc: dict) -> None:
    lines = doc["personas"][0]["assessment"]["evidence_lines"]
    assert [(x["id"], x["likelihood_ratio"]["value"]) for x in lines] == [
        ("L1-actor-range", 18.0),
        ("L2-slip-pattern", 2.0),
        ("L3-country", 1.0),
    ]
    assert lines[0]["likelihoods"] == {"H-lazarus": 0.9, "H-false-flag": 0.05, "H-unknown": 0.001}
    assert lines[0]["rule"] == "R1 actor-range slip"
    assert lines[0]["reliability"] == "B2"
    noise_lines = doc["personas"][1]["assessment"]["evidence_lines"]
    # L5 states a likelihood only for the lead hypothesis: there is no rival to divide by.
    assert noise_lines[1]["likelihood_ratio"] == {
        "hypothesis": "H-n-unknown",
        "against": None,
        "value": None,
        "unbounded": False,
    }


def test_verdicts(doc: dict) -> None:
    v = doc["personas"][0]["assessment"]["verdict"]
    assert (v["actor"], v["probability"], v["likelihood"], v["confidence"]) == (
        "lazarus",
        0.93,
        "very likely",
        "moderate",
    )
    assert v["linchpins"][0] == "L1-actor-range"
    assert len(v["confidence_reasons"]) == 2
    nv = doc["personas"][1]["assessment"]["verdict"]
    assert (nv["actor"], nv["likelihood"], nv["confidence"]) == (None, "likely", "low")
    assert doc["personas"][0]["assessment"]["alternatives"][0]["item"] == "L1-actor-range"


def test_unbounded_ratio_when_every_rival_is_impossible() -> None:
    a = build_assessment()
    gop = a.personas[1]
    line = replace(
        gop.evidence[2], likelihoods={"H-lazarus": 0.5, "H-false-flag": 0.0, "H-unknown": 0.0}
    )
    a = replace(a, personas=(a.personas[0], replace(gop, evidence=(line,))))
    d = assessment_document(a)
    ratio = d["personas"][0]["assessment"]["evidence_lines"][0]["likelihood_ratio"]
    assert ratio == {
        "hypothesis": "H-lazarus",
        "against": "H-false-flag",
        "value": None,
        "unbounded": True,
    }
    dumps_document(d)  # no inf/NaN reaches the JSON text (allow_nan=False would raise)


def test_every_time_is_utc_with_z(doc: dict) -> None:
    times = [doc["generated_at"]]
    for p in doc["personas"]:
        for s in p["slips"]:
            times += [s["first_seen"], s["last_seen"]]
    assert all(ISO_Z.match(t) for t in times)


def test_order_of_inputs_does_not_change_the_document() -> None:
    a = build_assessment()
    shuffled = replace(
        a,
        evidence=a.evidence[::-1],
        rejections=a.rejections[::-1],
        observations=a.observations[::-1],
        personas=a.personas[::-1],
        actors=a.actors[::-1],
    )
    assert dumps_document(assessment_document(shuffled)) == dumps_document(assessment_document(a))


def test_generated_at_is_the_only_field_that_follows_the_clock() -> None:
    a = build_assessment()
    later = replace(a, generated_at=GENERATED_AT.replace(year=2030))
    one, two = assessment_document(a), assessment_document(later)
    assert two["generated_at"] == "2030-05-01T12:00:00Z"
    two["generated_at"] = one["generated_at"]
    assert dumps_document(one) == dumps_document(two)


def test_num_rounds_folds_negative_zero_and_drops_non_finite() -> None:
    assert num(0.1234567891) == 0.123457
    assert math.copysign(1.0, num(-0.0000001)) == 1.0  # type: ignore[arg-type]
    assert num(float("nan")) is None
    assert num(float("inf")) is None


def test_iso_keeps_microseconds_only_when_present() -> None:
    assert iso(GENERATED_AT) == "2024-05-01T12:00:00Z"
    assert iso(GENERATED_AT.replace(microsecond=5)) == "2024-05-01T12:00:00.000005Z"
    assert iso(None) is None


def test_natural_key_orders_numbers_numerically() -> None:
    assert sorted(["line 12", "line 2", "byte 4096", "line 1"], key=natural_key) == [
        "byte 4096",
        "line 1",
        "line 2",
        "line 12",
    ]


def test_document_text_is_sorted_indented_and_ends_with_newline(doc: dict) -> None:
    text = dumps_document(doc)
    assert text.endswith("}\n")
    assert HOSTILE_NAME.replace('"', '\\"') in text  # ensure_ascii=False, no \u escapes
    top_keys = [m.group(1) for m in re.finditer(r'^  "([a-z_]+)":', text, re.M)]
    assert top_keys == sorted(top_keys)
