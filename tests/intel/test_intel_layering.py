"""Actor layering keeps every field of Actor, and pack files keep every field of an actor."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from pathlib import Path

from slipcatch.intel import IntelPack, load_pack, open_pack, save_pack
from slipcatch.intel.layering import merge_actors, merge_alias_sets
from slipcatch.intel.records import AliasSet
from slipcatch.model import Actor, OperatingPeriod

P2011 = OperatingPeriod("RU", datetime(2011, 1, 1, tzinfo=UTC), datetime(2015, 1, 1, tzinfo=UTC))
P2016 = OperatingPeriod("CN", datetime(2016, 1, 1, tzinfo=UTC), None)

#: Two distinct items for every tuple field of Actor, one per layer.
ITEMS: dict[str, tuple[object, object]] = {
    "aliases": ("APT38", "Hidden Cobra"),
    "timezones": ("Asia/Pyongyang", "Asia/Shanghai"),
    "operating_countries": ("CN", "MY"),
    "sources": ("registry", "extra"),
    "caveats": ("one", "two"),
    "asns": (131279, 64500),
    "operating_periods": (P2011, P2016),
}


def _tuple_fields() -> list[str]:
    return [
        f.name
        for f in dataclasses.fields(Actor)
        if isinstance(getattr(Actor("x", "X"), f.name), tuple)
    ]


def test_every_tuple_field_is_layered() -> None:
    # a new tuple field of Actor fails here until it has sample items, never silently
    assert sorted(ITEMS) == sorted(_tuple_fields())
    base = Actor("a", "A", **{k: (v[0],) for k, v in ITEMS.items()})  # type: ignore[arg-type]
    extra = Actor("a", "B", country="KP", **{k: (v[1], v[0]) for k, v in ITEMS.items()})  # type: ignore[arg-type]
    (merged,) = merge_actors([base], [extra])
    for name, (first, second) in ITEMS.items():
        assert getattr(merged, name) == (first, second), name
    assert (merged.id, merged.name, merged.country) == ("a", "A", "KP")
    # the earlier layer's scalar values win where they are set
    (again,) = merge_actors([merged], [dataclasses.replace(extra, country="CN")])
    assert again.country == "KP"


def test_new_ids_and_alias_sets_keep_every_field() -> None:
    base = Actor("a", "Lazarus", country="KP", asns=(131279,), operating_periods=(P2011,))
    other = Actor("b", "B", asns=(64500,))
    out = merge_actors([base], [other])
    assert out == [base, other]
    (named, _) = merge_alias_sets(
        out, [AliasSet("misp-galaxy", "uuid-1", "Lazarus", ("ZINC",), "KP", ("G0032",))]
    )
    assert named.asns == (131279,) and named.operating_periods == (P2011,)
    assert named.aliases == ("ZINC", "G0032") and named.sources == ("misp-galaxy (uuid-1)",)


def test_asns_and_dated_countries_survive_layering_and_pack_files(
    pack: IntelPack, pack_cache: Path, tmp_path: Path
) -> None:
    reg = tmp_path / "layer.yaml"
    reg.write_text(
        "actors:\n  - id: dprk-rgb\n    name: X\n    asns: [64500]\n"
        "    operating_countries:\n      - CN\n"
        "      - {country: RU, valid_from: 2011-01-01, valid_to: 2015-01-01}\n"
    )
    layered = load_pack([reg], cache_dir=pack_cache)
    actor = layered.actors[0]
    assert actor.asns == (*pack.actors[0].asns, 64500)
    assert actor.operating_periods == (*pack.actors[0].operating_periods, P2011)
    assert actor.operates_in("RU", datetime(2014, 1, 1, tzinfo=UTC))
    reopened = open_pack(save_pack(layered, tmp_path / "pack"))
    assert reopened.actors == layered.actors
    assert reopened.pack_id == layered.pack_id
