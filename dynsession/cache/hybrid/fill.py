"""What HybridCache does on a ``get_or_set`` miss: the lease, the factory, fail-safe, and the
background refreshes it owns.

Cost of a miss with ``lock_timeout`` (DynamoDB, over the GetItem that missed): the holder makes
a conditional PutItem (the lease), a GetItem (someone may have filled the key meanwhile), the
PutItem of the value and a DeleteItem (the lease back). A waiter makes the failed conditional
PutItem, then per poll a GetItem of the value and a GetItem of the lease; polls come after 20,
40, 80, 160 ms and then every 250 ms.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import anyio

from ...exceptions import StoreError
from ..shared import as_bytes
from .coordination import Lease
from .local import Copy
from .tiers import Plan, Tiers

logger = logging.getLogger("dynsession.cache")

FIRST_POLL = 0.02
LONGEST_POLL = 0.25

Factory = Callable[[], Awaitable[bytes]]


class Filler(Tiers):
    """The miss path and the background work of a HybridCache (see that class)."""

    async def fill(self, key: str, factory: Factory, plan: Plan) -> bytes:
        """The value for ``key`` after a local miss, one caller per key in this process at a time."""
        now = self.clock()
        copy = self.local.fresh(key, now)
        if copy is not None:  # filled while this caller waited for the flight
            self._counts["stale_served" if copy.outage else "local_hits"] += 1
            return copy.value
        try:
            found = await self.read(key, now)
        except StoreError:
            return self.serve_stale(key, now, outage=True)
        if found is not None:
            self._counts["shared_hits"] += 1
            self.maybe_refresh(key, found, factory, plan, now)
            return found.value
        self._counts["misses"] += 1
        try:
            if self.lock_timeout is None:
                return await self.compute(key, factory, plan)
            return await self.locked(key, factory, plan)
        except StoreError:
            return self.serve_stale(key, self.clock(), outage=True)

    def serve_stale(self, key: str, now: int, *, outage: bool) -> bytes:
        """The fail-safe copy of ``key``, counted; with no such copy, re-raise what is being
        handled. During an outage the copy is then served for ``local_ttl`` without asking the
        shared tier again."""
        copy = self.local.stale(key, now)
        if copy is None:
            raise  # called only from an except block: the failure being handled goes on
        self._counts["stale_served"] += 1
        logger.warning("cache: serving a stale value, the %s failed", "shared tier" if outage else "factory")
        if outage and self.local_ttl:
            copy.outage = True
            end = None if copy.expires is None or self.fail_safe is None else copy.expires + self.fail_safe
            copy.fresh_until = self._fresh_until(now, now, end)
            copy.refresh_at = None
        return copy.value

    async def compute(self, key: str, factory: Factory, plan: Plan) -> bytes:
        """Run the factory and store its value; serve a stale value if it fails (fail-safe)."""
        self._counts["factory_runs"] += 1
        try:
            produced = await factory()
        except Exception:
            return self.serve_stale(key, self.clock(), outage=False)
        value = as_bytes(produced)
        try:
            await self.write(key, value, plan)
        except StoreError as exc:
            if self.fail_safe is None:
                raise
            # The value is fresh: serve it, and keep it here, though no other process will see it.
            logger.warning("cache: a computed value could not be stored, served anyway: %s", exc)
            now = self.clock()
            self.keep_written(key, value, plan, now, now, self.resolve(plan, now).ttl(now))
        return value

    async def locked(self, key: str, factory: Factory, plan: Plan) -> bytes:
        """Run the factory under the key's lease, or wait for whoever holds it, at most
        ``lock_timeout`` seconds of real time; then run it regardless."""
        assert self.lock_timeout is not None
        lease = Lease(self.shared, key, self.lease_seconds)
        if await lease.acquire(self.clock()):
            return await self.holding(lease, key, factory, plan)
        self._counts["lock_waits"] += 1
        give_up = anyio.current_time() + self.lock_timeout
        delay = FIRST_POLL
        while (left := give_up - anyio.current_time()) > 0:
            await anyio.sleep(min(delay, left))
            delay = min(delay * 2, LONGEST_POLL)
            found = await self.read(key, self.clock())
            if found is not None:
                return found.value
            if not await lease.held_elsewhere() and await lease.acquire(self.clock()):
                return await self.holding(lease, key, factory, plan)
        # The holder is late, or died with its lease unexpired: waiting longer is not allowed.
        if await lease.acquire(self.clock()):
            return await self.holding(lease, key, factory, plan)
        return await self.compute(key, factory, plan)

    async def holding(self, lease: Lease, key: str, factory: Factory, plan: Plan) -> bytes:
        """With the lease: check the key once more, compute it, and give the lease back whatever
        happens (cancellation included)."""
        try:
            found = await self.read(key, self.clock())
            if found is not None:
                return found.value
            return await self.compute(key, factory, plan)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await lease.release(self.clock())
                except StoreError as exc:
                    logger.warning("cache: a lease could not be given back; it expires by itself: %s", exc)

    # -- eager refresh ---------------------------------------------------------------------------

    def maybe_refresh(self, key: str, copy: Copy, factory: Factory, plan: Plan, now: int) -> None:
        """Start a background refresh of ``key`` if its copy is past ``eager_refresh`` of its
        lifetime and none runs for it in this process."""
        if copy.refresh_at is None or now < copy.refresh_at or key in self.refreshing:
            return
        task = asyncio.get_running_loop().create_task(self._refresh(key, copy, factory, plan))
        self.refreshing[key] = task
        task.add_done_callback(lambda done: self._forget(key, done))

    def _forget(self, key: str, task: asyncio.Task[None]) -> None:
        if self.refreshing.get(key) is task:
            del self.refreshing[key]

    async def _refresh(self, key: str, copy: Copy, factory: Factory, plan: Plan) -> None:
        lease = Lease(self.shared, key, self.lease_seconds) if self.lock_timeout is not None else None
        try:
            if lease is not None and not await lease.acquire(self.clock()):
                copy.refresh_at = None  # another process is refreshing it; read its result later
                return
            try:
                self._counts["eager_refreshes"] += 1
                self._counts["factory_runs"] += 1
                value = as_bytes(await factory())
                await self.write(key, value, plan)
            finally:
                if lease is not None:
                    with anyio.CancelScope(shield=True):
                        await lease.release(self.clock())
        except Exception as exc:
            # The current value stays; this copy is not refreshed again before it is read anew.
            copy.refresh_at = None
            logger.warning("cache: a background refresh failed, the current value stays: %r", exc)
