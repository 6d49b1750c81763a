"""Clues to a US consumer's time zone (pure, reference data only).

12 CFR 1006.6(b)(1)(i) and its commentary: with conflicting or ambiguous location information a time is
convenient only if it is convenient in every location the collector's information points to. The clues:
the mailing-address state (``data/us_state_timezones.json``) and the telephone area code (every zone the
North American numbering plan's prefixes under that area code use, from Google's libphonenumber data via
the ``phonenumbers`` package — an area code that spans two zones yields both).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from importlib import resources

from phonenumbers.tzdata import TIMEZONE_DATA


@lru_cache(maxsize=1)
def _state_zones() -> Mapping[str, tuple[str, ...]]:
    text = resources.files("xiaodai.collections").joinpath("data/us_state_timezones.json").read_text("utf-8")
    return {k: tuple(v) for k, v in json.loads(text)["states"].items()}


def zones_for_state(state: str) -> tuple[str, ...]:
    """Every zone in use in a US state or territory (USPS code); () when unknown."""
    return _state_zones().get(state.upper(), ())


@lru_cache(maxsize=1024)
def zones_for_area_code(area_code: str) -> tuple[str, ...]:
    """Every zone used under a NANP area code (``"212"``); () when the code is unknown."""
    prefix = "1" + area_code
    zones: set[str] = set()
    for key, names in TIMEZONE_DATA.items():
        if key.startswith(prefix) or (prefix.startswith(key) and len(key) > 1):
            zones.update(names)
    return tuple(sorted(z for z in zones if z != "Etc/Unknown"))
