"""Field-level encryption of personal data (PIPL Arts. 28-30, 51): AES-256-GCM, keys versioned in a key ring.

* Every value is encrypted with a fresh 96-bit nonce and authenticated together with where it lives
  (``table:row_id:field``), so a ciphertext copied into another row or column fails to decrypt.
* The token carries its key version (``v3.<base64url(nonce | ciphertext | tag)>``): old versions stay in the
  ring until ``xiaodai keys rotate`` has re-encrypted every row, so reads never break during a rotation.
* A blind index (HMAC-SHA256 under a separate index key, over a normalised value) allows exact lookups
  by phone or ID number without storing or decrypting them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

NONCE_BYTES = 12
KEY_BYTES = 32


class KeyRingError(ValueError):
    """The key ring is missing, malformed, or lacks the version a ciphertext needs."""


class DecryptionError(ValueError):
    """A ciphertext was altered, moved to another row/field, or encrypted under an unknown key."""


@dataclass(frozen=True, slots=True)
class KeyRing:
    keys: Mapping[int, bytes]
    current: int
    index_key: bytes

    def __post_init__(self) -> None:
        if self.current not in self.keys:
            raise KeyRingError(f"current key version {self.current} is not in the ring")
        for version, key in self.keys.items():
            if len(key) != KEY_BYTES:
                raise KeyRingError(f"key version {version} must be {KEY_BYTES} bytes")
        if len(self.index_key) < KEY_BYTES:
            raise KeyRingError("the blind-index key must be at least 32 bytes")

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "keys": {str(v): _b64(k) for v, k in sorted(self.keys.items())},
            "index_key": _b64(self.index_key),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> KeyRing:
        try:
            keys = {int(v): _unb64(k) for v, k in dict(data["keys"]).items()}
            return cls(keys=keys, current=int(data["current"]), index_key=_unb64(str(data["index_key"])))
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, KeyRingError):
                raise
            raise KeyRingError(f"malformed key ring: {exc}") from None

    @classmethod
    def generate(cls) -> KeyRing:
        return cls(keys={1: secrets.token_bytes(KEY_BYTES)}, current=1, index_key=secrets.token_bytes(32))

    def with_new_version(self) -> tuple[KeyRing, int]:
        """A ring with one more key, not yet current (current changes only through an approved rotation)."""
        version = max(self.keys) + 1
        keys = {**self.keys, version: secrets.token_bytes(KEY_BYTES)}
        return KeyRing(keys=keys, current=self.current, index_key=self.index_key), version

    def with_current(self, version: int) -> KeyRing:
        if version not in self.keys:
            raise KeyRingError(f"key version {version} is not in the ring")
        return KeyRing(keys=self.keys, current=version, index_key=self.index_key)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def aad(table: str, row_id: int | str, column: str) -> bytes:
    return f"{table}:{row_id}:{column}".encode()


@lru_cache(maxsize=64)
def _cipher(key: bytes) -> AESGCM:
    """One AES-GCM instance per key (it holds only the key; nonces are fresh per call)."""
    return AESGCM(key)


def encrypt(ring: KeyRing, plaintext: str, where: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = _cipher(ring.keys[ring.current]).encrypt(nonce, plaintext.encode("utf-8"), where)
    return f"v{ring.current}.{_b64(nonce + sealed)}"


def key_version(token: str) -> int:
    head, _, _ = token.partition(".")
    if not head.startswith("v") or not head[1:].isdigit():
        raise DecryptionError("not a xiaodai ciphertext")
    return int(head[1:])


def decrypt(ring: KeyRing, token: str, where: bytes) -> str:
    version = key_version(token)
    key = ring.keys.get(version)
    if key is None:
        raise DecryptionError(f"key version {version} is not in the ring")
    raw = _unb64(token.partition(".")[2])
    try:
        return _cipher(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], where).decode("utf-8")
    except InvalidTag:
        raise DecryptionError("ciphertext does not authenticate for this row and field") from None


def normalise(kind: str, value: str) -> str:
    """Canonical form for lookups: digits only for phones (dropping +86) and cards; upper-case ID numbers."""
    text = "".join(value.split())
    if kind == "phone":
        digits = "".join(ch for ch in text if ch.isdigit())
        return digits[2:] if digits.startswith("86") and len(digits) == 13 else digits
    if kind == "id_number":
        return text.upper()
    if kind == "bank_card":
        return "".join(ch for ch in text if ch.isdigit())
    return text


def blind_index(ring: KeyRing, kind: str, value: str) -> str:
    message = f"{kind}:{normalise(kind, value)}".encode()
    return hmac.new(ring.index_key, message, hashlib.sha256).hexdigest()


def load_file(path: Path) -> KeyRing:
    try:
        return KeyRing.from_json(json.loads(path.read_text()))
    except (OSError, json.JSONDecodeError) as exc:
        raise KeyRingError(f"cannot read key ring {path}: {exc}") from None


def save_file(ring: KeyRing, path: Path) -> None:
    """Write atomically with owner-only permissions (a file of its own first, then renamed over ``path``:
    two writers at once never mix their bytes; the last rename wins)."""
    tmp = _written(ring, path)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def create_file(ring: KeyRing, path: Path) -> bool:
    """Write ``ring`` at ``path`` only if there is no file there yet, atomically: of several processes or
    threads creating the first ring at once, exactly one succeeds and every other finds the winner's file
    (hard link, which never replaces). True when this call created it."""
    tmp = _written(ring, path)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    return True


def _written(ring: KeyRing, path: Path) -> Path:
    """``ring`` in a new file of its own beside ``path`` (owner-only, flushed to disk)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(ring.to_json(), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name)
