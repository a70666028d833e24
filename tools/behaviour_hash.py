"""Fingerprint of what slipcatch says, for refactors that must not change behaviour.

Prints one SHA-256 per part and one over all of them:

- ``demo``: every output file of ``slipcatch demo`` (SOURCE_DATE_EPOCH fixed, so the run time
  is fixed too);
- ``simulated``: the assessment document and the Markdown report of N simulated calibration
  cases (default 400, seed 2026), as the analysis judges them;
- ``scores``: the calibration harness's JSON report on those cases.

Run it before and after a change that should not alter behaviour and compare the lines:

    .venv/bin/python tools/behaviour_hash.py [--cases 400] [--seed 2026]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path


def _calibration():
    from slipcatch import calibration

    return calibration


def demo_hash() -> str:
    h = hashlib.sha256()
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
        subprocess.run(
            [sys.executable, "-m", "slipcatch.cli", "demo", "--out", tmp],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
        # outputs name evidence files by absolute path: hash them relative to the checkout
        root = str(Path(__file__).resolve().parents[1]).encode()
        for p in sorted(Path(tmp).iterdir()):
            h.update(p.name.encode())
            h.update(p.read_bytes().replace(root, b"<root>"))
    return h.hexdigest()


def simulated_hash(cases: int, seed: int) -> tuple[str, str]:
    from slipcatch.analysis import MODEL_VERSION, assess
    from slipcatch.model import Assessment
    from slipcatch.report import assessment_document, render_markdown

    cal = _calibration()
    h = hashlib.sha256()
    when = datetime(2026, 1, 1, tzinfo=UTC)
    for case in cal.generate(cases, seed):
        personas = assess(case.observations, cal.ACTORS, evidence_file=case.analyst)
        a = Assessment(
            generated_at=when,
            evidence=(),
            rejections=(),
            pack_id="sim",
            sources=(),
            observations=tuple(case.observations),
            personas=tuple(personas),
            actors=tuple(cal.ACTORS),
            model_version=MODEL_VERSION,
        )
        h.update(json.dumps(assessment_document(a), sort_keys=True).encode())
        h.update(render_markdown(a).encode())
    report = cal.run(cases, seed)
    scores = json.dumps(_plain(report), sort_keys=True, default=str)
    return h.hexdigest(), hashlib.sha256(scores.encode()).hexdigest()


def _plain(obj):
    import dataclasses

    if dataclasses.is_dataclass(obj):
        return {
            f.name: _plain(getattr(obj, f.name))
            for f in dataclasses.fields(obj)
            if f.name != "outcomes"
        }
    if isinstance(obj, (list, tuple)):
        return [_plain(x) for x in obj]
    if isinstance(obj, dict):
        return {str(k): _plain(v) for k, v in obj.items()}
    return obj


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    parts = {"demo": demo_hash()}
    parts["simulated"], parts["scores"] = simulated_hash(args.cases, args.seed)
    total = hashlib.sha256("".join(parts.values()).encode()).hexdigest()
    for k, v in parts.items():
        print(f"{k:10} {v}")
    print(f"{'all':10} {total}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
