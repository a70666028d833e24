"""Hosting, VPN, proxy and reserved ranges from the MISP warninglists in ``pymispwarninglists``.

Only CIDR lists whose membership says something about *who can originate traffic* from an
address are used; the mapping (and why) is :data:`LISTS` and docs/intel.md. Every list is
its own source, versioned with the list's ``version`` field.

The lists are current snapshots (their versions are dates such as 20251223): they say what a
range is now, not what it was when an old event happened. Their cover facts are unbounded in
time, marked ``projected``, and carry the list's date in their note.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path

from slipcatch.errors import IntelError
from slipcatch.intel.addr import parse_cidr, range_text
from slipcatch.intel.records import FactRow, Loaded
from slipcatch.model import Category, Fact, Rejection, SourceInfo

__all__ = [
    "GENERIC_LISTS", "LISTS", "ListSpec", "data_dir", "list_paths", "load", "load_one", "load_raw",
]

LICENCE = "BSD-3-Clause, as distributed in pymispwarninglists (no separate data licence shipped)"


@dataclass(frozen=True)
class ListSpec:
    category: Category
    label: str
    why: str


_CLOUD = "rentable cloud compute: anyone can originate traffic from it"
_CDN = "CDN/edge network; its workers/proxies can originate traffic for customers"
#: warninglist directory name -> how its ranges are read.
LISTS: dict[str, ListSpec] = {
    "vpn-ipv4": ListSpec(Category.VPN, "VPN provider", "commercial VPN exit ranges"),
    "vpn-ipv6": ListSpec(Category.VPN, "VPN provider", "commercial VPN exit ranges"),
    "zscaler": ListSpec(Category.PROXY, "Zscaler", "cloud web proxy: egress of proxied users"),
    "amazon-aws": ListSpec(Category.HOSTING, "Amazon AWS", _CLOUD),
    "google-gcp": ListSpec(Category.HOSTING, "Google Cloud", _CLOUD),
    "microsoft-azure": ListSpec(Category.HOSTING, "Microsoft Azure", _CLOUD),
    "microsoft-azure-china": ListSpec(Category.HOSTING, "Microsoft Azure China", _CLOUD),
    "microsoft-azure-germany": ListSpec(Category.HOSTING, "Microsoft Azure Germany", _CLOUD),
    "microsoft-azure-us-gov": ListSpec(Category.HOSTING, "Microsoft Azure US Gov", _CLOUD),
    "ovh-cluster": ListSpec(Category.HOSTING, "OVH", _CLOUD),
    "github": ListSpec(
        Category.HOSTING, "GitHub", "includes Actions/Codespaces runners: rentable compute"
    ),
    "akamai": ListSpec(Category.HOSTING, "Akamai", _CDN),
    "cloudflare": ListSpec(Category.HOSTING, "Cloudflare", _CDN),
    "fastly": ListSpec(Category.HOSTING, "Fastly", _CDN),
    "stackpath": ListSpec(Category.HOSTING, "StackPath", _CDN),
    "rfc1918": ListSpec(Category.RESERVED, "RFC 1918 private", "not routable on the Internet"),
    "rfc5735": ListSpec(Category.RESERVED, "RFC 5735 special use", "special-use IPv4 blocks"),
    "rfc6598": ListSpec(Category.RESERVED, "RFC 6598 shared (CGN)", "carrier-grade NAT space"),
    "rfc3849": ListSpec(Category.RESERVED, "RFC 3849 documentation", "IPv6 documentation"),
    "ipv6-linklocal": ListSpec(Category.RESERVED, "IPv6 link-local", "not routable"),
    "multicast": ListSpec(Category.RESERVED, "multicast", "not a unicast source"),
}


def data_dir() -> Path:
    """The ``lists`` directory inside the installed pymispwarninglists package.

    Raises:
        IntelError: the package or its data is missing.
    """
    # The package is found, not imported: importing it imports jsonschema, which compiles a
    # grammar (about 2 s) that reading the lists' JSON does not need.
    spec = importlib.util.find_spec("pymispwarninglists")
    if spec is None or spec.origin is None:  # pragma: no cover - a declared dependency
        raise IntelError("the pymispwarninglists package is not installed")
    path = Path(spec.origin).resolve().parent / "data" / "misp-warninglists" / "lists"
    if not path.is_dir():
        raise IntelError("warninglist data missing from pymispwarninglists", str(path))
    return path


def list_paths() -> list[Path]:
    """The ``list.json`` files used, in a fixed (sorted) order.

    Raises:
        IntelError: one of the expected lists is missing.
    """
    base = data_dir()
    out = []
    for name in sorted(LISTS):
        p = base / name / "list.json"
        if not p.is_file():
            raise IntelError("expected warninglist missing", str(p))
        out.append(p)
    return out


#: Catch-all lists: "VPN providers and datacenters". Their facts rank below provider-specific
#: cover facts (docs/intel.md, "Primary category"), so a Google or AWS range that is also on
#: the VPN list comes out as hosting with the provider's label.
GENERIC_LISTS = frozenset({"vpn-ipv4", "vpn-ipv6"})


def _version_date(version: str) -> str:
    v = version.strip()
    if len(v) == 8 and v.isdigit():
        return f"{v[:4]}-{v[4:6]}-{v[6:]}"
    return f"version {v}" if v else "an unknown date"


def load_one(path: Path, spec: ListSpec, name: str) -> Loaded:
    """Load one warninglist file with its category mapping.

    Raises:
        IntelError: the file cannot be read or is not a CIDR warninglist.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise IntelError(f"cannot read: {exc.strerror or exc}", str(path)) from exc
    return load_raw(raw, str(path), spec, name)


