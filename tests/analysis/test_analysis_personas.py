"""Persona identities: the demo mailbox's sender addresses become its personas' identities."""

from __future__ import annotations

from pathlib import Path

from slipcatch.analysis.personas import group_by_persona
from slipcatch.evidence import PersonaMap, ReadOptions, ingest
from slipcatch.model import AddressFacts, Category, Event, Observation

DEMO = Path(__file__).resolve().parents[2] / "src/slipcatch/data/demo/evidence"


def _identities(events: list[Event]) -> dict[str, tuple[str, ...]]:
    obs = [Observation(e, AddressFacts(e.src_ip, e.time, Category.UNKNOWN)) for e in events]
    return {p.name: p.identities for p, _ in group_by_persona(obs)}


def test_the_demo_gop_persona_has_its_four_sender_addresses() -> None:
    # Regression (issue 15): the e-mail persona's identities were ('GOP',), its senders unread.
    found = _identities(ingest(DEMO / "mail").events)
    assert found["GOP"] == (
        "peace.guardian03@webpost.example",
        "peace.guardian07@inboxer.example",
        "peace.guardian11@webpost.example",
        "peace.guardian21@webpost.example",
    )
    assert found["Dana Whitfield"] == ("dana.whitfield@northlight-films.example",)


def test_mapped_personas_collect_every_sender_and_other_channels_keep_their_rule() -> None:
    options = ReadOptions(persona_map=PersonaMap.load(DEMO / "persona-map.csv"))
    events = ingest([DEMO / "mail", DEMO / "postings.csv"], options).events
    found = _identities(events)
    assert found["Guardians of Peace"] == (
        "godsapstls@inboxer.example",
        "peace.guardian03@webpost.example",
        "peace.guardian05@inboxer.example",
        "peace.guardian07@inboxer.example",
        "peace.guardian11@webpost.example",
        "peace.guardian13@webpost.example",
        "peace.guardian21@webpost.example",
    )
    # postings alone carry no sender: the persona name stays their only identity
    posts = ingest(DEMO / "postings.csv", options).events
    assert _identities(posts)["Guardians of Peace"] == ("Guardians of Peace",)
