"""Progress on standard error, for a person at a terminal only.

Shown when stderr is a terminal and ``--quiet`` was not given; silent in pipes, files and CI,
so that scripts and logs see only the command's own output.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

__all__ = ["Progress", "pack_needs_build"]


class Progress:
    """One status line, rewritten in place (``\\r``), ended by ``done``."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.stream = stream if stream is not None else sys.stderr
        isatty = getattr(self.stream, "isatty", None)
        self.enabled = not quiet and bool(isatty and isatty())
        self._open = False

    def step(self, text: str) -> None:
        if not self.enabled:
            return
        self.stream.write("\r\x1b[K" + text)
        self.stream.flush()
        self._open = True

    def clear(self) -> None:
        """Take the status line away (before printing a line of output)."""
        if self.enabled and self._open:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._open = False

    def done(self, text: str | None = None) -> None:
        if not self.enabled:
            return
        if text is not None:
            self.stream.write("\r\x1b[K" + text)
        if self._open or text is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._open = False


def pack_needs_build(cache_dir: Path | None = None) -> bool:
    """True when the default intel pack is not in the cache yet (the first run compiles it,
    which takes tens of seconds)."""
    from slipcatch.errors import IntelError
    from slipcatch.intel import base_pack_id, cache_root

    try:
        return not (cache_root(cache_dir) / base_pack_id()).exists()
    except IntelError:  # a missing default source is reported by load_pack itself
        return False
