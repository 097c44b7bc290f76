"""Region names checked against the partitions botocore ships, offline: typos, availability zones, did-you-mean.

botocore installs a table of AWS partitions (``botocore/data/partitions.json``; older releases keep the same
``partitions`` list in ``endpoints.json``): for each partition (``aws``, ``aws-cn``, ``aws-us-gov``...) the
regions it knows and a ``regionRegex`` that the names of future regions will match. The file is found with
``importlib.util.find_spec("botocore")``, which locates the package without importing it, and read as JSON; no
network, no botocore import. This module is imported by ``doctor`` and on the error path of an unreachable
endpoint only: never on a cached credential lookup.

The rule (``advise``), for a name that is already a valid DNS label (``config.profiles.is_valid_region``):

1. a region some partition lists is fine;
2. ``<known region><letter>`` (``us-west-2a``) or ``<known region>-...`` (``us-west-2-lax-1a``, a Local Zone) is an
   availability zone: the advice names its region;
3. the same name in lower case is a known region (``EU-WEST-1``): the advice is the lower-case name;
4. a name matching a partition's ``regionRegex`` whose middle word is one known regions use (``east``,
   ``southeast``, ``central``...) and whose prefix is a known one (``ap-southeast-9``, ``eu-central-3``) looks like
   a region opened after this botocore was released: botocore builds its endpoint like any other, so it is
   *plausible*, not wrong (doctor notes it, never fails on it);
5. anything else (``eu-wset-1``: the regex matches but ``wset`` is no direction; ``europe-west1``, ``useast1``:
   no partition's regex matches) is *unknown*: the advice carries the closest known region when there is one
   (``difflib``), which is the did-you-mean.

Without botocore (or with an unreadable table) nothing is known and ``advise`` returns None: only the syntax
check of ``is_valid_region`` applies.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from collections.abc import Iterable

__all__ = ["CASE", "PLAUSIBLE", "UNKNOWN", "ZONE", "Partition", "RegionAdvice", "advise", "closest", "data_file",
           "known_regions", "load_partitions"]

#: ``RegionAdvice.kind`` values.
ZONE = "availability-zone"
CASE = "case"
PLAUSIBLE = "plausible"
UNKNOWN = "unknown"


class Partition:
    """One AWS partition as botocore's table has it: ``id``, ``regex`` (its ``regionRegex``) and ``regions``."""

    __slots__ = ("id", "regex", "regions")

    def __init__(self, id: str, regex: re.Pattern[str] | None, regions: frozenset[str]) -> None:
        self.id = id
        self.regex = regex
        self.regions = regions

    def __repr__(self) -> str:
        return f"Partition({self.id!r}, {len(self.regions)} regions)"

    def matches(self, region: str) -> bool:
        """True when ``region`` matches this partition's ``regionRegex`` (a region it could open)."""
        return self.regex is not None and self.regex.search(region) is not None


class RegionAdvice:
    """What is off with a region name: ``kind`` (``ZONE``, ``CASE``, ``PLAUSIBLE``, ``UNKNOWN``), the name, and
    ``suggestion``: the region meant (the zone's region, the lower-case name, the closest known one), or None."""

    __slots__ = ("kind", "region", "suggestion")

    def __init__(self, kind: str, region: str, suggestion: str | None) -> None:
        self.kind = kind
        self.region = region
        self.suggestion = suggestion

    def __repr__(self) -> str:
        return f"RegionAdvice({self.kind!r}, {self.region!r}, suggestion={self.suggestion!r})"

    @property
    def is_problem(self) -> bool:
        """True unless the name is merely a region this botocore does not list yet (``PLAUSIBLE``)."""
        return self.kind != PLAUSIBLE

    @property
    def message(self) -> str:
        """One clause saying what is off, e.g. ``"us-west-2a" is an availability zone; the region is us-west-2``."""
        if self.kind == ZONE:
            return f'"{self.region}" is an availability zone; the region is {self.suggestion}'
        if self.kind == CASE:
            return f'region names are lower case: "{self.region}" is {self.suggestion}'
        if self.kind == PLAUSIBLE:
            return (f'"{self.region}" is not a region this botocore knows (it may have opened since botocore was '
                    "released)")
        if self.suggestion is not None:
            return f'"{self.region}" is not an AWS region (did you mean {self.suggestion}?)'
        return f'"{self.region}" is not an AWS region (they look like us-east-1, eu-west-2, ap-southeast-1)'


_LOADED: dict[str, tuple[Partition, ...]] = {}
_KNOWN: dict[tuple[Partition, ...], frozenset[str]] = {}


