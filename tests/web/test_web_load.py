"""The short version of benchmarks/serve/load.py: a small case (demo + 5,000 synthetic events),
`slipcatch serve` in a child process, 5 clients for 3 s on persona and evidence pages: no error.
The full run (1 M events, 50 clients, 30 s) is a separate command: benchmarks/README.md."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from .harness import ROOT


def _load_module():  # benchmarks/ is not a package
    spec = importlib.util.spec_from_file_location("serve_load", ROOT / "benchmarks" / "serve"
                                                  / "load.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_short_load_has_no_error(tmp_path: Path, intel_cache: None) -> None:
    load = _load_module()
    case = tmp_path / "load.duckdb"
    built = load.build_case(case, 5000)
    assert built["events"] >= 5000 and built["persona_events"] >= 500
    proc, url = load.start_server(case)
    try:
        assert url.startswith("http://127.0.0.1:") and "?token=" in url
        result = load.run_load(url, clients=5, seconds=3)
    finally:
        proc.terminate()
        rest, _ = proc.communicate(timeout=30)  # reads and closes the pipe
    assert result["errors"] == 0, result["error_samples"]
    assert result["persona_requests"] > 0 and result["evidence_requests"] > 0
    assert rest == ""  # the URL was the one and only line


@pytest.mark.parametrize("argv", [["serve", "--help"]])
def test_serve_is_a_subcommand(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    from slipcatch import cli

    assert cli.main(argv) == 0  # help printed, exit status 0 (main returns it)
    out = capsys.readouterr().out
    assert "--host" in out and "--port" in out and "CASE | OUT_DIR" in out
