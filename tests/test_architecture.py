"""The import rules (pyproject ``[tool.importlinter]``, docs/architecture.md "Import rules"):
no import from a later stage into an earlier one, checked with import-linter."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _lint_imports() -> str:
    exe = Path(sys.executable).with_name("lint-imports")
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    if not found:
        pytest.fail("lint-imports is not installed: install the project with '.[test]'")
    return found


def test_import_contracts_are_kept():
    proc = subprocess.run(
        [_lint_imports(), "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout, proc.stdout


def test_the_stage_rules_are_configured():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["importlinter"]
    kinds = {c["type"] for c in config["contracts"]}
    assert {"layers", "forbidden", "protected"} <= kinds
    layers = next(c for c in config["contracts"] if c["type"] == "layers")["layers"]
    assert layers == ["cli", "pipeline", "case", "report", "engine", "analysis", "evidence | intel"]
