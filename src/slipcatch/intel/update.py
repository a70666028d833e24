"""``slipcatch intel update``: fetch dated layers from the public sources and build a pack.

Source kinds and where they are fetched from (base URLs overridable by environment variable
or ``--base KIND=URL``; tests point them at a loopback server with recorded responses):

============  =========================================================  ======================
kind          files                                                      base (env variable)
============  =========================================================  ======================
tor-exits     CollecTor ``archive/exit-lists/exit-list-YYYY-MM.tar.xz``  SLIPCATCH_COLLECTOR_URL
tor-consensus CollecTor ``archive/relay-descriptors/consensuses/``       SLIPCATCH_COLLECTOR_URL
              ``consensus-YYYY-MM.tar.xz``
rir           ``{registry}/delegated-{registry}-extended-latest`` of     SLIPCATCH_RIR_URL
              afrinic, apnic, arin, lacnic, ripencc
routing       RouteViews/CAIDA prefix2as, the first snapshot of each     SLIPCATCH_ROUTEVIEWS_URL
              month: ``YYYY/MM/routeviews-rv2-YYYYMMDD-HHMM.pfx2as.gz``
warninglists  MISP ``lists/{name}/list.json`` of the lists slipcatch     SLIPCATCH_MISP_URL
              uses
============  =========================================================  ======================

Monthly archives are found in the directory listing the server gives (CollecTor and CAIDA
serve Apache-style index pages). Every file is downloaded into ``OUT/downloads/`` through a
``.part`` file: an interrupted download is resumed with an HTTP ``Range`` request on the next
run (a server that ignores the range sends the whole file again, which is detected); a
finished file's SHA-256 is recorded in ``OUT/downloads/index.json`` and checked when the file
is reused, so a cached file is never re-fetched and a damaged one is. Progress goes to
stderr on a terminal. The downloaded files are then compiled, in a fixed order, with the
default sources into ``OUT/pack`` (``intel build``): the same files give the same pack id.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from slipcatch.errors import IntelError, UsageError

__all__ = ["BASES", "KINDS", "UpdateResult", "fetch", "months", "update"]

KINDS = ("tor-exits", "tor-consensus", "rir", "routing", "warninglists")
DEFAULT_KINDS = ("tor-exits", "rir", "routing", "warninglists")
#: base name -> (environment variable, default URL)
BASES: dict[str, tuple[str, str]] = {
    "collector": ("SLIPCATCH_COLLECTOR_URL", "https://collector.torproject.org"),
    "rir": ("SLIPCATCH_RIR_URL", "https://ftp.ripe.net/pub/stats"),
    "routeviews": ("SLIPCATCH_ROUTEVIEWS_URL",
                   "https://publicdata.caida.org/datasets/routing/routeviews-prefix2as"),
    "misp": ("SLIPCATCH_MISP_URL",
             "https://raw.githubusercontent.com/MISP/misp-warninglists/main/lists"),
}
REGISTRIES = ("afrinic", "apnic", "arin", "lacnic", "ripencc")
CHUNK = 1 << 16
TIMEOUT = 30
_HREF = re.compile(r'href="([^"?#/][^"?#]*)"', re.I)


@dataclass
class UpdateResult:
    files: list[Path] = field(default_factory=list)
    fetched: int = 0
    reused: int = 0
    resumed: int = 0
    missing: list[str] = field(default_factory=list)  # URLs the server does not have (404)
    pack_dir: Path | None = None
    pack_id: str = ""


def _month(text: str, end: bool) -> date:
    m = re.fullmatch(r"(\d{4})-(\d{2})(?:-(\d{2}))?", text.strip())
    if not m:
        raise UsageError(f"not a date (YYYY-MM or YYYY-MM-DD): {text!r}")
    y, mo = int(m[1]), int(m[2])
    if not 1 <= mo <= 12:
        raise UsageError(f"not a date (YYYY-MM or YYYY-MM-DD): {text!r}")
    return date(y, mo, 1)


def months(since: str, until: str) -> list[str]:
    """``YYYY-MM`` of every month from ``since`` to ``until`` (inclusive)."""
    a, b = _month(since, False), _month(until, True)
    if b < a:
        raise UsageError(f"--until {until} is before --since {since}")
    out = []
    y, m = a.year, a.month
    while (y, m) <= (b.year, b.month):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _bases(overrides: dict[str, str]) -> dict[str, str]:
    out = {}
    for name, (env, default) in BASES.items():
        out[name] = (overrides.get(name) or os.environ.get(env) or default).rstrip("/")
    return out


def _open(url: str, start: int = 0) -> http.client.HTTPResponse:
    req = urllib.request.Request(url, headers={"User-Agent": "slipcatch-intel-update"})
    if start:
        req.add_header("Range", f"bytes={start}-")
    try:
        resp = urllib.request.urlopen(req, timeout=TIMEOUT)
    except urllib.error.HTTPError as exc:
        raise IntelError(f"HTTP {exc.code} for {url}", url) from exc
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        host = urllib.parse.urlsplit(url).netloc
        raise IntelError(f"cannot reach {host} ({reason}); offline? nothing was built", url) \
            from exc
    return resp


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class _Index:
    """``downloads/index.json``: url -> {file, sha256, bytes}."""

    def __init__(self, root: Path):
        self.path = root / "index.json"
        try:
            self.data: dict[str, dict[str, object]] = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data, indent=1, sort_keys=True))
        tmp.replace(self.path)


def fetch(url: str, dest: Path, index: _Index, result: UpdateResult,
          progress: Callable[[str, int, int | None], None] | None = None) -> Path:
    """Download ``url`` to ``dest`` (resuming a ``.part`` file; reusing a checked file)."""
    known = index.data.get(url)
    if known and dest.exists() and _sha256(dest) == known.get("sha256"):
        result.reused += 1
        return dest
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    resp = _open(url, start)
    with resp:
        if start and resp.status == 206:
            result.resumed += 1
            mode = "ab"
        else:
            start, mode = 0, "wb"  # no range support: the whole file again
        total_text = resp.headers.get("Content-Length")
        total = start + int(total_text) if total_text and total_text.isdigit() else None
        done = start
        try:
            with part.open(mode) as out:
                while True:
                    block = resp.read(CHUNK)
                    if not block:
                        break
                    out.write(block)
                    done += len(block)
                    if progress:
                        progress(dest.name, done, total)
        except (http.client.IncompleteRead, ConnectionError, TimeoutError, OSError) as exc:
            raise IntelError(f"download interrupted after {done} bytes ({exc.__class__.__name__});"
                             " run the same command again to resume", url) from exc
    if total is not None and done != total:
        raise IntelError(f"download interrupted after {done} of {total} bytes; run the same "
                         "command again to resume", url)
    part.replace(dest)
    index.data[url] = {"file": dest.name, "sha256": _sha256(dest), "bytes": done}
    index.save()
    result.fetched += 1
    return dest


def _listing(url: str) -> list[str]:
    """File names in an Apache-style directory listing."""
    with _open(url + "/") as resp:
        text = resp.read().decode("utf-8", "replace")
    return sorted({urllib.parse.unquote(h) for h in _HREF.findall(text)})


def _plan(kinds: Sequence[str], since: str, until: str, bases: dict[str, str]
          ) -> list[tuple[str, str]]:
    """(url, local file name) of every file to fetch, in a fixed order."""
    wanted = months(since, until)
    plan: list[tuple[str, str]] = []
    for kind in kinds:
        if kind in ("tor-exits", "tor-consensus"):
            sub = ("archive/exit-lists" if kind == "tor-exits"
                   else "archive/relay-descriptors/consensuses")
            stem = "exit-list" if kind == "tor-exits" else "consensus"
            listed = set(_listing(f"{bases['collector']}/{sub}"))
            for m in wanted:
                name = f"{stem}-{m}.tar.xz"
                if name in listed:
                    plan.append((f"{bases['collector']}/{sub}/{name}", name))
        elif kind == "rir":
            for reg in REGISTRIES:
                name = f"delegated-{reg}-extended-latest"
                plan.append((f"{bases['rir']}/{reg}/{name}", name))
        elif kind == "routing":
            for m in wanted:
                y, mo = m.split("-")
                url = f"{bases['routeviews']}/{y}/{mo}"
                try:
                    snaps = [n for n in _listing(url) if n.endswith(".pfx2as.gz")]
                except IntelError as exc:
                    if "HTTP 404" in str(exc):
                        continue
                    raise
                if snaps:
                    plan.append((f"{url}/{snaps[0]}", snaps[0]))
        elif kind == "warninglists":
            from slipcatch.intel.sources.warninglists import LISTS

            for name in sorted(LISTS):
                plan.append((f"{bases['misp']}/{name}/list.json", f"misp-{name}.json"))
        else:
            raise UsageError(f"unknown source kind {kind!r} (one of {', '.join(KINDS)})")
    return plan


def _progress() -> Callable[[str, int, int | None], None] | None:
    if not sys.stderr.isatty():
        return None

    def show(name: str, done: int, total: int | None) -> None:
        pct = f" {100 * done // total:3d} %" if total else ""
        sys.stderr.write(f"\r{name}: {done / 1e6:8.1f} MB{pct}")
        if total is not None and done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def update(out: Path, kinds: Sequence[str] = DEFAULT_KINDS, since: str | None = None,
           until: str | None = None, bases: dict[str, str] | None = None) -> UpdateResult:
    """Fetch the files of ``kinds`` for the months ``since``..``until`` (default: this month)
    into ``out/downloads`` and build ``out/pack`` from them and the default sources.

    Raises:
        UsageError: a bad date or kind.
        IntelError: a server cannot be reached (offline), answers an error, or a download is
            interrupted (rerun to resume); a downloaded file is not a usable source.
    """
    from slipcatch.intel.pack import load_pack, save_pack

    today = date.today().strftime("%Y-%m")
    since = since or until or today
    until = until or since
    for k in kinds:
        if k not in KINDS:
            raise UsageError(f"unknown source kind {k!r} (one of {', '.join(KINDS)})")
    downloads = out / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    index = _Index(downloads)
    result = UpdateResult()
    all_bases = _bases(bases or {})
    show = _progress()
    for url, name in _plan(kinds, since, until, all_bases):
        try:
            result.files.append(fetch(url, downloads / name, index, result, show))
        except IntelError as exc:
            if "HTTP 404" not in str(exc):
                raise
            result.missing.append(url)  # e.g. a registry's file not published there
    if not result.files:
        raise IntelError(f"no files for {', '.join(kinds)} between {since} and {until}",
                         str(out))
    ordered: list[Path] = sorted(result.files, key=lambda f: f.name)
    pack = load_pack(list(ordered))
    result.pack_dir = save_pack(pack, out / "pack")
    result.pack_id = pack.pack_id
    return result
