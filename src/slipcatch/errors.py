"""Errors slipcatch raises.

::

    SlipcatchError                 base; carries source (a path or name), locator and reason
    ├── UsageError                 bad flags or arguments (CLI exit 2)
    ├── EvidenceError              an evidence path that cannot be read at all (CLI exit 2)
    ├── IntelError                 an intel source that cannot be loaded (CLI exit 2)
    │   └── PackError              a compiled pack that is missing, corrupt or of another version
    └── CaseError                  a case store that cannot be opened or is inconsistent

A record inside a readable file that cannot be used is *not* an error: it becomes a
``model.Rejection`` and the run goes on. Only the CLI turns these errors into a one-line message
and an exit status.
"""

from __future__ import annotations

__all__ = ["CaseError", "EvidenceError", "IntelError", "PackError", "SlipcatchError", "UsageError"]


class SlipcatchError(Exception):
    """Base class. ``str()`` gives a one-line message naming the source and locator."""

    def __init__(self, reason: str, source: str | None = None, locator: str | None = None):
        self.reason = reason
        self.source = source
        self.locator = locator
        where = ""
        if source:
            where = f"{source}" + (f" ({locator})" if locator else "") + ": "
        super().__init__(f"{where}{reason}")


class UsageError(SlipcatchError):
    """The caller asked for something that cannot be done as asked."""


class EvidenceError(SlipcatchError):
    """An evidence path cannot be read (missing, permission denied, not a file)."""


class IntelError(SlipcatchError):
    """An intel source cannot be loaded; the message names the file and, if known, the line."""


class PackError(IntelError):
    """A compiled intel pack is missing, corrupt or of an unsupported layout version."""


class CaseError(SlipcatchError):
    """A case store cannot be opened or holds inconsistent data."""
