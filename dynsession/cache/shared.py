"""What both caches share: argument checks, ``get_or_set`` with stampede protection, JSON values.

A cache subclasses :class:`BaseCache` and implements the storage primitives (``get``, ``_put``,
``_add``, ``refresh``, ``remove``); everything else is built on them here, once.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from ..clock import Clock
from ..exceptions import ConfigurationError
from .entry import CacheEntry
from .errors import CacheValueNotSerializable, InvalidExpiry
from .expiry import Duration, Expiry, duration, resolve
from .flight import SingleFlight
from .keys import check_key

DEFAULT_SLIDING = timedelta(minutes=20)

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON. Raises CacheValueNotSerializable for what JSON cannot hold."""
    try:
        return _encoder.encode(value).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise CacheValueNotSerializable(f"cache value cannot be serialized to JSON: {exc}") from exc


def as_bytes(value: object) -> bytes:
    """A value given to ``set`` as ``bytes``. Raises TypeError for anything but bytes-like objects."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"cache values are bytes, not {type(value).__name__} (set_json stores other values)")


def _seconds_or_none(name: str, value: Duration | None) -> int | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else value
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds >= 0:
        raise ConfigurationError(f"{name} must be a non-negative number of seconds or a timedelta")
    return int(seconds)


class BaseCache(abc.ABC):
    """The :class:`~dynsession.cache.DistributedCache` methods that need no storage of their own.

    ``default_sliding`` applies when ``set`` gets no expiry (``None``: such entries never
    expire); ``refresh_after`` throttles the sliding refresh on reads (see ``refresh_target``).
    """

    def __init__(
        self, *, clock: Clock, default_sliding: Duration | None, refresh_after: Duration | None
    ) -> None:
        try:
            self._default_sliding = (
                None if default_sliding is None else duration("default_sliding", default_sliding)
            )
        except InvalidExpiry as exc:
            raise ConfigurationError(str(exc)) from None
        self._refresh_after = _seconds_or_none("refresh_after", refresh_after)
        self._clock = clock
        self._flight: SingleFlight[bytes] = SingleFlight()

    @property
    def default_sliding(self) -> timedelta | None:
        """The sliding window ``set`` gives an entry when it gets no expiry (``None``: none)."""
        return self._default_sliding

    # -- the storage primitives ------------------------------------------------------------------

    @abc.abstractmethod
    async def get_entry(self, key: str) -> CacheEntry | None:
        """The live entry under ``key`` with its expiry, or None; a read as ``get`` makes (the
        sliding window restarts when due, and the entry returned carries the TTL then stored)."""

    async def get(self, key: str) -> bytes | None:
        """The live value under ``key`` or None (see DistributedCache). Raises StoreError."""
        entry = await self.get_entry(key)
        return None if entry is None else entry.value

    @abc.abstractmethod
    async def refresh(self, key: str) -> bool: ...

    @abc.abstractmethod
    async def remove(self, key: str) -> None: ...

    @abc.abstractmethod
    async def _put(self, key: str, value: bytes, expiry: Expiry) -> None:
        """Store the entry unconditionally (the key is checked)."""

    @abc.abstractmethod
    async def _add(self, key: str, value: bytes, expiry: Expiry) -> bool:
        """Store the entry unless a live one has the key (the key is checked)."""

    # -- built on them ---------------------------------------------------------------------------

    def _expiry(
        self, sliding: Duration | None, absolute: datetime | None, absolute_in: Duration | None
    ) -> Expiry:
        return resolve(
            self._clock(),
            sliding=sliding,
            absolute=absolute,
            absolute_in=absolute_in,
            default_sliding=self._default_sliding,
        )

    async def set(
        self,
        key: str,
        value: bytes,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> None:
        """Store ``value`` under ``key``, replacing any entry (see DistributedCache)."""
        check_key(key)
        await self._put(key, as_bytes(value), self._expiry(sliding, absolute, absolute_in))

    async def add(
        self,
        key: str,
        value: bytes,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> bool:
        """Store ``value`` only if no live entry has ``key``; return whether it was stored."""
        check_key(key)
        return await self._add(key, as_bytes(value), self._expiry(sliding, absolute, absolute_in))

    async def get_or_set(
        self,
        key: str,
        factory: Callable[[], Awaitable[bytes]],
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> bytes:
        """The cached value, or ``await factory()`` stored and returned; one factory run per key at a
        time in this process. Raises what the factory raises, TypeError if it returns no bytes."""
        check_key(key)
        expiry = self._expiry(sliding, absolute, absolute_in)  # bad arguments fail before the factory

        async def fill() -> bytes:
            cached = await self.get(key)
            if cached is not None:
                return cached
            value = as_bytes(await factory())
            await self._put(key, value, expiry)
            return value

        return await self._flight.run(key, fill)

    async def get_json(self, key: str) -> Any:
        """The JSON value stored under ``key``, or None. Raises ValueError when it is not JSON."""
        raw = await self.get(key)
        return None if raw is None else json.loads(raw)

    async def set_json(
        self,
        key: str,
        value: Any,
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> None:
        """Store ``value`` as JSON. Raises CacheValueNotSerializable before any write."""
        await self.set(key, encode_json(value), sliding=sliding, absolute=absolute, absolute_in=absolute_in)

    async def get_or_set_json(
        self,
        key: str,
        factory: Callable[[], Awaitable[Any]],
        *,
        sliding: Duration | None = None,
        absolute: datetime | None = None,
        absolute_in: Duration | None = None,
    ) -> Any:
        """``get_or_set`` for JSON values; every caller gets its own decoded copy."""

        async def produce() -> bytes:
            return encode_json(await factory())

        raw = await self.get_or_set(key, produce, sliding=sliding, absolute=absolute, absolute_in=absolute_in)
        return json.loads(raw)
