"""``api.request_id``: a sane incoming ``X-Request-ID`` is kept; otherwise a new id, a random version-4
UUID's 32 hex digits (as ``uuid.uuid4().hex``), a different one each time."""

from __future__ import annotations

import uuid

from xiaodai.api.request_id import incoming_or_new, new_id


def test_a_new_id_is_a_random_uuid4_in_hex() -> None:
    ids = {new_id() for _ in range(2_000)}
    assert len(ids) == 2_000
    for made in ids:
        parsed = uuid.UUID(hex=made)
        assert parsed.hex == made  # 32 lower-case hex digits
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
    bits = [int(made, 16) for made in ids]
    # every bit outside the version and variant bits takes both values
    fixed = (0xF << 76) | (0x3 << 62)
    assert all(
        any(b >> n & 1 for b in bits) and not all(b >> n & 1 for b in bits)
        for n in range(128)
        if not fixed >> n & 1
    )


def test_a_sane_incoming_id_is_kept_and_anything_else_replaced() -> None:
    kept = {"headers": [(b"x-request-id", b"proxy-given-id-0001")]}
    assert incoming_or_new(kept) == "proxy-given-id-0001"
    for bad in (b"short", b"a" * 65, b"bad id with spaces", b"inject\nline"):
        made = incoming_or_new({"headers": [(b"x-request-id", bad)]})
        assert uuid.UUID(hex=made).version == 4
    assert uuid.UUID(hex=incoming_or_new({"headers": []})).version == 4
