"""Recognition: a confidence per reader, file-by-file routing in a mixed directory."""

from __future__ import annotations

import bz2
import gzip
import json
import lzma
from pathlib import Path

import pytest

from slipcatch.evidence import ReadOptions, ingest
from slipcatch.evidence._ingest import FORMATS, scores
from slipcatch.evidence._source import Source

SAMPLES: dict[str, tuple[str, bytes]] = {
    "a-mail.eml": ("email", (
        b"Received: from x (y [175.45.178.1]) by mx.example.org with ESMTP; "
        b"Mon, 24 Nov 2014 09:00:00 +0000\nFrom: GOP <gop@x.example>\nSubject: s\n\nbody\n"
    )),
    "b-box.mbox": ("email", (
        b"From gop@x Mon Nov 24 09:00:00 2014\n"
        b"Received: from x (y [175.45.178.2]) by mx.example.org with ESMTP; "
        b"Mon, 24 Nov 2014 09:00:00 +0000\nFrom: GOP <gop@x.example>\nSubject: s\n\nbody\n"
    )),
    "c-access.log": ("weblog", (
        b'175.45.178.3 - - [24/Nov/2014:09:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"\n'
    )),
    "d-access.json": ("weblog-json", json.dumps(
        {"time_local": "24/Nov/2014:09:00:00 +0000", "remote_addr": "175.45.178.4",
         "request": "GET / HTTP/1.1", "status": 200}).encode() + b"\n"),
    "e-conn.log": ("zeek", (
        b"#separator \\x09\n#path\tconn\n#fields\tts\tuid\tid.orig_h\n"
        b"1416819600.0\tC1\t175.45.178.5\n"
    )),
    "f-ssh.ndjson": ("zeek", json.dumps(
        {"_path": "ssh", "ts": 1416819600.5, "id.orig_h": "175.45.178.6"}).encode() + b"\n"),
    "g-auth.log": ("authlog", (
        b"Nov 24 09:00:00 web1 sshd[1]: Accepted password for gop from 175.45.178.7 port 2 ssh2\n"
    )),
    "h-posts.csv": ("table", b"time,ip,user,channel\n2014-11-24T09:00:00Z,175.45.178.8,gop,post\n"),
    "i-posts.jsonl": ("table", json.dumps(
        {"ts": "2014-11-24T09:00:00Z", "src_ip": "175.45.178.9", "user": "gop"}).encode() + b"\n"),
}  # fmt: skip
COMPRESS = {"": lambda b: b, ".gz": gzip.compress, ".bz2": bz2.compress, ".xz": lzma.compress}


def test_every_reader_scores_in_range_and_formats_are_unique() -> None:
    assert len({f.NAME for f in FORMATS}) == len(FORMATS)
    for _name, (_fmt, data) in SAMPLES.items():
        for fmt in FORMATS:
            assert 0.0 <= fmt.sniff(data, "x") <= 1.0


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_sample_wins_clearly(tmp_path: Path, name: str) -> None:
    fmt, data = SAMPLES[name]
    p = tmp_path / name
    p.write_bytes(data)
    got = scores(Source(p, ReadOptions(year=2014)))
    best = max(got.values())
    assert got[fmt] == best >= 0.9
    # the runner-up is clearly behind (ties would be settled by registration order)
    assert sorted(got.values())[-2] < best


def test_mixed_directory_routes_file_by_file(tmp_path: Path) -> None:
    expected: dict[str, str] = {}
    for name, (fmt, data) in SAMPLES.items():
        for suffix, compress in COMPRESS.items():
            (tmp_path / (name + suffix)).write_bytes(compress(data))
            expected[name + suffix] = fmt + ("+" + {".gz": "gzip", ".bz2": "bz2", ".xz": "xz"}[
                suffix] if suffix else "")  # fmt: skip
    (tmp_path / "z-binary.bin").write_bytes(bytes(range(256)))
    expected["z-binary.bin"] = "unknown"
    result = ingest(tmp_path, ReadOptions(year=2014))
    got = {Path(f.path).name: f.format for f in result.files}
    assert got == expected
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates
        if f.format == "unknown":
            assert (f.confidence, f.rejected) == (None, 1)
        else:
            assert f.confidence is not None and f.confidence >= 0.9
            assert f.rejected == 0
    # each of the 9 samples gives one event; its three compressed copies are duplicates
    assert len(result.events) == 9
    assert sum(f.duplicates for f in result.files) == 27
    assert sorted(e.src_ip for e in result.events) == [f"175.45.178.{i}" for i in range(1, 10)]
    assert sorted({e.channel for e in result.events}) == [
        "email", "post", "ssh", "table", "web", "zeek:conn", "zeek:ssh",
    ]  # fmt: skip
