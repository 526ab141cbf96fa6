"""What the cache raises for bad arguments and values (store failures are StoreError, as for sessions).

    DynSessionError
    ├── InvalidCacheKey             not a string, empty, too long, or not encodable as UTF-8
    ├── InvalidExpiry               a negative or zero duration, a naive or past deadline
    ├── CacheValueTooLarge          the entry would not fit in one DynamoDB item
    └── CacheValueNotSerializable   get_json/set_json: the value is not JSON (also a TypeError)

Messages never repeat the value; they name the key (the caller's own string) only by its length.
"""

from __future__ import annotations

from ..exceptions import DynSessionError

__all__ = ["CacheValueNotSerializable", "CacheValueTooLarge", "InvalidCacheKey", "InvalidExpiry"]


class InvalidCacheKey(DynSessionError, ValueError):
    """A cache key DynamoDB cannot store, or that dynsession refuses (see ``dynsession.cache.keys``)."""


class InvalidExpiry(DynSessionError, ValueError):
    """A ``sliding``, ``absolute`` or ``absolute_in`` argument that names no future moment."""


class CacheValueTooLarge(DynSessionError):
    """The cache entry would exceed DynamoDB's item size limit; nothing was written.

    ``size`` and ``limit`` are in bytes and count the whole item, attribute names included.
    """

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(f"cache entry is {size} bytes, over the {limit} byte item limit")


class CacheValueNotSerializable(DynSessionError, TypeError):
    """A value given to ``set_json`` (or returned by a ``get_or_set_json`` factory) is not JSON."""
