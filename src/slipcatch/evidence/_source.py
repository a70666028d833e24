"""One evidence file on disk: its hash, size, transparent decompression and record iteration.

Compression is recognised from magic bytes (never from the name) and read as a stream. Limits
protect against decompression bombs: past ``MAX_TOTAL`` decompressed bytes, or past
``RATIO_FLOOR`` bytes with a decompressed:compressed ratio above ``MAX_RATIO``, the rest of the
file becomes one ``decompression-limit`` rejection. A truncated or corrupt stream becomes one
``truncated-compression`` rejection for the remainder; records read before it are kept.
"""

from __future__ import annotations

import bz2
import codecs
import hashlib
import lzma
import zlib
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from slipcatch.errors import EvidenceError

if TYPE_CHECKING:
    from slipcatch.evidence import ReadOptions

__all__ = [
    "HEAD_SIZE",
    "MAX_LINE",
    "MAX_RATIO",
    "MAX_TOTAL",
    "RATIO_FLOOR",
    "Line",
    "Problem",
    "Source",
]

HEAD_SIZE = 64 * 1024
MAX_LINE = 64 * 1024
MAX_TOTAL = 2 * 1024**3
MAX_RATIO = 200
RATIO_FLOOR = 10 * 1024**2
_CHUNK = 64 * 1024

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ\x00", "xz"),
)


@dataclass(frozen=True, slots=True)
class Line:
    """One physical line (without its line ending) and its 1-based number."""

    number: int
    data: bytes


@dataclass(frozen=True, slots=True)
class Problem:
    """A record that cannot be read at all (too long, or the stream broke)."""

    number: int  # line number where it happened
    reason: str
    detail: str = ""


class _Readable(Protocol):
    def read(self, n: int, /) -> bytes: ...
    def close(self) -> None: ...


