"""slipcatch.intel: what an address was at a moment (country, AS, Tor, VPN, hosting, actor).

Public surface (docs/architecture.md, docs/intel.md)::

    load_pack(extra=(), cache_dir=None) -> IntelPack
    IntelPack.pack_id, .sources, .actors, .rejections
    IntelPack.lookup(ips, times) -> list[AddressFacts]
    IntelPack.lookup_one(ip, at) -> AddressFacts
    IntelPack.lookup_arrays(hi, lo, times_us) -> LookupArrays
    IntelPack.describe() -> dict
    IntelPack.resolve_alias(name) -> Actor | None
    save_pack(pack, out_dir) -> Path;  open_pack(path) -> IntelPack
    diff_packs(a, b, ips=(), at=None) -> dict
    addresses_from_arrow(array) -> (hi, lo, valid)
"""

from slipcatch.intel.addr import addresses_from_arrow
from slipcatch.intel.diff import diff_packs
from slipcatch.intel.lookup import CATEGORY_ORDER, LookupArrays
from slipcatch.intel.pack import (
    IntelPack,
    base_pack_id,
    cache_root,
    load_pack,
    open_pack,
    save_pack,
)
from slipcatch.intel.records import REASONS
from slipcatch.intel.sources import recognise

__all__ = [
    "CATEGORY_ORDER",
    "REASONS",
    "IntelPack",
    "LookupArrays",
    "addresses_from_arrow",
    "base_pack_id",
    "cache_root",
    "diff_packs",
    "load_pack",
    "open_pack",
    "recognise",
    "save_pack",
]
