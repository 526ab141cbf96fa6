"""``@cached``: an async function whose JSON results live in a DistributedCache."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import ParamSpec, Protocol, TypeVar

from .base import DistributedCache
from .expiry import Duration

P = ParamSpec("P")
R = TypeVar("R")

_LONGEST_READABLE = 200


class CachingDecorator(Protocol):
    """What ``cached(...)`` returns: it keeps the decorated function's signature."""

    def __call__(self, function: Callable[P, Awaitable[R]], /) -> Callable[P, Awaitable[R]]: ...


def cached(
    cache: DistributedCache,
    *,
    key: Callable[..., str] | None = None,
    sliding: Duration | None = None,
    absolute_in: Duration | None = None,
) -> CachingDecorator:
    """Cache an async function's results in ``cache`` through ``get_or_set_json``.

    The function must return JSON values (``dict``, ``list``, ``str``, numbers, ``bool``,
    ``None``); a tuple comes back as a list. Its cache key is ``key(*args, **kwargs)`` or, by
    default, ``"<module>.<qualname>:"`` followed by the arguments as JSON (their SHA-256 when
    that is long). Concurrent calls with the same arguments share one run. Raises
    CacheValueNotSerializable when the result is not JSON, TypeError when the default key meets
    an argument JSON cannot hold (pass ``key=``), and what the function or the cache raise.
    """

    def decorate(function: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        name = f"{function.__module__}.{function.__qualname__}:"

        @functools.wraps(function)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            entry = key(*args, **kwargs) if key is not None else name + _arguments(args, kwargs)
            result: R = await cache.get_or_set_json(
                entry, lambda: function(*args, **kwargs), sliding=sliding, absolute_in=absolute_in
            )
            return result

        return wrapper

    return decorate


def _arguments(args: tuple[object, ...], kwargs: dict[str, object]) -> str:
    try:
        text = json.dumps([args, kwargs], separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"@cached cannot build a key from these arguments ({exc}); pass key=") from exc
    if len(text.encode("utf-8")) <= _LONGEST_READABLE:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
