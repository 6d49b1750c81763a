"""Where the key ring lives (shell): ``XIAODAI_KEYRING`` (JSON, read-only) or the file named by
``XIAODAI_KEYRING_FILE`` (default ``var/keyring.json``, owner-only, created on first use for the embedded
demo). In production the file is provisioned from the lender's secret manager; it never enters the database.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from xiaodai.privacy.crypto import KeyRing, KeyRingError, create_file, load_file, save_file

LOG = logging.getLogger(__name__)
DEFAULT_FILE = Path("var/keyring.json")
_cache: dict[str, KeyRing] = {}


def ring_file() -> Path:
    return Path(os.environ.get("XIAODAI_KEYRING_FILE", str(DEFAULT_FILE)))


def current_ring() -> KeyRing:
    inline = os.environ.get("XIAODAI_KEYRING")
    if inline:
        cached = _cache.get("inline:" + inline)
        if cached is None:
            try:
                cached = KeyRing.from_json(json.loads(inline))
            except json.JSONDecodeError as exc:
                raise KeyRingError(f"XIAODAI_KEYRING is not JSON: {exc}") from None
            _cache["inline:" + inline] = cached
        return cached
    path = ring_file()
    try:
        found = path.stat()
    except FileNotFoundError:
        # the first ring, created once: workers starting together all use the one that was written first
        if create_file(KeyRing.generate(), path):
            LOG.warning("no key ring at %s: generated one (embedded/demo use only)", path)
        found = path.stat()
    # the file as it is now (device, inode, size, change time): a rotation replaces it (``save_file``), so a
    # changed ring never matches an older entry, and no path resolution is needed on every call
    key = f"file:{found.st_dev}:{found.st_ino}:{found.st_size}:{found.st_mtime_ns}"
    cached = _cache.get(key)
    if cached is None:
        cached = _cache[key] = load_file(path)
    return cached


def store_ring(ring: KeyRing) -> None:
    if os.environ.get("XIAODAI_KEYRING"):
        raise KeyRingError("the key ring comes from XIAODAI_KEYRING: change it where it is provisioned")
    save_file(ring, ring_file())
    _cache.clear()
