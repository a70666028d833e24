"""Build src/slipcatch/web/static/world-110m.json from Natural Earth 110m admin-0 (TopoJSON).

Input: ``countries-110m.json`` from the npm package ``world-atlas`` 2.0.2 (pre-built TopoJSON of
Natural Earth 1:110m admin-0 countries; Natural Earth is public domain, the package ISC) and
``codes.json`` from the npm package ``i18n-iso-countries`` (ISO 3166-1 numeric -> alpha-2, MIT).
Output: ``{"countries": [{"iso2", "name", "rings": [[[lon, lat], ...]], "centroid": [lon, lat]}]}``
with coordinates rounded to 0.1 degree, small enough to serve with the workbench.

    npm pack world-atlas@2.0.2 i18n-iso-countries@7.14.0   # then untar both
    python tools/web_world_outline.py countries-110m.json codes.json OUT.json
"""

from __future__ import annotations

import json
import sys
from typing import Any


def decode(topo: dict[str, Any]) -> list[dict[str, Any]]:
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs: list[list[tuple[float, float]]] = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x += dx
            y += dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)

    def ring(indices: list[int]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in indices:
            pts = arcs[i] if i >= 0 else arcs[~i][::-1]
            for j, (lon, lat) in enumerate(pts):
                if out and j == 0:
                    continue
                out.append([round(lon, 1), round(lat, 1)])
        return out

    result = []
    for geom in topo["objects"]["countries"]["geometries"]:
        polys = []
        if geom.get("type") == "Polygon":
            polys = [geom["arcs"]]
        elif geom.get("type") == "MultiPolygon":
            polys = geom["arcs"]
        rings = [ring(poly[0]) for poly in polys]  # outer rings only
        result.append({"id": geom.get("id"), "name": geom["properties"]["name"], "rings": rings})
    return result


def centroid(rings: list[list[list[float]]]) -> list[float]:
    biggest = max(rings, key=len)
    lon = sum(p[0] for p in biggest) / len(biggest)
    lat = sum(p[1] for p in biggest) / len(biggest)
    return [round(lon, 1), round(lat, 1)]


def main(topo_path: str, codes_path: str, out_path: str) -> None:
    with open(topo_path, encoding="utf-8") as fh:
        topo = json.load(fh)
    with open(codes_path, encoding="utf-8") as fh:
        numeric = {row[2]: row[0] for row in json.load(fh)}
    countries = []
    for c in decode(topo):
        if not c["rings"]:
            continue
        iso2 = numeric.get(c["id"] or "", "")
        countries.append(
            {"iso2": iso2, "name": c["name"], "rings": c["rings"], "centroid": centroid(c["rings"])}
        )
    doc = {
        "source": "Natural Earth 1:110m admin-0 countries (public domain), via world-atlas 2.0.2",
        "countries": countries,
    }
    with open(out_path, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, separators=(",", ":"))


if __name__ == "__main__":
    main(*sys.argv[1:4])
