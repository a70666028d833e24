"""Analyst-supplied evidence that is not about addresses: code reuse, language, a tip.

An evidence file (YAML, ``slipcatch analyze --evidence-file FILE``) states, per item, an
Admiralty code (source reliability A-F, information credibility 1-6) and a likelihood ratio per
hypothesis kind or per named hypothesis; it may add the analyst's own hypotheses (kind
``analyst``, e.g. "an insider") and override the priors. The format and the discount applied to
weaker sources are in docs/model.md, "analyst evidence"::

    priors: {unknown: 0.5, false_flag_share: 0.2, insider: 0.05}
    hypotheses:
      - {id: insider, statement: "A disgruntled insider operated the persona."}
    evidence:
      - id: wiper-code-reuse
        summary: Destover shares code with the 2013 DarkSeoul wiper
        reliability: B2
        personas: [Guardians of Peace]          # optional, default: every persona
        likelihoods: {actor: 3, false_flag: 1.5, insider: 0.5}
      - id: rich-header-forged                  # refuting evidence (model 2.7)
        summary: The Rich header was planted to imitate Lazarus
        reliability: B2
        staging_proven: true                    # or: effect: refutes, refutes: actor:dprk-rgb
        refutes: actor:dprk-rgb                 # optional with staging_proven: every actor
        justification: Kaspersky matched the header against the real linker's output

    pools:                                      # dependent pools the analyst knows of
      - id: shanghai-office-nat
        summary: One office's NAT and DHCP pool behind four ISP blocks
        networks: [58.246.0.0/15, 112.64.0.0/15]
        valid_from: 2012-01-01                  # optional, as valid_to (exclusive)
        justification: the provider's subscriber records name one customer

A refuting item states no ratios: its treatment (``REFUTE_RATIO`` by grade, and for proven
staging the changed reading of the staged exposures) is in docs/model.md, "refuting evidence".
A declared pool states no ratios either: the episodes from its addresses count as one dependent
pool (docs/model.md, "actor-range episode").
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from slipcatch.errors import UsageError
from slipcatch.intel.sources.timeparse import parse_time

from .hypotheses import ANALYST_PRIOR, Priors

__all__ = [
    "CREDIBILITY_WEIGHT",
    "EFFECTS",
    "KINDS",
    "SOURCE_WEIGHT",
    "AnalystEvidence",
    "AnalystItem",
    "DeclaredPool",
    "load_evidence_file",
    "parse_evidence",
    "reliability_weight",
]


#: Hypothesis kinds a likelihood may be stated for (applies to every hypothesis of that kind).
KINDS: tuple[str, ...] = ("actor", "false_flag", "unknown", "analyst")

#: How much of a stated log-likelihood ratio is kept, by Admiralty source reliability
#: (A completely reliable ... E unreliable, F cannot be judged) and information credibility
#: (1 confirmed ... 5 improbable, 6 cannot be judged). The stated ratio is what an A1 item
#: would be worth; the effective ratio is ``stated ** (source x credibility)``.
SOURCE_WEIGHT: Mapping[str, float] = {
    "A": 1.0,
    "B": 0.85,
    "C": 0.6,
    "D": 0.35,
    "E": 0.15,
    "F": 0.25,
}
CREDIBILITY_WEIGHT: Mapping[str, float] = {
    "1": 1.0,
    "2": 0.85,
    "3": 0.6,
    "4": 0.35,
    "5": 0.15,
    "6": 0.25,
}
_CODE = re.compile(r"^[A-F][1-6]$")
_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_TOP_KEYS = frozenset({"priors", "hypotheses", "evidence", "pools", "version"})
_POOL_KEYS = frozenset(
    {"id", "summary", "networks", "personas", "valid_from", "valid_to", "justification"}
)
_ITEM_KEYS = frozenset(
    {
        "id",
        "summary",
        "reliability",
        "likelihoods",
        "personas",
        "effect",
        "refutes",
        "staging_proven",
        "justification",
    }
)
#: ``effect`` values: "weighs" (stated likelihoods, the default), "refutes" (refutes the
#: hypotheses named by ``refutes``) and "staging" (``staging_proven: true``: a planted artefact
#: is proven, which refutes the careless actor and changes how its exposures are read).
EFFECTS: tuple[str, ...] = ("weighs", "refutes", "staging")


@dataclass(frozen=True)
class AnalystItem:
    """One item of analyst evidence, as stated in the file."""

    key: str
    summary: str
    reliability: str
    likelihoods: tuple[tuple[str, float], ...]  # (kind | "actor:<id>" | analyst key, ratio)
    personas: tuple[str, ...] = ()  # empty: every persona
    effect: str = "weighs"  # one of EFFECTS
    # Hypotheses refuted: kind, "kind:<actor id>" or an analyst key; for "staging" the actor
    # hypotheses ("actor" alone: every actor).
    refutes: tuple[str, ...] = ()
    justification: str = ""

    @property
    def refuting(self) -> bool:
        return self.effect in ("refutes", "staging")

    def applies_to(self, persona: str) -> bool:
        return not self.personas or persona in self.personas

    @property
    def actors(self) -> tuple[str, ...]:
        """Actor ids this item names (``actor:<id>`` / ``false_flag:<id>``)."""
        named = [k for k, _ in self.likelihoods] + list(self.refutes)
        return tuple(sorted({k.split(":", 1)[1] for k in named if ":" in k}))


@dataclass(frozen=True)
class DeclaredPool:
    """Addresses the analyst knows to be one source (one NAT, one DHCP pool, one host's /29):
    the episodes of an actor from them form one dependent pool (``episodes.pool_episodes``)."""

    key: str
    summary: str
    networks: tuple[str, ...]  # normalised CIDRs, in the file's order
    justification: str
    personas: tuple[str, ...] = ()  # empty: every persona
    valid_from: datetime | None = None  # None: unbounded
    valid_to: datetime | None = None  # exclusive; None: unbounded

    def applies_to(self, persona: str) -> bool:
        return not self.personas or persona in self.personas

    @cached_property
    def _index(self) -> dict[tuple[int, int], frozenset[int]]:
        # (IP version, prefix length) -> the networks' first addresses as integers: a lookup
        # costs one set probe per prefix length the pool uses, however many networks it has.
        index: dict[tuple[int, int], set[int]] = {}
        for text in self.networks:
            net = ipaddress.ip_network(text)
            index.setdefault((net.version, net.prefixlen), set()).add(int(net.network_address))
        return {key: frozenset(values) for key, values in index.items()}

    def covers(self, ip: str, when: datetime) -> bool:
        """True when ``ip`` lies in one of the networks and ``when`` in the validity."""
        if (self.valid_from is not None and when < self.valid_from) or (
            self.valid_to is not None and when >= self.valid_to
        ):
            return False
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        value, width = int(addr), addr.max_prefixlen
        for (version, length), starts in self._index.items():
            shift = width - length
            if version == addr.version and (value >> shift << shift) in starts:
                return True
        return False


@dataclass(frozen=True)
class AnalystEvidence:
    """A parsed, validated evidence file."""

    source: str
    items: tuple[AnalystItem, ...] = ()
    hypotheses: tuple[tuple[str, str], ...] = ()  # (key, statement)
    priors: Priors | None = None  # None: the file states no priors
    pools: tuple[DeclaredPool, ...] = ()  # the dependent pools the analyst declares


def reliability_weight(code: str) -> float:
    """The share of a stated log-ratio kept for an Admiralty code (``SOURCE_WEIGHT`` x
    ``CREDIBILITY_WEIGHT``).

    Raises:
        ValueError: not a code A1..F6.
    """
    if not _CODE.match(code):
        raise ValueError(f"not an Admiralty code (A-F then 1-6): {code!r}")
    return SOURCE_WEIGHT[code[0]] * CREDIBILITY_WEIGHT[code[1]]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    out = float(value)
    return out if math.isfinite(out) else None


def _check_hypothesis(
    hyp: str, source: str, where: str, known_actors: set[str], analyst_keys: set[str]
) -> None:
    kind, _, actor = hyp.partition(":")
    if actor:
        if kind not in ("actor", "false_flag") or actor not in known_actors:
            raise UsageError(f"unknown hypothesis {hyp!r}", source, where)
    elif hyp not in KINDS and hyp not in analyst_keys:
        raise UsageError(f"unknown hypothesis {hyp!r}", source, where)


def _effect(
    entry: Mapping[str, Any],
    source: str,
    where: str,
    known_actors: set[str],
    analyst_keys: set[str],
) -> tuple[str, tuple[str, ...], str]:
    """(effect, refuted hypotheses, justification) of one item; a refuting item must say why.

    Raises:
        UsageError: an unknown effect, ``staging_proven`` not a boolean, ``refutes`` missing or
            naming an unknown hypothesis, or a refuting item without a justification.
    """
    effect = entry.get("effect", "weighs")
    staging = entry.get("staging_proven", False)
    if not isinstance(staging, bool):
        raise UsageError(f"'staging_proven' must be true or false, not {staging!r}", source, where)
    if effect not in EFFECTS:
        raise UsageError(f"unknown effect {effect!r} (one of: {', '.join(EFFECTS)})", source, where)
    if staging:
        effect = "staging"
    raw = entry.get("refutes")
    names = [raw] if isinstance(raw, str) else raw
    if raw is not None and (
        not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names)
    ):
        raise UsageError("'refutes' names a hypothesis or a list of them", source, where)
    refutes = tuple(sorted(set(names or [])))
    if effect == "weighs":
        if refutes or entry.get("justification") is not None:
            raise UsageError(
                "'refutes' and 'justification' go with 'effect: refutes' or 'staging_proven: true'",
                source,
                where,
            )
        return effect, (), ""
    if effect == "refutes" and not refutes:
        raise UsageError("'effect: refutes' needs 'refutes: <hypothesis>'", source, where)
    if effect == "staging":
        refutes = refutes or ("actor",)
        if any(n.partition(":")[0] != "actor" for n in refutes):
            raise UsageError(
                "proven staging refutes actor hypotheses ('actor' or 'actor:<id>')", source, where
            )
    for name in refutes:
        _check_hypothesis(name, source, where, known_actors, analyst_keys)
    justification = _text(
        entry,
        "justification",
        "a refuting item needs a 'justification' (what was proven, by whom, how)",
        source,
        where,
    )
    return effect, refutes, justification


def _text(entry: Mapping[str, Any], name: str, missing: str, source: str, where: str) -> str:
    """The entry's non-empty text ``name``, its whitespace runs made single spaces.

    Raises:
        UsageError: ``missing``, when it is absent, empty or not a text.
    """
    value = entry.get(name)
    if not isinstance(value, str) or not value.strip():
        raise UsageError(missing, source, where)
    return " ".join(value.split())


def _head(
    entry: Any,
    source: str,
    where: str,
    names: tuple[str, str],
    allowed: frozenset[str],
    taken: set[str],
) -> tuple[str, str, str]:
    """(id, where, summary) of one entry of a list (an evidence item, a pool), checked alike:
    a mapping of ``allowed`` keys with a new, well-formed id and a summary; ``where`` gains
    the id. ``names``: the entry in a sentence and before "id" ("a pool", "pool").

    Raises:
        UsageError: naming the entry.
    """
    if not isinstance(entry, dict):
        raise UsageError(f"{names[0]} is a mapping", source, where)
    key = entry.get("id")
    if isinstance(key, str):
        where += f" '{key}'"
    extra = sorted(str(x) for x in entry if x not in allowed)
    if extra:
        raise UsageError(f"unknown key(s): {', '.join(extra)}", source, where)
    if not isinstance(key, str) or not _KEY.match(key):
        raise UsageError(f"bad or missing id {key!r}", source, where)
    if key in taken:
        raise UsageError(f"duplicate {names[1]} id {key!r}", source, where)
    return key, where, _text(entry, "summary", "missing summary", source, where)


def _personas(
    entry: Mapping[str, Any], source: str, where: str, persona_names: Sequence[str] | None
) -> tuple[str, ...]:
    """The ``personas`` an item or pool is limited to (empty: every persona).

    Raises:
        UsageError: not a list of names, or (``persona_names`` given) a name not among them.
    """
    personas = entry.get("personas") or []
    if isinstance(personas, str):
        personas = [personas]
    if not isinstance(personas, list) or not all(isinstance(p, str) for p in personas):
        raise UsageError("'personas' must be a list of persona names", source, where)
    if persona_names is not None:
        missing = sorted(set(personas) - set(persona_names))
        if missing:
            raise UsageError(f"unknown persona(s): {', '.join(missing)}", source, where)
    return tuple(sorted(set(personas)))


def _pools(raw: Any, source: str, persona_names: Sequence[str] | None) -> list[DeclaredPool]:
    """The ``pools`` of an evidence file.

    Raises:
        UsageError: naming the pool: an unknown key, a bad or duplicate id, a missing summary
            or justification, a network that is not an address or CIDR, a bad date, or
            ``valid_from`` not before ``valid_to``.
    """
    if not isinstance(raw, list):
        raise UsageError("'pools' must be a list", source)
    pools: list[DeclaredPool] = []
    for k, entry in enumerate(raw):
        key, where, summary = _head(
            entry, source, f"pools[{k}]", ("a pool", "pool"), _POOL_KEYS, {p.key for p in pools}
        )
        raw_n = entry.get("networks")
        texts = [raw_n] if isinstance(raw_n, str) else raw_n
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
            raise UsageError(
                "'networks' lists addresses or CIDRs (e.g. 203.0.113.0/24)", source, where
            )
        networks: list[str] = []
        for text in texts:
            try:
                net = ipaddress.ip_network(text.strip(), strict=False)
            except ValueError:
                raise UsageError(f"not an address or CIDR: {text!r}", source, where) from None
            if str(net) not in networks:
                networks.append(str(net))
        bounds = []
        for name in ("valid_from", "valid_to"):
            try:
                bounds.append(parse_time(entry.get(name)))
            except (ValueError, OverflowError):
                raise UsageError(f"'{name}' is not a date or time", source, where) from None
        if bounds[0] is not None and bounds[1] is not None and bounds[0] >= bounds[1]:
            raise UsageError("'valid_from' is not before 'valid_to'", source, where)
        justification = _text(
            entry,
            "justification",
            "a pool needs a 'justification' (why these addresses are one source)",
            source,
            where,
        )
        pools.append(
            DeclaredPool(
                key=key,
                summary=summary,
                networks=tuple(networks),
                justification=justification,
                personas=_personas(entry, source, where, persona_names),
                valid_from=bounds[0],
                valid_to=bounds[1],
            )
        )
    return pools


# Long by design (C901, PLR0915): one check per field of the analyst file, in file order,
# each with its own message.
def parse_evidence(  # noqa: C901, PLR0915
    data: Any,
    source: str,
    actor_ids: Sequence[str] = (),
    persona_names: Sequence[str] | None = None,
) -> AnalystEvidence:
    """Validate the loaded YAML document of an evidence file.

    ``actor_ids`` are the known actors (a named ``actor:<id>`` must be one of them);
    ``persona_names``, when given, are the personas in the evidence (a listed persona must be
    one of them, so a typo cannot silently drop an item).

    Raises:
        UsageError: naming ``source`` and the entry: an unknown key, an Admiralty code outside
            A1-F6, a ratio that is not a positive finite number, an unknown hypothesis or persona,
            a duplicate id, or priors outside (0, 1).
    """
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise UsageError(
            "an evidence file is a mapping with 'evidence' (and optionally 'hypotheses', "
            "'priors', 'pools')",
            source,
        )
    extra = sorted(str(k) for k in data if k not in _TOP_KEYS)
    if extra:
        raise UsageError(f"unknown key(s): {', '.join(extra)}", source)

    hypotheses: list[tuple[str, str]] = []
    raw_h = data.get("hypotheses") or []
    if not isinstance(raw_h, list):
        raise UsageError("'hypotheses' must be a list", source)
    for k, entry in enumerate(raw_h):
        where = f"hypotheses[{k}]"
        if not isinstance(entry, dict) or set(entry) - {"id", "statement"}:
            raise UsageError("a hypothesis is a mapping with 'id' and 'statement'", source, where)
        key, text = entry.get("id"), entry.get("statement")
        if not isinstance(key, str) or not _KEY.match(key) or key in KINDS:
            raise UsageError(
                f"bad hypothesis id {key!r} (letters, digits, '_.-'; not a kind)", source, where
            )
        if any(key == h for h, _ in hypotheses):
            raise UsageError(f"duplicate hypothesis id {key!r}", source, where)
        if not isinstance(text, str) or not text.strip():
            raise UsageError(f"hypothesis {key!r} needs a statement", source, where)
        hypotheses.append((key, " ".join(text.split())))
    analyst_keys = {h for h, _ in hypotheses}

    priors: Priors | None = None
    raw_p = data.get("priors")
    if raw_p is not None:
        if not isinstance(raw_p, dict):
            raise UsageError("'priors' must be a mapping", source, "priors")
        base: dict[str, float] = {}
        stated: list[tuple[str, float]] = []
        for name, value in sorted(raw_p.items(), key=lambda kv: str(kv[0])):
            number = _number(value)
            if number is None:
                raise UsageError(
                    f"prior {name!r} must be a number, not {value!r}", source, "priors"
                )
            if name in ("unknown", "false_flag_share"):
                base[str(name)] = number
            elif name in analyst_keys:
                stated.append((str(name), number))
            else:
                raise UsageError(f"prior for unknown hypothesis {name!r}", source, "priors")
        try:
            priors = Priors(
                unknown=base.get("unknown", Priors.unknown),
                false_flag_share=base.get("false_flag_share", Priors.false_flag_share),
                analyst=tuple(stated),
            )
        except UsageError as exc:
            raise UsageError(exc.reason, source, "priors") from exc
    total = math.fsum(
        dict(priors.analyst).get(h, ANALYST_PRIOR) if priors else ANALYST_PRIOR
        for h in analyst_keys
    )
    if total >= 1.0:
        raise UsageError(
            "the priors of the analyst hypotheses must sum to less than 1", source, "priors"
        )

    items: list[AnalystItem] = []
    raw_e = data.get("evidence") or []
    if not isinstance(raw_e, list):
        raise UsageError("'evidence' must be a list", source)
    known_actors = set(actor_ids)
    for k, entry in enumerate(raw_e):
        key, where, summary = _head(
            entry,
            source,
            f"evidence[{k}]",
            ("an evidence item", "evidence"),
            _ITEM_KEYS,
            {item.key for item in items},
        )
        code = entry.get("reliability")
        code_text = str(code).strip().upper() if isinstance(code, str) else ""
        if not _CODE.match(code_text):
            raise UsageError(
                f"unknown reliability code {code!r} (Admiralty: source A-F, credibility 1-6, "
                "e.g. B2)",
                source,
                where,
            )
        effect, refutes, justification = _effect(entry, source, where, known_actors, analyst_keys)
        ratios: list[tuple[str, float]] = []
        raw_l = entry.get("likelihoods")
        if effect != "weighs":
            if raw_l is not None:
                raise UsageError(
                    "a refuting item states no likelihoods (its treatment is the model's)",
                    source,
                    where,
                )
        elif not isinstance(raw_l, dict) or not raw_l:
            raise UsageError("'likelihoods' must map hypotheses to ratios", source, where)
        for name, value in sorted((raw_l or {}).items(), key=lambda kv: str(kv[0])):
            hyp = str(name)
            ratio = _number(value)
            if ratio is None or ratio <= 0.0:
                raise UsageError(
                    f"likelihood ratio for {hyp!r} must be a positive number, not {value!r}",
                    source,
                    where,
                )
            _check_hypothesis(hyp, source, where, known_actors, analyst_keys)
            ratios.append((hyp, ratio))
        items.append(
            AnalystItem(
                key=key,
                summary=summary,
                reliability=code_text,
                likelihoods=tuple(ratios),
                personas=_personas(entry, source, where, persona_names),
                effect=effect,
                refutes=refutes,
                justification=justification,
            )
        )
    pools = _pools(data["pools"], source, persona_names) if data.get("pools") is not None else []
    return AnalystEvidence(
        source=source,
        items=tuple(items),
        hypotheses=tuple(hypotheses),
        priors=priors,
        pools=tuple(pools),
    )


def load_evidence_file(
    path: str | Path, actor_ids: Sequence[str] = (), persona_names: Sequence[str] | None = None
) -> AnalystEvidence:
    """Read and validate an evidence file (see ``parse_evidence``).

    Raises:
        UsageError: the file cannot be read, is not YAML, or an entry is invalid; the message
            names the file and the entry.
    """
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read evidence file: {exc}", source) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise UsageError("not valid YAML", source, where) from exc
    return parse_evidence(data, source, actor_ids, persona_names)
