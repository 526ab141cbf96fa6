"""Single flight: concurrent callers asking for one key share one run of the work."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar, cast

import anyio

T = TypeVar("T")


class _Flight(Generic[T]):
    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: T | None = None
        self.error: BaseException | None = None
        self.cancelled = False


class SingleFlight(Generic[T]):
    """Runs ``work`` once per key at a time in this process; callers arriving while it runs wait
    for its result (or its exception) instead of running it again.

    A caller arriving after the run finished starts a new one. When the caller that runs the work
    is cancelled, the others do not inherit the cancellation: one of them runs the work again.
    """

    def __init__(self) -> None:
        self._flights: dict[str, _Flight[T]] = {}

    def __len__(self) -> int:
        return len(self._flights)

    async def run(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        """Return ``work()``'s result, shared with concurrent callers of the same ``key``.

        Raises whatever the shared run of ``work`` raised.
        """
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, work)
            await flight.done.wait()
            if flight.cancelled:
                continue
            if flight.error is not None:
                raise flight.error
            return cast("T", flight.value)

    async def _lead(self, key: str, work: Callable[[], Awaitable[T]]) -> T:
        flight: _Flight[T] = _Flight()
        self._flights[key] = flight
        try:
            flight.value = await work()
            return flight.value
        except anyio.get_cancelled_exc_class():
            flight.cancelled = True
            raise
        except BaseException as exc:
            flight.error = exc
            raise
        finally:
            del self._flights[key]
            flight.done.set()
