"""docs/api.md runs as doctests; docs/case-store.md matches the real schema; api.py is
mypy-strict clean."""

from __future__ import annotations

import doctest
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_api_md_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = doctest.testfile(
        str(ROOT / "docs" / "api.md"), module_relative=False, report=True,
        optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
    )
    assert result.attempted >= 30
    assert result.failed == 0
    assert (tmp_path / "out" / "assessment.json").exists()


def _documented_tables() -> dict[str, list[tuple[str, str, str]]]:
    text = (ROOT / "docs" / "case-store.md").read_text(encoding="utf-8")
    tables: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^### (\w+)$", line)
        if m:
            current = m.group(1)
            tables[current] = []
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if current and line.startswith("| ") and len(cells) == 4 and cells[0] not in (
            "column", "---"
        ):
            tables[current].append((cells[0], cells[1], cells[2]))
    return tables


def test_case_store_doc_matches_the_schema(tmp_path: Path) -> None:
    from slipcatch.case import TABLES, Case

    with Case.open(tmp_path / "c") as store:
        real: dict[str, list[tuple[str, str, str]]] = {}
        for table in TABLES:
            rows = store._con.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                "WHERE table_name = ? ORDER BY ordinal_position", [table]).fetchall()
            real[table] = [(c, t, "yes" if n == "YES" else "no") for c, t, n in rows]
        names = [r[0] for r in store._con.execute(
            "SELECT table_name FROM information_schema.tables").fetchall()]
    assert sorted(names) == sorted(TABLES)
    assert _documented_tables() == real


def test_api_is_mypy_strict_clean() -> None:
    exe = Path(sys.executable).with_name("mypy")
    found = str(exe) if exe.exists() else shutil.which("mypy")
    assert found, "mypy is not installed: install the project with '.[test]'"
    proc = subprocess.run(
        [found, "--strict", "--no-error-summary", "src/slipcatch/api.py",
         "src/slipcatch/_notebook.py", "src/slipcatch/_lookupframe.py"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
