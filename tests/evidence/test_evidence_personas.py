"""--persona-map files."""

from __future__ import annotations

from pathlib import Path

import pytest

from slipcatch.errors import UsageError
from slipcatch.evidence import PersonaMap


def test_csv_map_first_row_wins(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text("identity,persona\nGod'sApstls,GOP\nre:@gop\\.example$,GOP-mail\nre:.,catchall\n")
    m = PersonaMap.load(p)
    assert len(m) == 3
    assert m.resolve("god'sapstls") == "GOP"
    assert m.resolve(None, "X@GOP.example") == "GOP-mail"
    assert m.resolve("someone") == "catchall"
    assert m.resolve(None, "") is None


def test_yaml_map(tmp_path: Path) -> None:
    p = tmp_path / "m.yaml"
    p.write_text("GOP:\n  - god'sapstls\n  - 're:^gop'\nLone: single@example.org\n")
    m = PersonaMap.load(p)
    assert m.resolve("GOP-team") == "GOP"
    assert m.resolve("Single@Example.org") == "Lone"
    assert m.resolve("other") is None


def test_path_rows_match_request_paths_only(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text(
        "identity,persona\n"
        "alice,Alice\n"
        "path:^/wp-content/uploads/[^/]+\\.php,webshell\n"
        "re:shell,by-name\n"
    )
    m = PersonaMap.load(p)
    assert m.has_record_rows
    # the path of an unauthenticated request decides
    assert m.resolve(None, path="/wp-content/uploads/cmd.php?c=id") == "webshell"
    assert m.resolve(None, path="/WP-CONTENT/uploads/cmd.PHP") == "webshell"  # case-insensitive
    assert m.resolve(None, path="/index.php") is None
    # a path row never matches an identity, an identity row never a path
    assert m.resolve("/wp-content/uploads/cmd.php") is None
    assert m.resolve(None, path="/alice") is None
    assert m.resolve(None, path="/shell") is None
    # rows in file order: an account row before the path row wins for that account
    assert m.resolve("alice", path="/wp-content/uploads/cmd.php") == "Alice"
    assert m.resolve("bob", path="/wp-content/uploads/cmd.php") == "webshell"
    assert not PersonaMap.from_pairs([("alice", "A")]).has_record_rows


def test_attr_rows_match_a_named_attribute_only(tmp_path: Path) -> None:
    p = tmp_path / "m.csv"
    p.write_text(
        "identity,persona\nattr:User_Agent=^curl/7\\.29,tooling\nattr:id.resp_p=^8443$,backdoor\n"
    )
    m = PersonaMap.load(p)
    assert m.has_record_rows  # resolved record by record
    # attribute names compare without case, values by the regular expression (no case)
    assert m.resolve(None, attributes={"user_agent": "CURL/7.29.0"}) == "tooling"
    assert m.resolve(None, attributes={"id.resp_p": "8443"}) == "backdoor"
    assert m.resolve(None, attributes={"id.resp_p": "18443"}) is None
    # an attr row never matches an identity or a path, nor an attribute of another name
    assert m.resolve("curl/7.29", path="curl/7.29") is None
    assert m.resolve(None, attributes={"referer": "curl/7.29"}) is None
    for bad in ("attr:=x", "attr:user_agent", "attr:ua=(", "attr: =x"):
        p.write_text(f"identity,persona\n{bad},P\n")
        with pytest.raises(UsageError) as err:
            PersonaMap.load(p)
        assert err.value.locator == "line 2"


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("a.csv", "identity,persona\nx,y\nre:(,z\n", "line 3"),
        ("g.csv", "identity,persona\nx,y\npath:[a-,z\n", "line 3"),
        ("b.csv", "identity,persona\nx,y,z\n", "line 2"),
        ("c.csv", "identity,persona\n,y\n", "line 2"),
        ("d.yaml", "GOP:\n  - a\n  - [b\n", "line 4"),
        ("e.yaml", "- a\n- b\n", "line 1"),
        ("f.yaml", "GOP:\n  - {a: b}\n", "line 2"),
    ],
)
def test_bad_files_name_file_and_line(tmp_path: Path, name: str, text: str, where: str) -> None:
    p = tmp_path / name
    p.write_text(text)
    with pytest.raises(UsageError) as err:
        PersonaMap.load(p)
    assert err.value.source == str(p)
    assert err.value.locator == where


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as err:
        PersonaMap.load(tmp_path / "none.csv")
    assert err.value.source == str(tmp_path / "none.csv")
