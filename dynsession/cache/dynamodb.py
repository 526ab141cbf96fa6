"""A distributed cache in a DynamoDB table, item-compatible with the AWS .NET provider."""

from __future__ import annotations

import logging
from types import TracebackType
from typing import TYPE_CHECKING

import botocore.config

from .. import tables
from .._serialization import BlobDecodeError
from ..clock import Clock, system_clock
from ..exceptions import ConfigurationError, StoreError
from ..stores.connection import DEFAULT_MAX_CONCURRENCY, Connected, TableConnection
from ..stores.dynamodb_wire import ConditionFailed
from ..stores.item_format import new_token
from ..stores.transport import DEFAULT_TRANSPORT, TransportChoice
from ..tables.explain import Spelling
from .entry import CacheEntry, refresh_target
from .expiry import Duration, Expiry
from .item import ItemLayout
from .keys import check_key, check_prefix
from .shared import DEFAULT_SLIDING, BaseCache

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ..tables import TableReport

logger = logging.getLogger("dynsession.cache")

DEFAULT_KEY_PREFIX = "cache:dc:"

_SPELLING = Spelling(
    region_absent="no region_name given to DynamoDBCache",
    region_fix="pass region_name= to DynamoDBCache",
    endpoint_name="DynamoDBCache's endpoint_url",
    endpoint_fix="pass endpoint_url= to DynamoDBCache",
)


