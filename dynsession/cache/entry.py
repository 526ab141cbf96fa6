"""One cache entry as both caches keep it, and when reading it should push its TTL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .expiry import Expiry


@dataclass(frozen=True, slots=True)
class CacheEntry:
    """A stored value with its TTL (epoch seconds; ``None``: never expires), its sliding window and
    its absolute deadline, exactly as the DynamoDB item holds them."""

    value: bytes
    ttl: int | None
    window: timedelta | None = None
    deadline: int | None = None

    @classmethod
    def create(cls, value: bytes, expiry: Expiry, now: int) -> CacheEntry:
        """The entry ``set`` writes at ``now``."""
        return cls(value, expiry.ttl(now), expiry.window, expiry.deadline)

    def is_expired(self, now: int) -> bool:
        """True from the second the TTL (or the deadline) names."""
        if self.ttl is not None and self.ttl <= now:
            return True
        return self.deadline is not None and self.deadline <= now

    def slid_ttl(self, now: int) -> int | None:
        """The TTL a read at ``now`` restarts the window to; ``None`` when the entry does not slide."""
        if self.window is None:
            return None
        return Expiry(self.window, self.deadline).ttl(now)


def refresh_target(entry: CacheEntry, now: int, refresh_after: int | None) -> int | None:
    """The TTL a read at ``now`` should write, or ``None`` when no write is due.

    A write is due when it gains more than ``refresh_after`` seconds; ``None`` means
    ``min(60, window / 10)`` for this entry, and ``0`` a write on every read (the .NET provider's
    behaviour).
    """
    target = entry.slid_ttl(now)
    if target is None or entry.ttl is None or entry.window is None:
        return None
    threshold = min(60, int(entry.window.total_seconds()) // 10) if refresh_after is None else refresh_after
    if threshold == 0:
        return target if target >= entry.ttl else None
    return target if target - entry.ttl > threshold else None
