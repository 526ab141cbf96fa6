"""``dynsession.cache``'s public surface: ``__all__`` lists exactly its public names, each documented."""

from __future__ import annotations

import inspect
import types

import dynsession
import dynsession.cache as cache_module
from dynsession.cache import DistributedCache, DynamoDBCache, HybridCache, MemoryCache

PUBLIC = {
    "MAX_KEY_BYTES",
    "CacheEntry",
    "CacheValueNotSerializable",
    "CacheValueTooLarge",
    "DistributedCache",
    "Duration",
    "DynamoDBCache",
    "HybridCache",
    "HybridCacheStats",
    "InvalidCacheKey",
    "InvalidExpiry",
    "MemoryCache",
    "cached",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert set(cache_module.__all__) == PUBLIC and len(cache_module.__all__) == len(PUBLIC)
    exposed = {
        name
        for name, value in vars(cache_module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert exposed == PUBLIC


def test_the_cache_lives_apart_from_the_session_names() -> None:
    assert not PUBLIC & set(dynsession.__all__)


def test_public_names_are_documented_and_say_what_they_raise() -> None:
    for name in cache_module.__all__:
        value = getattr(cache_module, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert inspect.getdoc(value), name
    for documented in (
        DynamoDBCache,
        MemoryCache,
        cache_module.cached,
        DynamoDBCache.refresh,
        DynamoDBCache.prepare,
        HybridCache,
        HybridCache.get_or_set,
        HybridCache.remove_by_tag,
        DynamoDBCache.get_entry,
    ):
        assert "Raises" in (documented.__doc__ or ""), documented


def test_both_caches_implement_the_protocol() -> None:
    assert isinstance(MemoryCache(), DistributedCache)
    assert isinstance(DynamoDBCache("table"), DistributedCache)
    assert isinstance(HybridCache(MemoryCache()), DistributedCache)
