"""Column mapping (``--columns``, ``ReadOptions.columns``): tables no reader knows are read
through it, nested JSON paths included; a file missing a mapped column is a usage error (CLI
exit 2); in a case each ingest's files are read with that ingest's mapping."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from slipcatch.case import Case
from slipcatch.cli import main
from slipcatch.errors import UsageError
from slipcatch.evidence import ReadOptions, ingest
from slipcatch.evidence.table import parse_columns

FLAT = (
    "Event DateTime,Source IP,User,Action\n"
    "2021-03-04 05:06:07,81.2.69.142,alice,login\n"
    "2021-03-04 05:07:07,[2001:db8::5]:443,bob,login\n"
    "2021-03-04 05:08:07,,carol,login\n"
)
MAPPING = "time=Event DateTime,src_ip=Source IP,persona=User"


def _flat(tmp_path: Path) -> Path:
    p = tmp_path / "flat.csv"
    p.write_text(FLAT)
    return p


def test_unmapped_flat_table_is_not_recognised(tmp_path: Path) -> None:
    result = ingest(_flat(tmp_path), ReadOptions())
    assert result.events == []
    assert result.files[0].format != "table"


def test_mapped_csv(tmp_path: Path) -> None:
    result = ingest(_flat(tmp_path), ReadOptions(columns=parse_columns(MAPPING)))
    (f,) = result.files
    assert (f.format, f.records, f.events, f.rejected, f.confidence) == ("table", 3, 2, 1, 1.0)
    assert [r.reason for r in result.rejections] == ["missing-address"]
    a, b = sorted(result.events, key=lambda e: e.time)
    assert a.time == datetime(2021, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert (a.src_ip, a.persona, a.channel) == ("81.2.69.142", "alice", "table")
    assert a.attributes == {"Action": "login"}
    assert (b.src_ip, b.persona, b.attributes["src_port"]) == ("2001:db8::5", "bob", "443")


def test_mapped_column_names_ignore_case(tmp_path: Path) -> None:
    cols = parse_columns("time=event datetime,src_ip=SOURCE IP,channel=action")
    result = ingest(_flat(tmp_path), ReadOptions(columns=cols))
    assert {e.channel for e in result.events} == {"login"}
    assert {e.persona for e in result.events} == {"(anonymous)"}  # persona not mapped


def test_mapped_nested_json(tmp_path: Path) -> None:
    p = tmp_path / "x.json"
    rows = [
        {"when": {"utc": "2021-03-04T05:06:07Z"}, "net": {"client": {"addr": "81.2.69.142"}},
         "who": "alice", "kind": "vpn"},
        {"when": {"utc": "2021-03-04T05:06:08Z"}, "net": {"client": {"addr": "bad"}},
         "who": "bob", "kind": "vpn"},
    ]  # fmt: skip
    p.write_text(json.dumps(rows, indent=2))  # a JSON array, pretty-printed
    cols = parse_columns("time=when.utc,src_ip=net.client.addr,persona=who,channel=kind")
    result = ingest(p, ReadOptions(columns=cols))
    (f,) = result.files
    assert (f.format, f.records, f.events) == ("table", 2, 1)
    assert [r.reason for r in result.rejections] == ["bad-address"]
    (e,) = result.events
    assert (e.src_ip, e.persona, e.channel) == ("81.2.69.142", "alice", "vpn")
    assert e.evidence.locator == "record 1"


def test_missing_column_is_a_usage_error(tmp_path: Path) -> None:
    cols = parse_columns("time=Event DateTime,src_ip=Source Ip Address,persona=User")
    with pytest.raises(UsageError, match=r"Source Ip Address \(src_ip\) not in the header"):
        ingest(_flat(tmp_path), ReadOptions(columns=cols))


def test_mapping_leaves_other_formats_alone(tmp_path: Path) -> None:
    (tmp_path / "a.log").write_text(
        '81.2.69.142 - - [04/Mar/2021:05:06:07 +0000] "GET / HTTP/1.1" 200 1\n'
    )
    _flat(tmp_path)
    result = ingest(tmp_path, ReadOptions(columns=parse_columns(MAPPING)))
    assert sorted(f.format for f in result.files) == ["table", "weblog"]


@pytest.mark.parametrize(
    "text",
    ["time=a", "src_ip=b", "time=a,src_ip=b,time=c", "time=a,src_ip=b,colour=c", "time=,src_ip=b",
     "time=a,src_ip"],
)  # fmt: skip
def test_bad_mappings(text: str) -> None:
    with pytest.raises(UsageError, match="--columns"):
        parse_columns(text)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    flat = _flat(tmp_path)
    out = tmp_path / "out"
    assert main(["analyze", str(flat), "--columns", MAPPING, "--out", str(out), "--quiet"]) == 0
    events = (out / "events.jsonl").read_text().splitlines()
    assert len(events) == 2
    bad = MAPPING.replace("Source IP", "Src")
    assert main(["analyze", str(flat), "--columns", bad, "--out", str(out), "--quiet"]) == 2
    assert "Src (src_ip) not in the header" in capsys.readouterr().err
    assert main(["analyze", str(flat), "--columns", "time=x", "--out", str(out)]) == 2


def test_each_file_of_a_case_keeps_its_own_mapping(tmp_path: Path) -> None:
    other = tmp_path / "other.csv"
    other.write_text("When,Addr,Login\n2021-03-05T00:00:00Z,81.2.69.150,dave\n")
    case = tmp_path / "c.duckdb"
    assert main(["ingest", str(case), str(_flat(tmp_path)), "--columns", MAPPING, "--quiet"]) == 0
    second = "time=When,src_ip=Addr,persona=Login"
    assert main(["ingest", str(case), str(other), "--columns", second, "--quiet"]) == 0
    with Case.open(case, create=False) as store:
        personas = sorted(e.persona for e in store.events())
        assert personas == ["alice", "bob", "dave"]
        assert sorted(f.format for f in store.files()) == ["table", "table"]
