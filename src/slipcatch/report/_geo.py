"""An offline world map for report.html: the bundled Natural Earth 1:110m outline
(``data/world-110m.topo.json``, see ``data/WORLD-MAP-LICENCE.txt``) decoded from TopoJSON and
drawn with Plotly ``scattergeo`` traces (lines filled ``toself``).

No trace names a ``locationmode`` and every base layer of the geo subplot is off, so plotly.js
never fetches its own topojson from the network.
"""

from __future__ import annotations

import importlib.resources
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

Ring = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class Country:
    code: str  # ISO 3166-1 alpha-2, or "" where the outline has no code
    name: str
    rings: tuple[Ring, ...]
    centre: tuple[float, float]  # (lon, lat): centre of the largest ring's bounding box


def _read(name: str) -> Any:
    res = importlib.resources.files("slipcatch.report") / "data" / name
    return json.loads(res.read_text(encoding="utf-8"))


def _decode_arcs(topo: Mapping[str, Any]) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # quantized, delta-encoded (TopoJSON spec, section 2.1.2)
            x += dx
            y += dy
            points.append((round(x * sx + tx, 2), round(y * sy + ty, 2)))
        arcs.append(points)
    return arcs


def _ring(indices: Sequence[int], arcs: list[list[tuple[float, float]]]) -> Ring:
    out: list[tuple[float, float]] = []
    for i in indices:
        points = arcs[i] if i >= 0 else arcs[~i][::-1]
        out.extend(points if not out else points[1:])
    return tuple(out)


def _area(ring: Ring) -> float:
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return (max(xs) - min(xs)) * (max(ys) - min(ys)) if ring else 0.0


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    """Every country of the outline, in the file's order."""
    topo = _read("world-110m.topo.json")
    alpha2: dict[str, str] = _read("iso-numeric-alpha2.json")
    arcs = _decode_arcs(topo)
    out = []
    for geom in topo["objects"]["countries"]["geometries"]:
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        rings = tuple(_ring(r, arcs) for poly in polys for r in poly)
        big = max(rings, key=_area)
        xs, ys = [p[0] for p in big], [p[1] for p in big]
        centre = (round((min(xs) + max(xs)) / 2, 2), round((min(ys) + max(ys)) / 2, 2))
        out.append(Country(alpha2.get(str(geom.get("id")), ""), geom["properties"]["name"],
                           rings, centre))
    return tuple(out)


@lru_cache(maxsize=1)
def by_code() -> dict[str, Country]:
    return {c.code: c for c in countries() if c.code}


def outline(codes: Sequence[str] | None = None) -> tuple[list[float | None], list[float | None]]:
    """Longitudes and latitudes of the rings of ``codes`` (all countries if None), rings
    separated by ``None`` so one Plotly trace draws them all."""
    chosen = countries() if codes is None else [by_code()[c] for c in codes if c in by_code()]
    lon: list[float | None] = []
    lat: list[float | None] = []
    for country in chosen:
        for ring in country.rings:
            if lon:
                lon.append(None)
                lat.append(None)
            lon.extend(p[0] for p in ring)
            lat.extend(p[1] for p in ring)
    return lon, lat
