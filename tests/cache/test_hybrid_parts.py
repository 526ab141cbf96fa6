"""HybridCache's parts on their own: options, the envelope, the local tier's bound."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from dynsession import ConfigurationError
from dynsession.cache import HybridCache, MemoryCache
from dynsession.cache.hybrid.coordination import TAG_PREFIX, reserved_key
from dynsession.cache.hybrid.envelope import MARKER, Envelope, decode
from dynsession.cache.hybrid.local import Copy, LocalTier

from ..support import FakeClock

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"local_ttl": -1}, "local_ttl"),
        ({"local_ttl": 1.5}, "local_ttl"),
        ({"local_ttl": "5"}, "local_ttl"),
        ({"local_max_entries": 0}, "local_max_entries"),
        ({"local_max_entries": True}, "local_max_entries"),
        ({"fail_safe": 0.5}, "fail_safe"),
        ({"eager_refresh": 1.0}, "eager_refresh"),
        ({"eager_refresh": 0}, "eager_refresh"),
        ({"lock_timeout": 0}, "lock_timeout"),
        ({"lock_timeout": timedelta(seconds=-1)}, "lock_timeout"),
        ({"clock": 12}, "clock"),
    ],
)
def test_bad_options_fail_at_construction_naming_the_option(options: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        HybridCache(MemoryCache(), **options)


def test_the_shared_tier_must_be_a_distributed_cache() -> None:
    with pytest.raises(ConfigurationError, match="shared"):
        HybridCache("sessions")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="another HybridCache"):
        HybridCache(HybridCache(MemoryCache()))


def test_durations_take_seconds_or_timedelta() -> None:
    cache = HybridCache(MemoryCache(), local_ttl=timedelta(seconds=7), fail_safe=timedelta(hours=1))
    assert cache.local_ttl == 7 and cache.fail_safe == 3600
    assert HybridCache(MemoryCache(), lock_timeout=0.25).lease_seconds == 1


@pytest.mark.parametrize(
    "envelope",
    [
        Envelope(b"plain"),
        Envelope(MARKER + b"looks like one"),
        Envelope(b"v", set_at=1_800_000_000, fail_safe=60, tags=("a", "ü")),
        Envelope(b"", set_at=5),
    ],
)
def test_envelopes_round_trip(envelope: Envelope) -> None:
    assert decode(envelope.encode()) == envelope


def test_a_bare_value_is_stored_as_it_is_and_a_broken_header_reads_as_bytes() -> None:
    assert Envelope(b"plain").encode() == b"plain"
    for broken in (
        MARKER + b"\x00\x05{nope",
        MARKER + b"\x00",
        MARKER + b"\x00\x02[]x",
        MARKER + b"\xff\xff{}",
    ):
        assert decode(broken) == Envelope(broken)


def test_the_local_tier_drops_the_least_recently_used_copies() -> None:
    tier = LocalTier(local_ttl=5, max_entries=2, fail_safe=None)
    for key in "abc":
        tier.keep(key, Copy(key.encode(), fresh_until=10, expires=None))
        if key == "b":
            assert tier.fresh("a", 0) is not None  # a is now more recent than b
    assert len(tier) == 2 and tier.fresh("b", 0) is None and tier.fresh("a", 0) is not None


def test_long_keys_and_tags_get_hashed_names() -> None:
    long = "x" * 1024
    name = reserved_key(TAG_PREFIX, long)
    assert name.startswith(TAG_PREFIX + "sha256:") and len(name) < 100
    assert reserved_key(TAG_PREFIX, "short") == TAG_PREFIX + "short"


async def test_a_long_key_can_be_computed_under_a_lease(clock: FakeClock) -> None:
    cache = HybridCache(MemoryCache(clock=clock), clock=clock, lock_timeout=1)

    async def load() -> bytes:
        return b"v"

    assert await cache.get_or_set("k" * 1024, load, tags=("t" * 1024,)) == b"v"
    await cache.remove_by_tag("t" * 1024)
    assert await cache.get("k" * 1024) is None