class DynamoDBCache(Connected, BaseCache):
    """A :class:`~dynsession.cache.DistributedCache` in one DynamoDB table, one item per entry.

    Items are laid out as the AWS .NET distributed cache provider writes them (see
    :mod:`dynsession.cache.item`), so .NET and Python services can share entries. The default
    ``key_prefix`` ``"cache:dc:"`` is what the .NET provider writes with
    ``PartitionKeyPrefix = "cache"``; pass ``key_prefix="dc:"`` to share a .NET cache without a
    prefix (then keep dynsession's sessions, whose default prefix is also ``"dc:"``, in another
    table or under another prefix). The table can be the sessions table: same key schema, same
    TTL attribute, different prefixes.

    The connection options (``client``, ``endpoint_url``, ``region_name``, ``config``,
    ``max_concurrency``, ``transport``, ``return_consumed_capacity``, ``create_table_if_missing``,
    ``validate_on_startup``, ``table_wait_timeout``) mean what they mean for
    :class:`~dynsession.DynamoDBStore`, and ``transport`` is built by the same
    :func:`~dynsession.stores.transport.make_transport`; no call blocks the event loop. ``compress_threshold``
    (``None`` by default, for .NET compatibility) stores values above that many bytes
    zlib-compressed when that is smaller; .NET services then cannot read those entries.

    Costs: ``get`` is one GetItem, plus an UpdateItem of the TTL when the sliding refresh is due
    (at most once per ``refresh_after`` seconds per entry); ``set`` one PutItem; ``add`` one
    conditional PutItem; ``refresh`` a GetItem and an UpdateItem; ``remove`` one DeleteItem. An
    ``add`` whose answer was lost and that the transport retried reports its own write as stored.

    Use it as ``async with DynamoDBCache(...) as cache:`` (or call :meth:`prepare` and
    :meth:`aclose` yourself), typically in the app's lifespan. Raises ConfigurationError for bad
    options.
    """

    def __init__(
        self,
        table_name: str,
        *,
        partition_key: str = "id",
        ttl_attribute: str = "ttl",
        key_prefix: str = DEFAULT_KEY_PREFIX,
        consistent_read: bool = True,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: botocore.config.Config | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        transport: TransportChoice = DEFAULT_TRANSPORT,
        clock: Clock = system_clock,
        default_sliding: Duration | None = DEFAULT_SLIDING,
        refresh_after: Duration | None = None,
        compress_threshold: int | None = None,
        return_consumed_capacity: bool = False,
        create_table_if_missing: bool = False,
        validate_on_startup: bool = True,
        table_wait_timeout: float = 60.0,
    ) -> None:
        super().__init__(clock=clock, default_sliding=default_sliding, refresh_after=refresh_after)
        if max_concurrency < 1:
            raise ConfigurationError("max_concurrency must be at least 1")
        self.table_name = table_name
        self.consistent_read = consistent_read
        self.layout = ItemLayout(partition_key, ttl_attribute, check_prefix(key_prefix), compress_threshold)
        self.partition_key, self.ttl_attribute = partition_key, ttl_attribute
        self.table_wait_timeout = table_wait_timeout
        self._table = TableConnection(
            table_name,
            client=client,
            endpoint_url=endpoint_url,
            region_name=region_name,
            config=config,
            max_concurrency=max_concurrency,
            transport=transport,
            return_consumed_capacity=return_consumed_capacity,
            spelling=_SPELLING,
        )
        self.create_table_if_missing = create_table_if_missing
        self.validate_on_startup = validate_on_startup

    def __repr__(self) -> str:
        return f"DynamoDBCache(table_name={self.table_name!r}, key_prefix={self.layout.key_prefix!r})"

    # -- the cache -------------------------------------------------------------------------------

    async def get_entry(self, key: str) -> CacheEntry | None:
        """The live entry under ``key`` or None; restarts the sliding window when due (see class).
        Raises StoreError."""
        check_key(key)
        entry = await self._read(key)
        if entry is None:
            return None
        target = refresh_target(entry, self._clock(), self._refresh_after)
        if target is not None and entry.ttl is not None:
            try:
                await self._move_ttl(key, entry.ttl, target)
            except StoreError as exc:
                # The value was read; a lost refresh only lets the entry expire sooner.
                logger.warning("cache: sliding refresh failed, entry returned anyway: %s", exc)
            else:
                return CacheEntry(entry.value, target, entry.window, entry.deadline)
        return entry

    async def refresh(self, key: str) -> bool:
        """Restart the sliding window of ``key`` (a GetItem, then an UpdateItem of the TTL when it
        moves); create nothing. Return whether a live entry was found. Raises StoreError."""
        check_key(key)
        entry = await self._read(key)
        if entry is None:
            return False
        target = entry.slid_ttl(self._clock())
        if target is not None and entry.ttl is not None and target > entry.ttl:
            await self._move_ttl(key, entry.ttl, target)
        return True

    async def remove(self, key: str) -> None:
        """Delete the entry under ``key`` (one DeleteItem); a missing key is fine. Raises StoreError."""
        check_key(key)
        await self._table.call("DeleteItem", {"TableName": self.table_name, "Key": self.layout.key(key)})

    async def _put(self, key: str, value: bytes, expiry: Expiry) -> None:
        item = self.layout.item(key, CacheEntry.create(value, expiry, self._clock()))
        await self._table.call("PutItem", {"TableName": self.table_name, "Item": item})

    async def _add(self, key: str, value: bytes, expiry: Expiry) -> bool:
        now = self._clock()
        # The token lets a retry of this add (its first answer lost) find its own write, not a rival.
        token = new_token()
        item = self.layout.item(key, CacheEntry.create(value, expiry, now), token)
        request = {"TableName": self.table_name, "Item": item, **self.layout.free_condition(now, token)}
        try:
            await self._table.call("PutItem", request)
        except ConditionFailed:
            return False
        return True

    async def _read(self, key: str) -> CacheEntry | None:
        response = await self._table.call(
            "GetItem",
            {
                "TableName": self.table_name,
                "Key": self.layout.key(key),
                "ConsistentRead": self.consistent_read,
            },
        )
        item = response.get("Item")
        if item is None:
            return None
        try:
            entry = self.layout.entry(item)
        except BlobDecodeError as exc:
            logger.warning(
                "cache: an entry in table %r cannot be decoded, read as a miss: %s", self.table_name, exc
            )
            return None
        if entry is None or entry.is_expired(self._clock()):
            return None
        return entry

    async def _move_ttl(self, key: str, old: int, new: int) -> None:
        try:
            await self._table.call(
                "UpdateItem", {"TableName": self.table_name, **self.layout.ttl_update(key, old, new)}
            )
        except ConditionFailed:
            # Set or removed meanwhile: that newer write stands. A retry of this very refresh whose
            # first answer was lost lands here too, and its window has moved: the same outcome.
            pass

    # -- the table and the connection ------------------------------------------------------------

    def table_report(self, *, create: bool = False) -> TableReport:
        """Check the table for the cache, creating it first (on-demand, TTL on) if ``create``.
        Blocking; raises botocore's exceptions when DynamoDB cannot be asked."""
        return tables.table_report(
            self.client,
            self.table_name,
            create=create,
            partition_key=self.partition_key,
            ttl_attribute=self.ttl_attribute,
            wait_timeout=self.table_wait_timeout,
        )

    async def check_table(self) -> TableReport:
        """Report whether the table can hold the cache. Raises StoreUnavailable when DynamoDB cannot
        be asked."""
        return await self._table.blocking("CheckTable", self.table_report)

    async def create_table(self) -> TableReport:
        """Create the table unless it exists (on-demand, TTL on), then report. Raises
        StoreUnavailable when DynamoDB cannot be asked or refuses."""
        return await self._table.blocking("CreateTable", lambda: self.table_report(create=True))

    async def prepare(self) -> None:
        """Create the table if ``create_table_if_missing``, else check it if ``validate_on_startup``;
        log the warnings. Raises TableConfigError when the table cannot hold the cache,
        StoreUnavailable when DynamoDB cannot be asked (saying what to set)."""
        if not (self.create_table_if_missing or self.validate_on_startup):
            return
        create = self.create_table_if_missing
        report = await self._table.checked(lambda: self.table_report(create=create), create=create)
        report.raise_for_errors()
        for finding in report.warnings:
            logger.warning("cache table %r: %s", self.table_name, finding.message)

    async def aclose(self) -> None:
        """Release the transport's connections; the cache may be used again afterwards."""
        await self._table.aclose()

    async def __aenter__(self) -> DynamoDBCache:
        await self.prepare()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        await self.aclose()


__all__ = ["DEFAULT_KEY_PREFIX", "DynamoDBCache"]
