"""``slipcatch intel update`` end to end against a loopback HTTP server with recorded responses.

The server serves, under the public sources' URL layouts, archives and listings built from
real samples in ``../shared/data/tor`` and ``../shared/data/rir``: a CollecTor monthly exit-list
archive (two hourly TorDNSEL lists of 2018-11 as its members) with CollecTor's directory
listing, an APNIC delegated-extended file, and a RouteViews prefix2as snapshot of 2014-05-13
(the pyasn RIB excerpt of that day in CAIDA's format). Never the internet.
"""

from __future__ import annotations

import gzip
import io
import json
import socket
import tarfile
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from slipcatch.cli import main
from slipcatch.intel import IntelPack, save_pack
from slipcatch.intel.update import BASES, fetch, update

DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
TOR = DATA / "tor"

LISTING = """<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html><head><title>Index of /{path}</title></head><body><h1>Index of /{path}</h1>
<table><tr><th><a href="?C=N;O=D">Name</a></th><th>Last modified</th><th>Size</th></tr>
<tr><td><a href="/{parent}/">Parent Directory</a></td></tr>
{rows}</table></body></html>
"""


def _listing(path: str, names: list[str]) -> bytes:
    rows = "".join(f'<tr><td><a href="{n}">{n}</a></td><td>2018-12-01 10:12</td>'
                   f"<td>1.2M</td></tr>\n" for n in names)
    return LISTING.format(path=path, parent=path.rsplit("/", 1)[0], rows=rows).encode()


def _site(root: Path) -> None:
    exits = root / "archive" / "exit-lists"
    exits.mkdir(parents=True)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:xz") as tar:
        for day, name in (("01", "exit-list-2018-11-01-00-02-01"),
                          ("02", "exit-list-2018-11-02-01-02-01")):
            raw = (TOR / name).read_bytes()
            info = tarfile.TarInfo(f"exit-list-2018-11/{day}/{name[10:]}")
            info.size, info.mtime = len(raw), 1543622400
            tar.addfile(info, io.BytesIO(raw))
    (exits / "exit-list-2018-11.tar.xz").write_bytes(buf.getvalue())
    (exits / "index.html").write_bytes(_listing("archive/exit-lists", [
        "exit-list-2018-11.tar.xz"]))
    rir = root / "stats" / "apnic"
    rir.mkdir(parents=True)
    (rir / "delegated-apnic-extended-latest").write_bytes(
        (DATA / "rir" / "delegated-apnic-extended-20260627-excerpt.txt").read_bytes())
    rv = root / "routeviews" / "2014" / "05"
    rv.mkdir(parents=True)
    lines = []
    for line in (DATA / "rir" / "pyasn-ipasn_20140513-routeviews-rib-excerpt.dat").read_text(
            ).splitlines():
        if line.startswith(";") or "\t" not in line:
            continue
        prefix, asn = line.split("\t")
        net, length = prefix.split("/")
        lines.append(f"{net}\t{length}\t{asn}")
    name = "routeviews-rv2-20140513-1200.pfx2as.gz"
    (rv / name).write_bytes(gzip.compress("\n".join(lines).encode() + b"\n", mtime=0))
    (rv / "index.html").write_bytes(_listing("routeviews/2014/05", [name]))


class _Handler(SimpleHTTPRequestHandler):
    drop_after: ClassVar[dict[str, int]] = {}  # path -> bytes sent before a drop
    requests: ClassVar[list[tuple[str, str | None]]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.requests.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            self.send_error(404)
            return
        raw = path.read_bytes()
        start = 0
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(raw) - 1}/{len(raw)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(raw) - start))
        self.end_headers()
        body = raw[start:]
        cut = self.drop_after.pop(self.path, None)
        if cut is not None:
            self.wfile.write(body[:cut])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(body)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "site"
    _site(root)

    def handler(*args: object, **kw: object) -> _Handler:
        return _Handler(*args, directory=str(root), **kw)  # type: ignore[arg-type]

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    _Handler.drop_after.clear()
    _Handler.requests.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _bases(url: str) -> dict[str, str]:
    return {"collector": url, "rir": f"{url}/stats", "routeviews": f"{url}/routeviews",
            "misp": f"{url}/misp"}


def test_update_builds_a_pack_with_the_new_layers(
    server: str, tmp_path: Path, pack: IntelPack, monkeypatch: pytest.MonkeyPatch,
    pack_cache: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLIPCATCH_CACHE", str(pack_cache))
    for name, url in _bases(server).items():
        monkeypatch.setenv(BASES[name][0], url)
    out = tmp_path / "upd"
    args = ["intel", "update", "--since", "2018-11", "--until", "2018-11", "--out", str(out),
            "tor-exits"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "1 fetched" in printed
    default = save_pack(pack, tmp_path / "default-pack")
    assert main(["intel", "diff", str(default), str(out / "pack"), "--json",
                 "--ip", "41.100.114.28", "--at", "2018-11-01T00:00:00Z"]) == 0
    d = json.loads(capsys.readouterr().out)
    added = json.dumps(d)
    assert "exit-list-2018-11.tar.xz" in added
    # a second run reuses the checked file: nothing fetched, same pack
    assert main(args) == 0
    assert "0 fetched" in capsys.readouterr().out


def test_interrupted_download_resumes_and_gives_the_same_pack(
    server: str, tmp_path: Path, pack: IntelPack, pack_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SLIPCATCH_CACHE", str(pack_cache))
    bases = _bases(server)
    clean = update(tmp_path / "clean", ["tor-exits", "rir", "routing"], "2014-05", "2018-11",
                   bases)
    archive = "/archive/exit-lists/exit-list-2018-11.tar.xz"
    _Handler.drop_after[archive] = 20_000
    out = tmp_path / "cut"
    with pytest.raises(Exception, match="interrupted"):
        update(out, ["tor-exits", "rir", "routing"], "2014-05", "2018-11", bases)
    part = out / "downloads" / "exit-list-2018-11.tar.xz.part"
    assert part.stat().st_size == 20_000
    again = update(out, ["tor-exits", "rir", "routing"], "2014-05", "2018-11", bases)
    assert again.resumed == 1
    assert (archive, "bytes=20000-") in _Handler.requests
    assert again.pack_id == clean.pack_id
    assert len(again.missing) == 4  # only APNIC's file is recorded (afrinic, arin, ... 404)


def test_offline_is_one_clear_line_and_exit_2(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    code = main(["intel", "update", "--out", str(tmp_path / "x"), "--base",
                 f"collector=http://127.0.0.1:{port}", "tor-exits"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach 127.0.0.1" in err[0]


def test_cached_file_is_checksummed(server: str, tmp_path: Path) -> None:
    from slipcatch.intel.update import UpdateResult, _Index

    d = tmp_path / "dl"
    d.mkdir()
    idx, r = _Index(d), UpdateResult()
    url = f"{server}/stats/apnic/delegated-apnic-extended-latest"
    f = fetch(url, d / "apnic", idx, r)
    assert r.fetched == 1
    fetch(url, d / "apnic", idx, r)
    assert r.reused == 1
    f.write_bytes(b"damaged")
    fetch(url, d / "apnic", idx, r)
    assert r.fetched == 2 and b"apnic|KP|ipv4|175.45.176.0|1024" in f.read_bytes()
