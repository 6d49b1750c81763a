"""The in-process token memory: entries live at most ``ttl``; a revoked token or user is dropped at once and
cannot be remembered again for one ``ttl``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xiaodai.accounts.token_cache import TokenCache

EXPIRES = datetime(2026, 1, 10, 14, 0, tzinfo=UTC)


class Ticks:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


def remember(cache: TokenCache, digest: str = "a" * 64, user_id: int = 7) -> bool:
    return cache.put(digest, user_id=user_id, user_columns={"id": user_id}, token_expires_at=EXPIRES)


def test_an_entry_lives_until_just_before_the_ttl(ticks: Ticks) -> None:
    cache = TokenCache(ttl=2.0, ticks=ticks)
    assert remember(cache)
    ticks.now += 1.999
    entry = cache.get("a" * 64)
    assert entry is not None
    assert entry.user_id == 7
    assert entry.token_expires_at == EXPIRES
    ticks.now += 0.001  # exactly ttl after the lookup: gone, the database is asked again
    assert cache.get("a" * 64) is None


def test_forgetting_a_token_drops_it_and_bars_it_for_one_ttl(ticks: Ticks) -> None:
    cache = TokenCache(ttl=2.0, ticks=ticks)
    remember(cache)
    remember(cache, "b" * 64)
    cache.forget_token("a" * 64)
    assert cache.get("a" * 64) is None
    assert cache.get("b" * 64) is not None  # another token of the same user is untouched
    # a request that read the row just before the revocation committed cannot put it back
    assert not remember(cache)
    ticks.now += 1.999
    assert not remember(cache)
    ticks.now += 0.001
    assert remember(cache)


def test_forgetting_a_user_drops_all_their_tokens_and_bars_them(ticks: Ticks) -> None:
    cache = TokenCache(ttl=2.0, ticks=ticks)
    remember(cache, "a" * 64, user_id=7)
    remember(cache, "b" * 64, user_id=7)
    remember(cache, "c" * 64, user_id=8)
    cache.forget_user(7)
    assert cache.get("a" * 64) is None
    assert cache.get("b" * 64) is None
    assert cache.get("c" * 64) is not None
    assert not remember(cache, "d" * 64, user_id=7)
    assert remember(cache, "d" * 64, user_id=8)
    ticks.now += 2.0
    assert remember(cache, "a" * 64, user_id=7)


def test_a_full_cache_starts_over_instead_of_growing(ticks: Ticks) -> None:
    cache = TokenCache(ttl=2.0, max_entries=2, ticks=ticks)
    remember(cache, "a" * 64)
    remember(cache, "b" * 64)
    assert remember(cache, "c" * 64)
    assert cache.get("a" * 64) is None
    assert cache.get("c" * 64) is not None


@pytest.mark.parametrize(("ttl", "max_entries"), [(0.0, 10), (-1.0, 10), (1.0, 0)])
def test_nonsense_settings_are_refused(ttl: float, max_entries: int) -> None:
    with pytest.raises(ValueError, match="ttl"):
        TokenCache(ttl=ttl, max_entries=max_entries)
