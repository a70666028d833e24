"""docs/cli.md is what tools/cli_reference.py makes of the argparse parser (as cog does)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_PATH = Path(__file__).resolve().parents[1] / "tools" / "cli_reference.py"
_SPEC = importlib.util.spec_from_file_location("cli_reference", _PATH)
assert _SPEC is not None and _SPEC.loader is not None
ref = importlib.util.module_from_spec(_SPEC)
sys.modules["cli_reference"] = ref
_SPEC.loader.exec_module(ref)


def test_the_committed_cli_reference_is_the_parser_s():
    assert ref.DOC.read_text("utf-8") == ref.render(), (
        "docs/cli.md differs from the parser: run .venv/bin/python tools/cli_reference.py"
    )


def test_every_subcommand_has_a_section():
    text = ref.render()
    for name in ("analyze", "simulate", "demo", "intel lookup", "case info", "export", "ingest"):
        assert f"## `slipcatch {name}`" in text
