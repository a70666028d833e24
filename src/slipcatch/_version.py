"""The package version, in a module of its own so that any stage can name it without importing
the package root (whose ``analyze`` and ``Case`` reach every stage)."""

from importlib import metadata as _metadata

try:
    __version__: str = _metadata.version("slipcatch")
except _metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
    __version__ = "0.0.0+unknown"
