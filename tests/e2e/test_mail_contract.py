"""The typed e-mail part of an event (``Event.mail``): readers fill it, the pipeline reads the
claimed client from it, the case store and the codec keep it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import duckdb

from slipcatch import codec
from slipcatch.case import Case
from slipcatch.engine.observe import observe
from slipcatch.evidence import ReadOptions, ingest
from slipcatch.model import Event, MailOrigin, OriginTrust

DEMO_MAIL = Path(__file__).resolve().parents[2] / "src/slipcatch/data/demo/evidence/mail"
SW = OriginTrust.SENDER_WRITTEN


class _Pack:
    """Stands in for an IntelPack: records what ``observe`` looks up."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def lookup(self, ips: list[str], times: list[datetime]) -> list[str]:
        self.asked.append(list(ips))
        return [f"facts of {ip}" for ip in ips]


def test_the_demo_mails_carry_their_senders_and_the_one_claim() -> None:
    events = ingest(DEMO_MAIL).events
    assert all(e.mail is not None for e in events)
    senders = sorted({e.mail.from_addr for e in events if e.mail is not None and e.mail.from_addr})
    assert senders == [
        "dana.whitfield@northlight-films.example",  # the unrelated message
        "godsapstls@inboxer.example",
        "peace.guardian03@webpost.example",
        "peace.guardian05@inboxer.example",
        "peace.guardian07@inboxer.example",
        "peace.guardian11@webpost.example",
        "peace.guardian13@webpost.example",
        "peace.guardian21@webpost.example",
    ]
    claims = [e.mail for e in events if e.mail is not None and e.mail.claimed_client_ip]
    assert [(m.claimed_client_ip, m.claimed_client_trust) for m in claims] == [
        ("126.209.87.154", SW)
    ]
    for e in events:  # the attributes are the typed part's flat view
        assert e.mail is not None and e.mail.attributes().items() <= e.attributes.items()


def test_observe_reads_the_claimed_client_from_the_typed_part(tmp_path: Path) -> None:
    events = ingest(DEMO_MAIL).events
    pack = _Pack()
    obs = observe(events, pack)  # type: ignore[arg-type]
    assert pack.asked[1] == ["126.209.87.154"]
    assert [o.claimed for o in obs if o.claimed is not None] == ["facts of 126.209.87.154"]
    # a claimed_client_ip attribute alone (no typed part) is not read
    bare = [replace(e, mail=None) for e in events]
    assert all(o.claimed is None for o in observe(bare, _Pack()))  # type: ignore[arg-type]


def test_a_table_row_on_channel_email_gets_its_typed_part_from_its_columns(
    tmp_path: Path,
) -> None:
    table = tmp_path / "mail.csv"
    table.write_text(
        "time,src_ip,persona,channel,from_addr,claimed_client_ip,claimed_client_trust\n"
        "2014-12-01T10:00:00Z,46.28.106.77,gop,email,gop@x.example,126.5.6.7,sender-written\n"
        "2014-12-01T10:05:00Z,46.28.106.77,gop,email,,,\n"
        "2014-12-01T10:09:00Z,46.28.106.77,gop,posting,gop@x.example,126.5.6.7,bogus\n",
        encoding="utf-8",
    )
    first, second, third = ingest(table).events
    assert first.mail == MailOrigin(
        from_addr="gop@x.example", claimed_client_ip="126.5.6.7", claimed_client_trust=SW
    )
    assert second.mail is None and third.mail is None
    assert MailOrigin.from_attributes(third.attributes) == MailOrigin(
        from_addr="gop@x.example", claimed_client_ip="126.5.6.7"
    )  # an unknown trust value is dropped
    assert [o.claimed for o in observe([first, second, third], _Pack())] == [  # type: ignore[arg-type]
        "facts of 126.5.6.7",
        None,
        None,
    ]


def test_the_case_store_keeps_the_typed_part(tmp_path: Path) -> None:
    direct = ingest(DEMO_MAIL).events
    with Case.open(tmp_path / "c") as case:
        case.ingest([DEMO_MAIL], ReadOptions())
        assert case.events() == direct


def test_a_case_stored_without_the_column_reads_the_part_from_the_attributes(
    tmp_path: Path,
) -> None:
    db = tmp_path / "old.duckdb"
    with Case.open(db) as case:
        case.ingest([DEMO_MAIL], ReadOptions())
    con = duckdb.connect(str(db))
    con.execute("ALTER TABLE events DROP COLUMN mail")
    con.close()
    with Case.open(db) as case:
        events = case.events()
    direct = {e.id: e for e in ingest(DEMO_MAIL).events}
    for e in events:
        want = direct[e.id].mail
        assert want is not None
        assert e.mail == replace(want, display_name=None)


def test_the_codec_round_trips_the_typed_part() -> None:
    [event] = [e for e in ingest(DEMO_MAIL).events if e.mail and e.mail.claimed_client_ip]
    data = json.loads(json.dumps(codec.encode(event)))
    assert data["mail"]["claimed_client_trust"] == "sender-written"
    assert codec.decode(Event, data) == event
    del data["mail"]  # a snapshot written before the field existed
    assert codec.decode(Event, data) == replace(event, mail=None)
