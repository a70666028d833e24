"""Shared fuzz harness: one reader, one input, every invariant of the evidence contract.

Each ``fuzz_<reader>.py`` target calls :func:`check` from its ``one_input(data)``. Invariants:

- the reader never raises: every item is an ``Event`` or a ``Rejection`` with a documented
  reason code (``evidence.REASONS``);
- records = events + rejections: for line readers the number of items equals the number of
  records the file holds (non-blank lines; for Zeek, non-``#`` lines), and ``ingest``'s
  account of the file reconciles (records = events + rejected + duplicates);
- reading is deterministic: a second read gives equal items;
- every string of every item is valid Unicode (encodes as UTF-8: no lone surrogate).

:func:`main` runs a target under atheris when it is installed (``-atheris_runs=N`` and other
libFuzzer flags pass through), else as a plain seeded random-input loop (``--runs N
--seed S``), both seeded with the real sample files in shared/data as a corpus.
"""

from __future__ import annotations

import atexit
import itertools
import random
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType

from slipcatch.evidence import REASONS, ReadOptions, ingest
from slipcatch.evidence._source import MAX_LINE, Source
from slipcatch.model import Event, Rejection

ROOT = Path(__file__).resolve().parents[1]
DATA = (ROOT / ".." / "shared" / "data").resolve()
OPTIONS = ReadOptions(trusted_relays=("mx.example.org", "10.0.0.0/8"), year=2014)

#: Tokens every JSON-shaped target splices into its inputs after its own: structure,
#: null, a numeric overflow, and address and time texts in the forms readers misjudge.
JSON_TOKENS = [
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b"null",
    b"\n",
    b'"0.0.0.0"',
    b'"1.2.3.4:80"',
    b'"[::1]:1"',
    b"1e400",
    b'"2020-01-01T00:00:00+0000"',
]

_scratch: Path | None = None


def scratch_file() -> Path:
    """One reusable file per process (fuzzers call ``one_input`` millions of times)."""
    global _scratch
    if _scratch is None:
        _scratch = Path(tempfile.mkdtemp(prefix="slipcatch-fuzz-"))
        atexit.register(shutil.rmtree, _scratch, True)
    return _scratch / "input"


def _nonblank(data: bytes, skip_hash: bool) -> int:
    n = 0
    for piece in data.split(b"\n"):
        if piece.strip() and not (skip_hash and piece.startswith(b"#")):
            n += 1
    return n


def check(reader: ModuleType, data: bytes, *, line_records: str | None = None) -> None:
    """Read ``data`` with ``reader`` and assert the contract.

    ``line_records``: ``"lines"`` when every non-blank line is one record, ``"zeek"`` when
    ``#`` lines are directives (TSV), None (mail, tables) when only the account is checked.

    Raises:
        AssertionError: an invariant does not hold (the fuzzer reports the input).
    """
    path = scratch_file()
    path.write_bytes(data)
    source = Source(path, OPTIONS)
    items = list(reader.read(source))
    for item in items:
        assert isinstance(item, Event | Rejection), type(item)
        if isinstance(item, Rejection):
            assert item.reason in REASONS, item.reason
            _valid_text(item.path, item.locator, item.detail)
        else:
            assert item.time.tzinfo is not None
            assert item.id.startswith("ev--")
            _valid_text(item.persona, item.channel, item.evidence.path, *item.attributes,
                        *item.attributes.values())
    plain = source.compression is None and source.encoding != "utf-16" and len(data) <= MAX_LINE
    if line_records is not None and plain:
        # Zeek JSON logs (first record a JSON object) have no directives.
        first = next((ln for ln in data.split(b"\n") if ln.strip()), b"")
        tsv = line_records == "zeek" and not first.startswith(b"{")
        want = _nonblank(data, skip_hash=tsv)
        assert len(items) == want, (len(items), want)
    again = list(reader.read(Source(path, OPTIONS)))
    assert again == items
    result = ingest(path, OPTIONS)
    for f in result.files:
        assert f.records == f.events + f.rejected + f.duplicates, f
    assert len(result.events) == sum(f.events for f in result.files)
    assert len(result.rejections) == sum(f.rejected for f in result.files)


def _valid_text(*texts: str) -> None:
    """Every string leaving a reader is valid Unicode (no lone surrogate: issue 18)."""
    for text in texts:
        text.encode("utf-8")  # raises UnicodeEncodeError, which the fuzzer reports


def corpus(*globs: str) -> list[bytes]:
    """Real sample files (shared/data) matching the globs, sorted by path."""
    out: list[bytes] = []
    for pattern in globs:
        out.extend(p.read_bytes()[:MAX_LINE] for p in sorted(DATA.glob(pattern)))
    return out


def random_inputs(
    seed: int, count: int, seeds: list[bytes], tokens: list[bytes]
) -> Iterator[bytes]:
    """Seeded inputs: random bytes, and corpus files mutated (flip, cut, splice, insert)."""
    rng = random.Random(seed)
    for i in range(count):
        kind = i % 4
        if kind == 0 or not seeds:
            yield rng.randbytes(rng.randint(0, 300))
            continue
        base = bytearray(rng.choice(seeds)[:4000])
        for _ in range(rng.randint(1, 8)):
            op = rng.randrange(5)
            pos = rng.randint(0, len(base))
            if op == 0 and base:
                base[min(pos, len(base) - 1)] = rng.randrange(256)
            elif op == 1:
                del base[pos : pos + rng.randint(1, 64)]
            elif op == 2:
                base[pos:pos] = rng.choice(tokens)
            elif op == 3:
                other = rng.choice(seeds)
                start = rng.randint(0, max(0, len(other) - 1))
                base[pos:pos] = other[start : start + rng.randint(1, 200)]
            else:
                base[pos:pos] = b"\n"
        yield bytes(base)


def main(one_input: Callable[[bytes], None], seeds: list[bytes], tokens: list[bytes]) -> None:
    """Run a target: atheris if installed (libFuzzer flags pass through), else a plain loop."""
    if "--plain" not in sys.argv:
        try:
            import atheris  # type: ignore[import-not-found]
        except ImportError:
            atheris = None
        if atheris is not None:

            def test_one_input(data: bytes) -> None:
                one_input(data)

            corpus_dir = Path(tempfile.mkdtemp(prefix="slipcatch-corpus-"))
            atexit.register(shutil.rmtree, corpus_dir, True)
            for n, s in enumerate(seeds):
                (corpus_dir / f"seed{n:04d}").write_bytes(s)
            args = [a for a in sys.argv if a != "--plain"]
            if not any(not a.startswith("-") for a in args[1:]):
                args.append(str(corpus_dir))
            atheris.instrument_all()
            atheris.Setup(args, test_one_input)
            atheris.Fuzz()
            return
    runs = 10_000
    seed = 1
    for arg in sys.argv[1:]:
        if arg.startswith("--runs="):
            runs = int(arg.split("=", 1)[1])
        elif arg.startswith("--seed="):
            seed = int(arg.split("=", 1)[1])
        elif arg.startswith("-atheris_runs="):
            runs = int(arg.split("=", 1)[1])
    for n, data in enumerate(itertools.chain(seeds, random_inputs(seed, runs, seeds, tokens))):
        try:
            one_input(data)
        except Exception:
            crash = Path(f"crash-{seed}-{n}")
            crash.write_bytes(data)
            print(f"failing input written to {crash}", file=sys.stderr)
            raise
        if n and n % 50_000 == 0:  # long campaigns: a figure survives an interruption
            print(f"{n} inputs, no failure so far", flush=True)
    print(f"{len(seeds) + runs} inputs, no failure")
