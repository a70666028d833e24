"""``--persona-map``: identities (addresses, display names, accounts) -> persona names.

Besides identities, a row may name a request path of access-log records (``path:REGEX``): a web
shell or a C2 endpoint is reached without an account, so the path is what ties its requests to
one operator; or any attribute of a record (``attr:NAME=REGEX``: a user agent, a Zeek
responder port, a table column), for evidence that names nobody.

The analyst writes the patterns, but the adversary writes the text they run on: each search runs
under the ``regex`` engine with a time budget (``REGEX_BUDGET`` seconds). A search that exceeds
it counts as no match, and the row is reported once in ``PersonaMap.warnings()`` (carried into
the assessment and the console) with the number of records it gave up on; the run goes on.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import regex
import yaml

from slipcatch.errors import UsageError

__all__ = ["REGEX_BUDGET", "PersonaMap"]

#: Seconds one pattern may search one value before it is given up as no match.
REGEX_BUDGET = 0.05


@dataclass(frozen=True, slots=True)
class _Row:
    identity: str  # case-folded literal, or the pattern text for regex rows
    persona: str
    pattern: Any  # a compiled ``regex`` pattern, or None for a literal identity
    line: int
    on_path: bool = False  # ``path:`` rows match the request path, never an identity
    attribute: str | None = None  # ``attr:NAME=`` rows match that attribute (name casefolded)


class PersonaMap:
    """Maps identities to persona names.

    Rows are tried in file order and the first row matching any of the identities given to
    ``resolve`` wins. A literal identity matches case-insensitively; ``re:PATTERN`` is a
    regular expression searched (case-insensitively) in each identity; ``path:PATTERN`` is a
    regular expression searched (case-insensitively) in the request path given to ``resolve``
    (access logs: the path and query of the request line), and in nothing else;
    ``attr:NAME=PATTERN`` likewise in the record attribute ``NAME`` (compared without case).
    """

    def __init__(self, rows: list[_Row], name: str = "<memory>"):
        self._rows = tuple(rows)
        self.name = name
        self._timeouts: dict[int, int] = {}  # row line -> searches given up

    def _search(self, row: _Row, text: str) -> bool:
        """Whether ``row``'s pattern is found in ``text`` within the time budget."""
        if row.line in self._timeouts and self._timeouts[row.line] >= _GIVE_UP:
            self._timeouts[row.line] += 1
            return False  # a pattern that keeps blowing its budget is not tried any more
        try:
            return row.pattern.search(text, timeout=REGEX_BUDGET) is not None
        except TimeoutError:
            self._timeouts[row.line] = self._timeouts.get(row.line, 0) + 1
            return False

    def fingerprint(self) -> str:
        """A digest of the rows (identity, persona, in order): equal maps read alike."""
        key = "\x1e".join(f"{r.identity}\x1f{r.persona}" for r in self._rows)
        return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()

    def warnings(self) -> list[str]:
        """One line per row whose pattern exceeded its time budget (the records it gave up on
        were treated as unmatched)."""
        rows = {row.line: row for row in self._rows}
        return [
            f"persona map {self.name} line {line}: pattern {rows[line].identity!r} exceeded its "
            f"{REGEX_BUDGET:g} s budget on {n} record(s), treated as no match"
            for line, n in sorted(self._timeouts.items())
        ]

    @classmethod
    def from_pairs(cls, pairs: list[tuple[str, str]], name: str = "<memory>") -> PersonaMap:
        """Build from ``(identity, persona)`` pairs, in order.

        Raises:
            UsageError: an empty identity or persona, or an invalid ``re:`` pattern.
        """
        return cls([_row(i, p, n, name) for n, (i, p) in enumerate(pairs, 1)], name)

    @classmethod
    def load(cls, path: str | Path) -> PersonaMap:
        """Read a CSV (header ``identity,persona``) or YAML (persona -> identities) map.

        Raises:
            UsageError: the file cannot be read or is malformed; the message names the file
                and, where known, the line.
        """
        name = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise UsageError(f"cannot read persona map: {exc.strerror or exc}", name) from exc
        except UnicodeDecodeError as exc:
            raise UsageError("persona map is not UTF-8", name) from exc
        first = next((ln for ln in text.splitlines() if ln.strip()), "")
        if first.replace(" ", "").lower().startswith("identity,persona"):
            return cls(_load_csv(text, name), name)
        return cls(_load_yaml(text, name), name)

    def __len__(self) -> int:
        return len(self._rows)

    @property
    def has_record_rows(self) -> bool:
        """Whether any row matches request paths or attributes (readers then resolve record by
        record, not once per account)."""
        return any(row.on_path or row.attribute is not None for row in self._rows)

    def resolve(
        self,
        *identities: str | None,
        path: str | None = None,
        attributes: Mapping[str, str] | None = None,
    ) -> str | None:
        """The persona of the first row matching any identity (for a ``path:`` row, the request
        ``path``; for an ``attr:`` row, that one of the record's ``attributes``), or None."""
        given = [i.strip() for i in identities if i and i.strip()]
        if not given and not path and not attributes:
            return None
        folded = [i.casefold() for i in given]
        named: dict[str, str] | None = None
        for row in self._rows:
            if row.attribute is not None:
                if not attributes or row.pattern is None:
                    continue
                if named is None:
                    named = {str(k).casefold(): v for k, v in attributes.items()}
                value = named.get(row.attribute)
                if isinstance(value, str) and self._search(row, value):
                    return row.persona
            elif row.on_path:
                if path and row.pattern is not None and self._search(row, path):
                    return row.persona
            elif row.pattern is not None:
                if any(self._search(row, i) for i in given):
                    return row.persona
            elif row.identity in folded:
                return row.persona
        return None