class _StreamFault(Exception):
    """Raised inside the decompressing reader; turned into a ``Problem`` by the iterators."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class _Limited:
    """Wraps a decompressing reader, enforcing the bomb limits and normalising stream errors."""

    def __init__(self, inner: _Readable, raw: IO[bytes], limits: tuple[int, int, int]):
        self._inner = inner
        self._raw = raw
        self._total_limit, self._ratio, self._floor = limits
        self.produced = 0

    def read(self, n: int) -> bytes:
        try:
            data = self._inner.read(n)
        except EOFError as exc:
            raise _StreamFault("truncated-compression", f"stream ended early: {exc}") from exc
        except _TrailingGarbage as exc:
            raise _StreamFault("truncated-compression", f"{exc} (ignored)") from exc
        except (OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
            raise _StreamFault("truncated-compression", f"corrupt stream: {exc}") from exc
        self.produced += len(data)
        if self.produced > self._total_limit:
            raise _StreamFault(
                "decompression-limit", f"more than {self._total_limit} bytes decompressed"
            )
        if self.produced > self._floor:
            consumed = max(1, self._raw.tell())
            if self.produced / consumed > self._ratio:
                raise _StreamFault(
                    "decompression-limit",
                    f"ratio {self.produced // consumed}:1 exceeds {self._ratio}:1",
                )
        return data


class _TrailingGarbage(Exception):
    """Bytes after the last gzip member that are not another member (``gzip -dc`` ignores them
    with a warning; so do we, with a rejection saying how many)."""


_GZIP_MAGIC = b"\x1f\x8b"
#: Compressed bytes fed at a time: small, so that the file position the bomb ratio is judged by
#: follows the decompressed output closely.
_GZ_IN = 8 * 1024


def _gzip_members(raw: IO[bytes]) -> Generator[bytes, None, None]:
    """The decompressed bytes of every gzip member in turn, as ``gzip -dc`` reads them; an
    empty ``b""`` marks the end of each member (its CRC and length verified).

    Raises (after yielding all the output before the fault): ``EOFError`` for a stream cut
    short, ``zlib.error`` for a corrupt member (bad deflate data, or a CRC/length mismatch at
    its end), ``_TrailingGarbage`` for bytes after the last member that start no member.
    """
    d = zlib.decompressobj(31)
    started = False
    while True:
        chunk = raw.read(_GZ_IN)
        if not chunk:
            if started and not d.eof:
                raise EOFError("compressed file ended before the end-of-stream marker")
            return
        while chunk:
            if not started:
                if len(chunk) < 2:
                    chunk += raw.read(1)
                if not chunk.startswith(_GZIP_MAGIC):
                    rest = len(chunk)
                    while more := raw.read(_GZ_IN):
                        rest += len(more)
                    raise _TrailingGarbage(f"{rest} bytes of trailing garbage after the last gzip")
                started = True
            out = d.decompress(chunk, _CHUNK)  # bounded output per call (bombs)
            if out:
                yield out
            if d.eof:
                yield b""
                chunk = d.unused_data
                d = zlib.decompressobj(31)
                started = False
            else:
                chunk = d.unconsumed_tail


class _Gunzip:
    """A ``read(n)`` reader over ``_gzip_members`` that never yields more than ``trusted``
    bytes: the output of the members whose CRC was verified by a first pass (``Source``),
    so that the garbage a damaged member decodes to never becomes events."""

    def __init__(self, raw: IO[bytes], trusted: int | None, fault: Exception | None):
        self._members = _gzip_members(raw)
        self._trusted = trusted
        self._fault = fault
        self._buf = b""
        self._given = 0
        self._ended = False

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and not self._ended:
            try:
                self._buf += next(self._members)
            except StopIteration:
                self._ended = True
            except (EOFError, zlib.error, _TrailingGarbage) as exc:
                self._ended = True
                self._fault = self._fault or exc
        data, self._buf = self._buf[:n], self._buf[n:]
        if self._trusted is not None and self._given + len(data) >= self._trusted:
            data = data[: self._trusted - self._given]
            self._buf, self._ended = b"", True
        self._given += len(data)
        if not data and self._fault is not None:
            fault, self._fault = self._fault, None
            raise fault
        return data

    def close(self) -> None:
        self._members.close()


def _scan_gzip(path: Path, limit: int) -> tuple[int | None, Exception | None]:
    """First pass over a gzip file: how many decompressed bytes can be trusted (those of the
    members that end with a matching CRC, and of a last member that is merely cut short), and
    the fault after them. Stops counting past ``limit`` (the bomb limits act in the real pass).
    """
    verified = total = 0  # output of the complete members so far, and in all
    verified_lines = lines = 0
    try:
        with path.open("rb") as raw:
            for out in _gzip_members(raw):
                total += len(out)
                lines += out.count(b"\n")
                if not out:
                    verified, verified_lines = total, lines
                if total > limit:
                    return None, None
            return total, None
    except EOFError as exc:  # cut short, not damaged: what came out is what was written
        return total, exc
    except _TrailingGarbage as exc:
        return total, exc
    except zlib.error as exc:
        # The damaged member's output cannot be told from garbage (deflate finds the damage at
        # the member's CRC, long after it): only the members before it are trusted.
        seen = lines - verified_lines
        count = f", at least {seen} lines," if seen else ""
        return verified, zlib.error(
            f"corrupt gzip member after decompressed byte {verified} ({exc}): the rest{count} "
            "cannot be verified and is not read"
        )
    except OSError:
        return None, None  # unreadable now: the real pass reports it


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


class _Utf16:
    """UTF-16 text (recognised by its byte order mark) re-encoded as UTF-8 as it streams, so
    that every reader sees the text it would in UTF-8; invalid UTF-16 (a lone surrogate, an
    odd last byte) becomes U+FFFD."""

    def __init__(self, inner: Any):
        self._inner = inner
        self._decoder = codecs.getincrementaldecoder("utf-16")("replace")
        self._buf = b""
        self._eof = False

    def read(self, n: int) -> bytes:
        while len(self._buf) < n and not self._eof:
            data = self._inner.read(max(n, _CHUNK))
            if not data:
                self._eof = True
            text = self._decoder.decode(data, final=not data)
            self._buf += text.encode("utf-8", "surrogatepass").decode("utf-8", "replace").encode()
        out, self._buf = self._buf[:n], self._buf[n:]
        return out


def _position(raw: IO[bytes], fallback: int) -> int:
    """The raw file's offset, or ``fallback`` when it cannot tell (a pipe, a closed file)."""
    try:
        return raw.tell()
    except (OSError, ValueError):
        return fallback


