"""Write docs/cli.md, the command-line reference, from the argparse parser of ``slipcatch.cli``.

Every command and subcommand gets its usage line and a table of its arguments and options, so
the reference cannot drift from the parser; tests/test_cli_reference.py fails when the
committed file differs from what this prints. After adding or changing a subcommand or flag:

    .venv/bin/python tools/cli_reference.py            # rewrite docs/cli.md
    .venv/bin/python tools/cli_reference.py --check    # exit 1 if docs/cli.md is out of date
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "cli.md"
#: Usage lines are wrapped at this width whatever the terminal, so the output is stable.
WIDTH = 100

HEADER = """\
# Command-line reference

<!-- Generated from the argparse parser (slipcatch.cli) by tools/cli_reference.py: do not edit
by hand. After adding or changing a subcommand or flag, regenerate it with

    .venv/bin/python tools/cli_reference.py

tests/test_cli_reference.py fails while this file differs from the parser. -->

`slipcatch COMMAND --help` prints the same usage and options in the terminal.
"""


def _subcommands(
    parser: argparse.ArgumentParser,
) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    """``(name, one-line help, parser)`` of each subcommand of ``parser``, in declared order."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def _invocation(action: argparse.Action) -> str:
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        metavar = "{" + ",".join(str(c) for c in action.choices) + "}"
    else:
        metavar = str(
            action.metavar or (action.dest if not action.option_strings else action.dest.upper())
        )
    if not action.option_strings:
        return {
            "*": f"[{metavar} ...]",
            "+": f"{metavar} [{metavar} ...]",
            "?": f"[{metavar}]",
        }.get(str(action.nargs), metavar)
    names = ", ".join(action.option_strings)
    return names if action.nargs == 0 else f"{names} {metavar}"


def _notes(action: argparse.Action) -> str:
    notes = []
    if action.required and action.option_strings:
        notes.append("required")
    if isinstance(action, argparse._AppendAction) and "repeatable" not in (action.help or ""):
        notes.append("repeatable")
    default = action.default
    if (
        action.option_strings
        and action.nargs != 0
        and default not in (None, [], argparse.SUPPRESS)
        and "default" not in (action.help or "")
    ):
        notes.append(f"default: `{default}`")
    return f" ({'; '.join(notes)})" if notes else ""


def _section(path: str, summary: str, parser: argparse.ArgumentParser) -> list[str]:
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=WIDTH)
    out = [f"## `{path}`", ""]
    text = parser.description or summary
    if text:
        out += [_cell(text), ""]
    out += ["```text", parser.format_usage().strip(), "```", ""]
    rows = [
        a
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction | argparse._SubParsersAction)
    ]
    subs = list(_subcommands(parser))
    if rows:
        out += ["| Argument | Meaning |", "| --- | --- |"]
        out += [f"| `{_cell(_invocation(a))}` | {_cell(a.help or '')}{_notes(a)} |" for a in rows]
        out.append("")
    if subs:
        out += ["| Subcommand | Meaning |", "| --- | --- |"]
        out += [f"| [`{name}`](#{_anchor(f'{path} {name}')}) | {_cell(h)} |" for name, h, _ in subs]
        out.append("")
    return out


def _anchor(title: str) -> str:
    """GitHub's heading anchor for ``## `title```."""
    return "".join(c for c in title.lower() if c.isalnum() or c in " -_").replace(" ", "-")


def render() -> str:
    """The whole of docs/cli.md, as the parser describes the command line now."""
    from slipcatch.cli import _build_parser

    lines = [HEADER]

    def walk(path: str, summary: str, parser: argparse.ArgumentParser) -> None:
        lines.extend(_section(path, summary, parser))
        for name, help_text, sub in _subcommands(parser):
            walk(f"{path} {name}", help_text, sub)

    walk("slipcatch", "", _build_parser())
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/cli.md is out of date")
    args = ap.parse_args(argv)
    text = render()
    if args.check:
        current = DOC.read_text("utf-8") if DOC.exists() else ""
        if current != text:
            print(
                f"{DOC.relative_to(ROOT)} is out of date: run tools/cli_reference.py",
                file=sys.stderr,
            )
            return 1
        return 0
    DOC.write_text(text, "utf-8")
    print(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