#: After this many timeouts a row's pattern is no longer tried (each costs the whole budget).
_GIVE_UP = 20


def _row(identity: str, persona: str, line: int, name: str) -> _Row:
    identity, persona = identity.strip(), persona.strip()
    if not identity or not persona:
        raise UsageError("empty identity or persona", name, f"line {line}")
    on_path, attribute = False, None
    if identity.startswith("attr:"):
        named, sep, text = identity[5:].partition("=")
        attribute = named.strip().casefold()
        if not sep or not attribute:
            raise UsageError("an attr: row is attr:NAME=REGEX", name, f"line {line}")
    elif identity.startswith("path:"):
        text, on_path = identity[5:], True
    elif identity.startswith("re:"):
        text = identity[3:]
    else:
        return _Row(identity.casefold(), persona, None, line)
    try:
        pattern = regex.compile(text, regex.IGNORECASE)
    except (regex.error, ValueError, OverflowError) as exc:
        raise UsageError(f"bad regular expression: {exc}", name, f"line {line}") from exc
    return _Row(identity, persona, pattern, line, on_path, attribute)


def _load_csv(text: str, name: str) -> list[_Row]:
    rows: list[_Row] = []
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        for fields in reader:
            line = reader.line_num
            if line == 1 or not any(f.strip() for f in fields):
                continue
            if len(fields) != 2:
                raise UsageError(f"expected 2 fields, found {len(fields)}", name, f"line {line}")
            rows.append(_row(fields[0], fields[1], line, name))
    except csv.Error as exc:
        raise UsageError(f"bad CSV: {exc}", name, f"line {reader.line_num}") from exc
    return rows


def _load_yaml(text: str, name: str) -> list[_Row]:
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        raise UsageError(
            f"bad YAML: {exc.problem}", name, f"line {line}" if line else None
        ) from exc
    except yaml.YAMLError as exc:
        raise UsageError(f"bad YAML: {exc}", name) from exc
    if node is None:
        return []
    if not isinstance(node, yaml.MappingNode):
        raise UsageError(
            "expected a mapping of persona -> identities", name, f"line {node.start_mark.line + 1}"
        )
    rows: list[_Row] = []
    for key, value in node.value:
        kline = key.start_mark.line + 1
        if not isinstance(key, yaml.ScalarNode):
            raise UsageError("persona must be a plain name", name, f"line {kline}")
        items = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for item in items:
            iline = item.start_mark.line + 1
            if not isinstance(item, yaml.ScalarNode):
                raise UsageError("identity must be a string", name, f"line {iline}")
            rows.append(_row(str(item.value), str(key.value), iline, name))
    return rows