def data_file() -> str | None:
    """The partition table of the installed botocore (``data/partitions.json``, else ``data/endpoints.json``),
    found without importing botocore; None when botocore is not installed or has neither file."""
    from importlib.util import find_spec

    try:
        spec = find_spec("botocore")
    except (ImportError, ValueError):
        return None
    folders = list(spec.submodule_search_locations or []) if spec is not None else []
    for name in ("partitions.json", "endpoints.json"):
        for folder in folders:
            path = os.path.join(folder, "data", name)
            if os.path.isfile(path):
                return path
    return None


def load_partitions(path: str | None = None) -> tuple[Partition, ...]:
    """The partitions of ``path`` (default: ``data_file()``), read once per path; empty when there is no table or
    it cannot be read (then nothing is known, and nothing is reported)."""
    key = path if path is not None else ""  # "": the installed botocore's, looked for once
    found = _LOADED.get(key)
    if found is None:
        chosen = path if path is not None else data_file()
        found = _LOADED[key] = _read(chosen) if chosen is not None else ()
    return found


def _read(path: str) -> tuple[Partition, ...]:
    import json
    import re

    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
        partitions = []
        for item in document["partitions"]:
            pattern = item.get("regionRegex")
            regex = re.compile(pattern) if isinstance(pattern, str) else None
            regions = frozenset(str(name) for name in item.get("regions") or {})
            partitions.append(Partition(str(item.get("id") or item.get("partition")), regex, regions))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, re.error):
        return ()  # a table this code does not understand: know nothing rather than guess
    return tuple(partitions)


def known_regions(partitions: Iterable[Partition] | None = None) -> frozenset[str]:
    """Every region some partition lists (``aws-global`` and the like included)."""
    chosen = tuple(load_partitions() if partitions is None else partitions)
    found = _KNOWN.get(chosen)
    if found is None:
        found = _KNOWN[chosen] = frozenset(name for partition in chosen for name in partition.regions)
    return found


def _shape(region: str) -> tuple[str, str] | None:
    """(prefix, middle word) of ``PREFIX-WORD-DIGITS`` (``ap``, ``southeast`` of ``ap-southeast-1``), else None."""
    parts = region.split("-")
    if len(parts) < 3 or not parts[-1].isdigit():
        return None
    return "-".join(parts[:-2]), parts[-2]


def advise(region: str, partitions: Iterable[Partition] | None = None) -> RegionAdvice | None:
    """None for a region some partition lists (or when no table is installed); else what is off with it (see the
    module's rule). ``region`` should already be a valid DNS label (``is_valid_region``)."""
    chosen = tuple(load_partitions() if partitions is None else partitions)
    known = known_regions(chosen)
    if not known or region in known:
        return None
    lowered = region.lower()
    if lowered in known:
        return RegionAdvice(CASE, region, lowered)
    for name in sorted(known, key=len, reverse=True):  # the longest first: us-gov-west-1a is not us-gov-...
        if _shape(name) is None:
            continue
        rest = lowered[len(name):]
        if lowered.startswith(name) and ((len(rest) == 1 and rest.isalpha()) or rest.startswith("-")):
            return RegionAdvice(ZONE, region, name)
    shape = _shape(region)
    if shape is not None and any(partition.matches(region) for partition in chosen):
        shapes = [found for found in (_shape(name) for name in known) if found is not None]
        if shape[0] in {prefix for prefix, _ in shapes} and shape[1] in {word for _, word in shapes}:
            return RegionAdvice(PLAUSIBLE, region, None)
    return RegionAdvice(UNKNOWN, region, closest(lowered, known))


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The region ``name`` most likely meant: among the regions at most two typing mistakes away (a letter added,
    dropped, changed, or two swapped: ``us-esat-1``), the one ``difflib`` finds most similar; None when none is
    that close."""
    import difflib

    scored = [(distance, candidate) for candidate in sorted(candidates) if _shape(candidate) is not None
              for distance in (_typos(name, candidate),) if distance <= 2]
    if not scored:
        return None
    best = min(distance for distance, _ in scored)
    ties = [candidate for distance, candidate in scored if distance == best]
    return max(ties, key=lambda candidate: difflib.SequenceMatcher(None, name, candidate).ratio())


def _typos(a: str, b: str) -> int:
    """The optimal-string-alignment distance: insertions, deletions, substitutions and adjacent swaps."""
    if abs(len(a) - len(b)) > 2:
        return 3  # more than the two mistakes anyone is helped by
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous2[j - 2] + 1)
        previous2, previous = previous, current
    return previous[len(b)]