def load_raw(raw: bytes, file: str, spec: ListSpec, name: str) -> Loaded:
    """Load one warninglist from its bytes (``file`` names it in rejections and errors).

    Hosting, VPN and proxy facts are unbounded in time and marked ``projected``: a list is a
    snapshot of its version date, applied to events of any date (docs/intel.md, "Time
    model"). Reserved-space facts are definitions, not observations, and are not projected.

    Raises:
        IntelError: not a MISP CIDR warninglist.
    """
    sha = hashlib.sha256(raw).hexdigest()
    try:
        doc = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IntelError(f"not JSON: {exc}", file) from exc
    if not isinstance(doc, dict) or doc.get("type") != "cidr" or not isinstance(
        doc.get("list"), list
    ):
        raise IntelError("not a MISP CIDR warninglist", file)
    version = str(doc.get("version", ""))
    source = f"misp-warninglist:{name}"
    projected = spec.category is not Category.RESERVED
    note = f"MISP warninglist '{doc.get('name', name)}' version {version} ({spec.why})"
    if projected:
        note += f"; a snapshot of {_version_date(version)}, projected to other dates"
    generic = name in GENERIC_LISTS
    out = Loaded()
    for i, item in enumerate(doc["list"]):
        try:
            first, last = parse_cidr(str(item))
        except ValueError as exc:
            reason = "host-bits" if "host bits" in str(exc) else "bad-cidr"
            out.rejections.append(Rejection(file, sha, f"list[{i}]", reason, repr(item)))
            continue
        fact = Fact(
            range=range_text(first, last),
            category=spec.category,
            source=source,
            label=spec.label,
            note=note,
            projected=projected,
        )
        out.facts.append(FactRow(first, last, fact, generic=generic))
    out.sources.append(
        SourceInfo(
            name=source,
            kind="warninglist",
            version=version,
            records=len(doc["list"]),
            licence=LICENCE,
            sha256=sha,
        )
    )
    return out


def load() -> Loaded:
    """Load every mapped warninglist (see :data:`LISTS`).

    Raises:
        IntelError: a list is missing or malformed.
    """
    out = Loaded()
    for path in list_paths():
        name = path.parent.name
        out.extend(load_one(path, LISTS[name], name))
    return out


def sniff(head: bytes, name: str) -> float:
    """A MISP warninglist JSON file of type cidr (as an extra ``--intel`` source)."""
    text = head.lstrip()[:4096]
    if text.startswith(b"{") and b'"list"' in text and b'"cidr"' in text:
        return 0.9
    return 0.0
