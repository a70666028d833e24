"""The lossless snapshot codec used by the case store (slipcatch.codec)."""

from __future__ import annotations

import json

import pytest

from slipcatch import codec
from slipcatch.model import Assessment, Category, OriginTrust
from slipcatch.report import render_markdown

from .fixtures import HOSTILE_NAME, build_assessment


def test_round_trip_rebuilds_an_equal_assessment():
    a = build_assessment()
    text = json.dumps(codec.encode(a), sort_keys=True, ensure_ascii=True)
    b = codec.decode(Assessment, json.loads(text))
    assert b == a
    assert render_markdown(b) == render_markdown(a)
    obs = b.observations[0]
    assert isinstance(obs.address.category, Category)
    assert obs.event.time.tzinfo is not None
    assert any(o.event.origin_trust is OriginTrust.TRUSTED_RELAY for o in b.observations)
    assert any(p.persona.name == HOSTILE_NAME for p in b.personas)


def test_lone_surrogates_survive_the_round_trip():
    a = build_assessment()
    ev = a.observations[0].event
    odd = "caf\udce9"  # an undecodable byte kept with surrogateescape
    changed = type(ev)(**{**{f: getattr(ev, f) for f in ev.__slots__}, "persona": odd})
    enc = codec.encode(changed)
    text = json.dumps(enc, ensure_ascii=True)
    assert codec.decode(type(ev), json.loads(text)).persona == odd


def test_foreign_data_is_a_value_error():
    with pytest.raises(ValueError, match="Assessment"):
        codec.decode(Assessment, {"generated_at": "2024-01-01T00:00:00+00:00"})
