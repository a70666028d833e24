"""Shared helpers of the workbench tests: the demo case, a live server, headless Chromium.

The Chromium driver is tests/devtools.py, shared with the report's browser tests.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from devtools import TIMEOUT
from slipcatch import analyze
from slipcatch.cli import demo_case_dir
from slipcatch.web import bind, create_app, open_store

ROOT = Path(__file__).resolve().parents[2]
GOP = "Guardians of Peace"


def demo_manifest() -> tuple[Path, dict[str, Any]]:
    root = demo_case_dir()
    return root, json.loads((root / "case.json").read_text(encoding="utf-8"))


def analyze_demo(
    case: Path | None = None,
    out: Path | None = None,
    evidence_file: Path | None = None,
    extra_intel: tuple[Path, ...] = (),
    extra_evidence: tuple[Path, ...] = (),
) -> Any:
    root, m = demo_manifest()
    return analyze(
        [root / p for p in m["evidence"]] + list(extra_evidence),
        intel=[root / p for p in m["intel"]] + list(extra_intel),
        persona_map=root / m["persona_map"],
        evidence_file=evidence_file or root / m["evidence_file"],
        trusted_relays=m["trusted_relays"],
        case=case,
        out_dir=out,
    )


@dataclass
class Live:
    base: str
    token: str
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        return f"{self.base}/?token={self.token}"


@contextmanager
def live_server(source: Path, token: str = "test-token-123") -> Iterator[Live]:
    """The workbench on 127.0.0.1 and a free port, in a thread, as `slipcatch serve` runs it."""
    store = open_store(source)
    sock = bind("127.0.0.1", 0)
    config = uvicorn.Config(create_app(store, token), log_level="warning", access_log=False,
                            lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + TIMEOUT
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield Live(f"http://127.0.0.1:{sock.getsockname()[1]}", token, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=TIMEOUT)
        sock.close()
        store.close()
