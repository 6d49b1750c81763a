"""Days past due and buckets. DPD counts from the oldest unpaid instalment's due date."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from itertools import pairwise

_BUCKET_NAME = re.compile(r"[A-Za-z0-9+_-]{1,8}")


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    min_dpd: int  # inclusive


DEFAULT_BUCKETS: tuple[Bucket, ...] = (
    Bucket("M0", 0),
    Bucket("M1", 1),
    Bucket("M2", 31),
    Bucket("M3", 61),
    Bucket("M4+", 91),
)


def days_past_due(oldest_unpaid_due_on: date | None, as_of: date) -> int:
    if oldest_unpaid_due_on is None:
        return 0
    return max(0, (as_of - oldest_unpaid_due_on).days)


def bucket_for(dpd: int, buckets: Sequence[Bucket] = DEFAULT_BUCKETS) -> str:
    name = buckets[0].name
    for bucket in buckets:
        if dpd >= bucket.min_dpd:
            name = bucket.name
    return name


@lru_cache(maxsize=256)  # pure; a loan's spec is parsed at every status refresh
def parse_buckets(spec: str) -> tuple[Bucket, ...]:
    """'M0:0,M1:1,M2:31,M3:61,M4+:91' → buckets; must start at 0 and increase. Names are 1–8 letters,
    digits or ``+ _ -`` (they are stored in ``loans.bucket`` and written into end of day's SQL)."""
    out = []
    for part in spec.split(","):
        name, _, low = part.partition(":")
        if not _BUCKET_NAME.fullmatch(name.strip()):
            raise ValueError(f"bucket names are 1-8 of A-Z a-z 0-9 + _ -: {spec!r}")
        out.append(Bucket(name.strip(), int(low)))
    if not out or out[0].min_dpd != 0 or any(b.min_dpd <= a.min_dpd for a, b in pairwise(out)):
        raise ValueError(f"buckets must start at 0 DPD and increase: {spec!r}")
    return tuple(out)
