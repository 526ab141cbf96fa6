"""The two small item types HybridCache keeps beside the entries: leases and tag removals.

Both are ordinary entries of the shared tier (one DynamoDB item each, in the layout of
:mod:`dynsession.cache.item`), under keys no caller can use:

- a lease: key ``__hybrid__:lease:`` + the cache key; value 16 random hex digits naming the
  holder; it expires ``lock_timeout`` after it was taken (rounded up to the second);
- a tag removal: key ``__hybrid__:tag:`` + the tag; value the second of the last
  ``remove_by_tag`` as ASCII digits; it expires :data:`TAG_RETENTION` later.

A lease is taken with the shared tier's ``add`` (a conditional PutItem: one write unit, charged
even when the condition fails) and given back with ``remove`` (a DeleteItem); a lease whose
holder died frees itself when its TTL passes, since ``add`` overwrites an expired item. A key or
tag too long to fit behind its prefix is named by its SHA-256 instead.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta, timezone

from ..base import DistributedCache
from ..errors import InvalidCacheKey
from ..keys import MAX_KEY_BYTES, check_key

RESERVED = "__hybrid__:"
LEASE_PREFIX = RESERVED + "lease:"
TAG_PREFIX = RESERVED + "tag:"

TAG_RETENTION = timedelta(days=30)
"""How long a tag removal is remembered; an entry set with tags lives at most this long."""


def reserved_key(prefix: str, name: str) -> str:
    """``prefix + name``, or ``prefix + "sha256:" + digest`` when that would be too long."""
    key = prefix + name
    if len(key.encode("utf-8")) <= MAX_KEY_BYTES:
        return key
    return prefix + "sha256:" + hashlib.sha256(name.encode("utf-8")).hexdigest()


def check_user_key(key: object) -> str:
    """A cache key a caller may use: a valid key outside HybridCache's own names.

    Raises InvalidCacheKey.
    """
    checked = check_key(key)
    if checked.startswith(RESERVED):
        raise InvalidCacheKey(f"cache keys beginning with {RESERVED!r} are HybridCache's own")
    return checked


def check_tags(tags: object) -> tuple[str, ...]:
    """``tags`` as a tuple of distinct non-empty strings, in their order.

    Raises InvalidCacheKey for a tag that is not a non-empty valid string, TypeError when ``tags``
    is a lone string (a common slip for a one-tag tuple) or not iterable.
    """
    if isinstance(tags, str | bytes):
        raise TypeError("tags is a collection of strings: write tags=(tag,) for a single one")
    if not isinstance(tags, tuple | list | set | frozenset):
        raise TypeError(f"tags must be a tuple or list of strings, not {type(tags).__name__}")
    result: list[str] = []
    for tag in tags:
        check_key(tag)
        if tag not in result:
            result.append(tag)
    return tuple(result)


def at(epoch: int) -> datetime:
    """An epoch second as the aware datetime the caches take for ``absolute``."""
    return datetime.fromtimestamp(epoch, tz=timezone.utc)


class Lease:
    """The right to run one key's factory for the whole cluster, for ``seconds`` at most."""

    def __init__(self, shared: DistributedCache, key: str, seconds: int) -> None:
        self.shared = shared
        self.key = reserved_key(LEASE_PREFIX, key)
        self.seconds = seconds
        self.token = secrets.token_hex(8).encode("ascii")
        self.expires: int | None = None

    async def acquire(self, now: int) -> bool:
        """Take the lease unless a live one is held (one conditional PutItem). Raises StoreError."""
        taken = await self.shared.add(self.key, self.token, absolute=at(now + self.seconds))
        if taken:
            self.expires = now + self.seconds
        return taken

    async def held_elsewhere(self) -> bool:
        """Whether a live lease is in the shared tier (one GetItem). Raises StoreError."""
        return await self.shared.get(self.key) is not None

    async def release(self, now: int) -> None:
        """Give the lease back (one DeleteItem), unless it has already expired: by then another
        holder may have it. Raises StoreError."""
        if self.expires is not None and now < self.expires:
            await self.shared.remove(self.key)
        self.expires = None


async def read_tag(shared: DistributedCache, tag: str) -> int | None:
    """The second ``tag`` was last removed, or None (one GetItem). Raises StoreError."""
    stored = await shared.get(reserved_key(TAG_PREFIX, tag))
    if stored is None:
        return None
    try:
        return int(stored)
    except ValueError:
        return None


def tag_deadline(now: int) -> int:
    """When a tag removal recorded at ``now`` is forgotten: a tagged entry set at ``now`` must end
    by then, or it would outlive the record that removes it."""
    return now + int(TAG_RETENTION.total_seconds())


async def write_tag(shared: DistributedCache, tag: str, now: int) -> None:
    """Record that ``tag`` was removed at ``now`` (one PutItem). Raises StoreError."""
    await shared.set(reserved_key(TAG_PREFIX, tag), str(now).encode("ascii"), absolute=at(tag_deadline(now)))
