"""A short, seeded fuzz run in CI: each fuzz target's one-input function over the real sample
files and a few hundred random and mutated inputs (fuzz/_harness.py states the invariants).
The longer campaign is documented in docs/formats.md ("Fuzzing")."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType

import pytest

FUZZ = Path(__file__).resolve().parents[2] / "fuzz"
TARGETS = sorted([
    "fuzz_authlog",
    "fuzz_bulk",
    "fuzz_iis",
    "fuzz_mail",
    "fuzz_squid",
    "fuzz_table",
    "fuzz_vsftpd",
    "fuzz_weblog",
    "fuzz_weblog_json",
    "fuzz_winsec",
    "fuzz_zeek",
    # cloud, identity and SIEM exports
    "fuzz_cloudtrail",
    "fuzz_ecs",
    "fuzz_entra",
    "fuzz_github",
    "fuzz_gworkspace",
    "fuzz_m365",
    "fuzz_okta",
    "fuzz_splunk",
    "fuzz_suricata",
])
RANDOM_INPUTS = 500


def _target(name: str) -> ModuleType:
    if str(FUZZ) not in sys.path:
        sys.path.insert(0, str(FUZZ))
    return importlib.import_module(name)


def test_every_reader_has_a_target() -> None:
    from slipcatch.evidence._ingest import FORMATS

    readers = {f.__name__.rsplit(".", 1)[1] for f in FORMATS}
    # fuzz_bulk compares the bulk path with the per-line readers (evidence.bulk), not a reader.
    assert {t.removeprefix("fuzz_") for t in TARGETS} - {"bulk"} == readers
    assert sorted(p.stem for p in FUZZ.glob("fuzz_*.py")) == TARGETS


@pytest.mark.parametrize("name", TARGETS)
def test_short_fuzz_run(name: str) -> None:
    target = _target(name)
    harness = _target("_harness")
    assert target.SEEDS, "the real sample files are the corpus"
    inputs = target.SEEDS + list(
        harness.random_inputs(20141124, RANDOM_INPUTS, target.SEEDS, target.TOKENS)
    )
    for data in inputs:
        target.one_input(data)


def test_harness_catches_a_broken_reader() -> None:
    # The invariants can fail: a reader that drops a record is caught.
    harness = _target("_harness")
    from slipcatch.evidence import weblog

    class Lossy:
        NAME = "lossy"

        @staticmethod
        def read(source):  # type: ignore[no-untyped-def]
            return list(weblog.read(source))[1:]

    line = b'1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 1\n'
    harness.check(weblog, line * 2, line_records="lines")
    with pytest.raises(AssertionError):
        harness.check(Lossy, line * 2, line_records="lines")  # type: ignore[arg-type]


def test_w3c_directives_counted_whatever_the_first_line() -> None:
    # Found by the 10^6 IIS campaign (seed 18, input 94,140): a W3C log whose first line starts
    # with "{" still has "#" directives, which are not records; only Zeek JSON has none. The
    # reader was right (one record, a bad-encoding rejection); the harness counted 3.
    harness = _target("_harness")
    from slipcatch.evidence import iis

    data = b"{l\xe8\xfd garbage\n#\xd0o directive\n#\xd6\xcd8G\x06\n"
    harness.check(iis, data, line_records="directives")
    with pytest.raises(AssertionError):
        harness.check(iis, data, line_records="lines")
