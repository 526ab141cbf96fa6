"""``@cached``: results of an async function kept in a cache, keyed by its arguments."""

from __future__ import annotations

import anyio
import pytest

from dynsession.cache import CacheValueNotSerializable, DistributedCache, MemoryCache, cached

from ..support import FakeClock

pytestmark = pytest.mark.anyio


async def test_results_are_cached_per_arguments(cache: DistributedCache, clock: FakeClock) -> None:
    calls: list[tuple[str, int]] = []

    @cached(cache, sliding=60)
    async def price(sku: str, quantity: int = 1) -> dict[str, int]:
        calls.append((sku, quantity))
        return {"cents": 50 * quantity}

    assert await price("apple") == {"cents": 50}
    assert await price("apple") == {"cents": 50}
    assert await price("apple", quantity=3) == {"cents": 150}
    assert await price("bread") == {"cents": 50}
    assert calls == [("apple", 1), ("apple", 3), ("bread", 1)]
    assert await cache.get_json(f"{__name__}.{price.__qualname__}:" + '[["apple"],{}]') == {"cents": 50}
    clock.advance(60)
    assert await price("apple") == {"cents": 50}
    assert len(calls) == 4
    assert price.__name__ == "price"


async def test_a_key_function_names_the_entry(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)

    class Catalogue:
        def __init__(self) -> None:
            self.loads = 0

        @cached(cache, key=lambda self, region: f"catalogue:{region}", absolute_in=300)
        async def products(self, region: str) -> list[str]:
            self.loads += 1
            return ["apple", "bread"]

    shop = Catalogue()
    assert await shop.products("eu") == ["apple", "bread"]
    assert await Catalogue().products("eu") == ["apple", "bread"]
    assert shop.loads == 1
    assert await cache.get_json("catalogue:eu") == ["apple", "bread"]
    clock.advance(300)
    await shop.products("eu")
    assert shop.loads == 2


async def test_concurrent_calls_share_one_run(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)
    runs = 0

    @cached(cache)
    async def slow() -> int:
        nonlocal runs
        runs += 1
        await anyio.sleep(0.01)
        return 42

    results: list[int] = []

    async def call() -> None:
        results.append(await slow())

    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(call)
    assert runs == 1 and results == [42] * 10


async def test_long_arguments_are_hashed_and_unusable_ones_need_a_key(clock: FakeClock) -> None:
    cache = MemoryCache(clock=clock)

    @cached(cache)
    async def echo(text: str) -> str:
        return text

    assert await echo("x" * 5000) == "x" * 5000
    assert len(cache) == 1

    @cached(cache)
    async def takes(value: object) -> int:
        return 1

    with pytest.raises(TypeError, match="pass key="):
        await takes(object())

    @cached(cache)
    async def unserializable() -> set[int]:
        return {1}

    with pytest.raises(CacheValueNotSerializable):
        await unserializable()
