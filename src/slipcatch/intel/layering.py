"""Actor layering: the registries of a pack and its ``--intel`` extras merged into one list.

Two rules, each over every field of :class:`~slipcatch.model.Actor` (a new field needs no
edit here):

* :func:`merge_actors`: an actor id seen again keeps its earlier scalar values (name,
  sponsor country, unless that is unset) and adds the new layer's items to every tuple field
  (aliases, timezones, operating countries undated and dated, sources, caveats, AS numbers),
  in order, without repeats;
* :func:`merge_alias_sets`: galaxy / ATT&CK names join the actor they name, or become a new
  actor without ranges.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from slipcatch.intel.records import AliasSet
from slipcatch.model import Actor

__all__ = ["merge_actors", "merge_alias_sets", "norm"]


def norm(name: str) -> str:
    """Names compared without case, spaces or punctuation ("APT 38" == "apt38")."""
    return "".join(ch for ch in name.casefold() if ch.isalnum())

def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.casefold()).strip("-")
    while "--" in out:
        out = out.replace("--", "-")
    return out or "actor"


def _union_names(old: tuple[str, ...], new: Sequence[str], skip: set[str]) -> tuple[str, ...]:
    seen = set(skip) | {norm(x) for x in old}
    out = list(old)
    for x in new:
        k = norm(x)
        if k and k not in seen:
            seen.add(k)
            out.append(x)
    return tuple(out)


def match_alias_set(actors: list[Actor], s: AliasSet) -> int | None:
    """The registry actor an alias set names: by reference (uuid, STIX id, ATT&CK id) found
    in the actor's id, aliases or citations; else by a shared name or alias with compatible
    countries. First match in registry order."""
    refs = {r.casefold() for r in (s.ref, *s.external_ids) if len(r) >= 5}
    for i, a in enumerate(actors):
        text = " ".join((a.id, *a.aliases, *a.sources)).casefold()
        if any(r in text for r in refs):
            return i
    names = {norm(n) for n in (s.name, *s.aliases)} - {""}
    for i, a in enumerate(actors):
        if names & {norm(n) for n in (a.name, *a.aliases)} and (
            s.country is None or a.country is None or s.country == a.country
        ):
            return i
    return None


def merge_alias_sets(actors: list[Actor], sets: Sequence[AliasSet]) -> list[Actor]:
    """Merge galaxy / ATT&CK names into the matching actors; an unmatched set becomes a new
    actor (id ``<source kind>-<name>``) with no ranges."""
    out = list(actors)
    for s in sets:
        cite = f"{s.source} ({s.ref})" if s.ref else s.source
        i = match_alias_set(out, s)
        if i is None:
            kind = "attack" if s.source.startswith("stix") else "galaxy"
            base = f"{kind}-{_slug(s.external_ids[0] if s.external_ids else s.name)}"
            aid, n = base, 2
            while any(a.id == aid for a in out):
                aid, n = f"{base}-{n}", n + 1
            out.append(Actor(
                id=aid, name=s.name,
                aliases=_union_names((), (*s.aliases, *s.external_ids), {norm(s.name)}),
                country=s.country, sources=(cite,),
            ))
            continue
        a = out[i]
        out[i] = dataclasses.replace(
            a,
            aliases=_union_names(a.aliases, (s.name, *s.aliases, *s.external_ids),
                                 {norm(a.name)}),
            country=a.country or s.country,
            sources=tuple(dict.fromkeys((*a.sources, cite))),
        )
    return out


def _layer(old: Actor, new: Actor) -> Actor:
    """``old`` with ``new`` layered on top, field by field: tuples are unioned in order,
    other values keep ``old``'s unless it is None."""
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(Actor):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if isinstance(a, tuple):
            changes[f.name] = tuple(dict.fromkeys((*a, *b)))
        elif a is None:
            changes[f.name] = b
    return dataclasses.replace(old, **changes)


def merge_actors(base: list[Actor], extra: list[Actor]) -> list[Actor]:
    """Layer actors: an id seen again adds aliases, timezones, operating countries (undated and
    dated), sources, caveats and AS numbers (every tuple field, see :func:`_layer`)."""
    out: dict[str, Actor] = {a.id: a for a in base}
    for a in extra:
        old = out.get(a.id)
        out[a.id] = a if old is None else _layer(old, a)
    return list(out.values())