class Source:
    """An evidence file: identity (path, SHA-256, size), compression and record access.

    Raises:
        EvidenceError: from the constructor, when the path is missing, not a regular file
            or cannot be read.
    """

    def __init__(
        self,
        path: Path,
        options: ReadOptions,
        *,
        max_total: int = MAX_TOTAL,
        max_ratio: int = MAX_RATIO,
        ratio_floor: int = RATIO_FLOOR,
    ):
        self.path = path
        # A file name that is not UTF-8 holds surrogateescape'd bytes: shown with U+FFFD (the
        # file is still opened by its real path).
        self.name = str(path).encode("utf-8", "surrogatepass").decode("utf-8", "replace")
        self.options = options
        self._limits = (max_total, max_ratio, ratio_floor)
        if not path.exists():
            raise EvidenceError("no such file or directory", source=self.name)
        if not path.is_file():
            raise EvidenceError("not a regular file", source=self.name)
        digest = hashlib.sha256()
        size = 0
        try:
            with path.open("rb") as fh:
                magic = fh.read(6)
                digest.update(magic)
                size += len(magic)
                while chunk := fh.read(1024 * 1024):
                    digest.update(chunk)
                    size += len(chunk)
        except OSError as exc:
            raise EvidenceError(f"cannot read: {exc.strerror or exc}", source=self.name) from exc
        self.sha256 = digest.hexdigest()
        self.size = size
        self.compression: str | None = None
        for prefix, kind in _MAGIC:
            if magic.startswith(prefix):
                self.compression = kind
                break
        self._head: bytes | None = None
        self.head_fault: str | None = None
        self._gzip: tuple[int | None, Exception | None] | None = None
        #: "utf-16" for text with a UTF-16 byte order mark (read re-encoded as UTF-8), "" for
        #: anything else, None until the first read.
        self.encoding: str | None = None
        #: Bytes of the file on disk consumed so far by ``chunks()`` (compressed bytes for a
        #: compressed file): how far a reading has come, for progress and its ETA.
        self.bytes_read = 0

    # -- raw access -----------------------------------------------------------------------

    def _open(self, verified: bool = True) -> tuple[IO[bytes], Any]:
        """The raw file and its reader: decompressed, and UTF-16 text re-encoded as UTF-8."""
        if self.encoding is None:
            raw, reader = self._open_bytes(verified=False)
            try:
                first = reader.read(2)
            except _StreamFault:
                first = b""
            finally:
                if reader is not raw:
                    _close(reader)
                raw.close()
            self.encoding = "utf-16" if first in _UTF16_BOMS else ""
        raw, reader = self._open_bytes(verified)
        return (raw, _Utf16(reader)) if self.encoding else (raw, reader)

    def _open_bytes(self, verified: bool = True) -> tuple[IO[bytes], _Limited | IO[bytes]]:
        # Callers close both ends in a `finally`; a context manager cannot span a generator.
        try:
            raw: IO[bytes] = self.path.open("rb")
        except OSError as exc:
            raise EvidenceError(f"cannot read: {exc.strerror or exc}", source=self.name) from exc
        if self.compression is None:
            return raw, raw
        inner: _Readable
        if self.compression == "gzip":
            if self._gzip is None:
                self._gzip = _scan_gzip(self.path, self._limits[0])
            # Sniffing (``verified`` false) may look at a damaged member's first bytes: it only
            # names the format; records come from verified bytes only.
            inner = _Gunzip(raw, *self._gzip) if verified else _Gunzip(raw, None, None)
        elif self.compression == "bz2":
            inner = bz2.BZ2File(raw, mode="rb")
        else:
            inner = lzma.LZMAFile(raw, mode="rb")  # noqa: SIM115
        return raw, _Limited(inner, raw, self._limits)

    def head(self) -> bytes:
        """The first ``HEAD_SIZE`` bytes after decompression (for sniffing)."""
        if self._head is None:
            raw, reader = self._open(verified=False)
            parts: list[bytes] = []
            got = 0
            try:
                while got < HEAD_SIZE:
                    chunk = reader.read(HEAD_SIZE - got)
                    if not chunk:
                        break
                    parts.append(chunk)
                    got += len(chunk)
            except _StreamFault as fault:
                self.head_fault = fault.reason
            finally:
                if reader is not raw:
                    _close(reader)
                raw.close()
            self._head = b"".join(parts)
        return self._head

    def chunks(self) -> Iterator[bytes | _StreamFault]:
        """Decompressed chunks; a stream fault is yielded (last) instead of raised."""
        raw, reader = self._open()
        try:
            while True:
                try:
                    chunk = reader.read(_CHUNK)
                except _StreamFault as fault:
                    yield fault
                    return
                except OSError as exc:  # the disk or the file went away under us
                    raise EvidenceError(
                        f"cannot read: {exc.strerror or exc}", source=self.name
                    ) from exc
                if not chunk:
                    self.bytes_read = self.size
                    return
                self.bytes_read = _position(raw, self.bytes_read)
                yield chunk
        finally:
            if reader is not raw:
                _close(reader)
            raw.close()

    # -- records --------------------------------------------------------------------------

    def lines(self, max_line: int = MAX_LINE, keep_blank: bool = False) -> Iterator[Line | Problem]:
        """Physical lines, streaming, without line endings (``\\n`` or ``\\r\\n``).

        Blank (whitespace-only) lines are not records and are skipped unless ``keep_blank``.
        A line longer than ``max_line`` bytes yields ``Problem("line-too-long")`` and is
        discarded as it streams, without being assembled. A stream fault yields one
        ``Problem`` for the remainder and ends the iteration.
        """
        # Whole chunks are split at once (bytes.split is C); only the partial last line of a
        # chunk is carried over, and it is dropped as soon as it exceeds the limit.
        number = 0
        carry = b""
        overlong = False
        too_long = f"line longer than {max_line} bytes"
        for chunk in self.chunks():
            if isinstance(chunk, _StreamFault):
                # A partial line at the fault belongs to the unreadable remainder.
                yield Problem(number + 1, chunk.reason, chunk.detail)
                return
            if overlong:
                nl = chunk.find(b"\n")
                if nl < 0:
                    continue
                number += 1
                overlong = False
                yield Problem(number, "line-too-long", too_long)
                chunk = chunk[nl + 1 :]
            pieces = (carry + chunk if carry else chunk).split(b"\n")
            carry = pieces.pop()
            for data in pieces:
                number += 1
                if len(data) > max_line + 1:
                    yield Problem(number, "line-too-long", too_long)
                    continue
                if data[-1:] == b"\r":
                    data = data[:-1]
                if keep_blank or (data and not data.isspace()):
                    yield Line(number, data)
            if len(carry) > max_line:
                overlong = True
                carry = b""
        if overlong:
            yield Problem(number + 1, "line-too-long", too_long)
        elif carry:
            if carry[-1:] == b"\r":
                carry = carry[:-1]
            if keep_blank or (carry and not carry.isspace()):
                yield Line(number + 1, carry)


def _close(reader: object) -> None:
    inner = getattr(reader, "_inner", reader)
    close = getattr(inner, "close", None)
    if close is not None:
        try:
            close()
        except (OSError, EOFError, zlib.error, lzma.LZMAError):
            # Closing a reader over a corrupt stream may re-raise its fault; it was reported.
            return
