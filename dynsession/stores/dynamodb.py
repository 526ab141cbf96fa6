"""Sessions in an Amazon DynamoDB table, one item per session, sent through a transport."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread
import botocore.config

from .. import tables
from ..clock import Clock, system_clock
from ..exceptions import SessionConflict, SessionTooLarge, StoreUnavailable, TableConfigError
from ..explain import STORE, explain
from .base import SessionRecord
from .capacity import CapacityTally
from .dynamodb_wire import MAX_ITEM_BYTES, ConditionFailed, item_size, translate_errors
from .transport import DEFAULT_TRANSPORT, Boto3Client, Transport, TransportChoice, make_transport

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

logger = logging.getLogger("dynsession")

T = TypeVar("T")

DEFAULT_MAX_CONCURRENCY = 16

_DATA, _VERSION, _CREATED, _ABSOLUTE = "data", "ver", "created", "abs"


__all__ = ["MAX_ITEM_BYTES", "DynamoDBStore", "item_size", "translate_errors"]


class DynamoDBStore:
    """A :class:`~dynsession.SessionStore` backed by one DynamoDB table.

    The item for a session is keyed by ``key_prefix`` + the store key (a SHA-256 digest of the
    session ID) under ``partition_key``; ``ttl_attribute`` holds the idle deadline as integer epoch
    seconds so DynamoDB's TTL can remove it; ``data`` (Binary), ``ver``, ``created`` and ``abs``
    (Numbers) hold the rest.

    ``client`` may be any object with the boto3 DynamoDB client's methods (a boto3 client you
    built, a DAX client). Without it, one boto3 client is built on first use with ``endpoint_url``,
    ``region_name`` and ``config`` merged over dynsession's defaults (standard retry mode, bounded
    timeouts, a connection pool as large as ``max_concurrency``).

    ``transport`` chooses how item operations travel (see
    :func:`dynsession.stores.transport.make_transport`): ``"boto3"`` runs boto3 calls in worker
    threads; ``"aiohttp"`` sends them natively over aiohttp (``dynsession[fast]``) with the same
    endpoint, credentials, retries and timeouts; ``"auto"`` (the default) picks ``"aiohttp"`` when
    it is installed and no ``client`` was given, else ``"boto3"``. At most ``max_concurrency``
    calls are in flight at once; none blocks the event loop. Table administration always uses
    boto3. The transport in use is :attr:`transport`; :meth:`aclose` releases its connections.
    Raises ConfigurationError for a ``transport`` that cannot be used.

    With ``return_consumed_capacity=True`` every call asks for ``ReturnConsumedCapacity="TOTAL"``
    and ``consumed_capacity`` (a :class:`CapacityTally`) adds up the units; otherwise it is ``None``.

    Once per middleware, before the first request, :meth:`prepare` checks the table
    (``validate_on_startup``) or creates it (``create_table_if_missing``), waiting at most
    ``table_wait_timeout`` seconds for a new table to become ACTIVE.
    """

    def __init__(
        self,
        table_name: str,
        *,
        partition_key: str = "id",
        ttl_attribute: str = "ttl",
        key_prefix: str = "dc:",
        consistent_read: bool = True,
        client: DynamoDBClient | None = None,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        config: botocore.config.Config | None = None,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        transport: TransportChoice = DEFAULT_TRANSPORT,
        clock: Clock = system_clock,
        return_consumed_capacity: bool = False,
        create_table_if_missing: bool = False,
        validate_on_startup: bool = True,
        table_wait_timeout: float = 60.0,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1")
        self.table_name = table_name
        self.partition_key = partition_key
        self.ttl_attribute = ttl_attribute
        self.key_prefix = key_prefix
        self.consistent_read = consistent_read
        self.max_concurrency = max_concurrency
        self._clock = clock
        self._client = client
        self._endpoint_url = endpoint_url
        self._boto3 = Boto3Client(
            client,
            endpoint_url=endpoint_url,
            region_name=region_name,
            config=config,
            max_pool_connections=max_concurrency,
        )
        self.transport: Transport = make_transport(transport, self._boto3, max_concurrency=max_concurrency)
        # Opt-in (benchmarks, cost audits): ask DynamoDB for the units each call consumed.
        self.consumed_capacity: CapacityTally | None = CapacityTally() if return_consumed_capacity else None
        self._extra: dict[str, Any] = {"ReturnConsumedCapacity": "TOTAL"} if return_consumed_capacity else {}
        self.create_table_if_missing = create_table_if_missing
        self.validate_on_startup = validate_on_startup
        self.table_wait_timeout = table_wait_timeout

    def __repr__(self) -> str:
        return f"DynamoDBStore(table_name={self.table_name!r})"

    # -- the SessionStore contract -------------------------------------------------------------

    async def load(self, key: str) -> SessionRecord | None:
        response = await self._call(
            "GetItem",
            {"TableName": self.table_name, "Key": self._key(key), "ConsistentRead": self.consistent_read},
        )
        item = response.get("Item")
        if item is None:
            return None
        record = self._record(item)
        return None if record.is_expired(self._clock()) else record

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        item = self._item(key, record)
        size = item_size(item)
        if size > MAX_ITEM_BYTES:
            raise SessionTooLarge(size, MAX_ITEM_BYTES)
        condition: dict[str, Any]
        if expected_version is None:
            condition = {
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": self.partition_key},
            }
        else:
            condition = {
                "ConditionExpression": "#v = :v",
                "ExpressionAttributeNames": {"#v": _VERSION},
                "ExpressionAttributeValues": {":v": {"N": str(expected_version)}},
                # The item that beat us comes back with the failure (at no extra cost), so a merge
                # needs no second read and works from the very version it must build on.
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        try:
            await self._call("PutItem", {"TableName": self.table_name, "Item": item, **condition})
        except ConditionFailed as exc:
            raise SessionConflict(
                "session was changed by another request", original=exc.original, current=self._current(exc)
            ) from None

    def _current(self, failure: ConditionFailed) -> SessionRecord | None:
        response = getattr(failure.original, "response", None) or {}
        item = response.get("Item")
        if not item:
            return None
        record = self._record(item)
        return None if record.is_expired(self._clock()) else record

    async def touch(self, key: str, expires: int) -> bool:
        try:
            await self._call(
                "UpdateItem",
                {
                    "TableName": self.table_name,
                    "Key": self._key(key),
                    "UpdateExpression": "SET #t = :t",
                    "ConditionExpression": "attribute_exists(#k)",
                    "ExpressionAttributeNames": {"#t": self.ttl_attribute, "#k": self.partition_key},
                    "ExpressionAttributeValues": {":t": {"N": str(expires)}},
                },
            )
        except ConditionFailed:
            return False
        return True

    async def delete(self, key: str) -> None:
        await self._call("DeleteItem", {"TableName": self.table_name, "Key": self._key(key)})

    # -- the table -------------------------------------------------------------------------------

    def table_report(self, *, create: bool = False) -> tables.TableReport:
        """Check the table with this store's settings, creating it first (TTL on, waiting at most
        ``table_wait_timeout`` seconds) if ``create``; see :mod:`dynsession.tables`.

        Blocking, for scripts and commands; the async :meth:`check_table` and :meth:`create_table`
        run it in a worker thread. Raises botocore's exceptions when DynamoDB cannot be asked.
        """
        if create:
            return tables.create_table(
                self.client,
                self.table_name,
                partition_key=self.partition_key,
                ttl_attribute=self.ttl_attribute,
                wait_timeout=self.table_wait_timeout,
            )
        return tables.check_table(
            self.client, self.table_name, partition_key=self.partition_key, ttl_attribute=self.ttl_attribute
        )

    async def check_table(self) -> tables.TableReport:
        """Report whether the table fits this store (see :func:`dynsession.tables.check_table`).

        Raises StoreUnavailable when DynamoDB cannot be asked (unreachable, no credentials, denied).
        """
        return await self._blocking("CheckTable", self.table_report)

    async def create_table(self) -> tables.TableReport:
        """Create the table unless it exists, wait at most ``table_wait_timeout`` seconds for it,
        enable TTL, and report (see :func:`dynsession.tables.create_table`).

        Raises StoreUnavailable when DynamoDB cannot be asked or refuses (for example, access denied).
        """
        return await self._blocking("CreateTable", lambda: self.table_report(create=True))

    async def prepare(self) -> None:
        """Run once by the middleware before the first request: create the table if
        ``create_table_if_missing``, else check it if ``validate_on_startup``; log the warnings.

        Raises TableConfigError with the report's message when the table cannot hold sessions,
        StoreUnavailable when DynamoDB cannot be asked (its message says what to set, as the
        ``dynsession`` command does).
        """
        if not (self.create_table_if_missing or self.validate_on_startup):
            return
        if self._client is not None and not hasattr(self._client, "describe_table"):
            raise TableConfigError(
                "the DynamoDB client given to the store has no describe_table (a DAX client serves item "
                "operations only): pass validate_on_startup=False and check the table with "
                "`dynsession check-table`"
            )
        try:
            report = await (self.create_table() if self.create_table_if_missing else self.check_table())
        except StoreUnavailable as exc:
            # Said as the `dynsession` command says it: what is missing, where boto3 looked, what to set.
            reason = explain(exc, spelling=STORE, endpoint_option=self._endpoint_url)
            raise StoreUnavailable(
                f"DynamoDB table {self.table_name!r} could not be checked: {reason}", original=exc.original
            ) from exc
        report.raise_for_errors()
        for finding in report.warnings:
            logger.warning("DynamoDB table %r: %s", self.table_name, finding.message)
        if report.created:
            logger.info("created DynamoDB table %r", self.table_name)

    async def aclose(self) -> None:
        """Release the transport's connections; the middleware calls it at lifespan shutdown.
        The store stays usable: a later call opens what it needs again."""
        await self.transport.aclose()

    # -- plumbing --------------------------------------------------------------------------------

    @property
    def client(self) -> DynamoDBClient:
        """The boto3 DynamoDB client (table administration; item operations with the boto3
        transport), built on first use. Blocking: call it from a worker thread."""
        return self._boto3.get()

    async def _call(self, operation: str, request: dict[str, Any]) -> dict[str, Any]:
        """One item operation through the transport, asking for consumed capacity when tallying."""
        response = await self.transport.call(operation, {**request, **self._extra})
        if self.consumed_capacity is not None:
            self.consumed_capacity.add(operation, response)
        return response

    async def _blocking(self, operation: str, work: Callable[[], T]) -> T:
        """Table administration (boto3 whatever the transport) in a worker thread, errors translated."""

        def run() -> T:
            with translate_errors(operation, self.table_name):
                return work()

        return await anyio.to_thread.run_sync(run)

    def _key(self, key: str) -> dict[str, AttributeValueTypeDef]:
        return {self.partition_key: {"S": self.key_prefix + key}}

    def _item(self, key: str, record: SessionRecord) -> dict[str, AttributeValueTypeDef]:
        item: dict[str, AttributeValueTypeDef] = {
            self.partition_key: {"S": self.key_prefix + key},
            self.ttl_attribute: {"N": str(record.expires)},
            _DATA: {"B": record.data},
            _VERSION: {"N": str(record.version)},
            _CREATED: {"N": str(record.created)},
        }
        if record.absolute_deadline is not None:
            item[_ABSOLUTE] = {"N": str(record.absolute_deadline)}
        return item

    def _record(self, item: Mapping[str, Any]) -> SessionRecord:
        absolute = item.get(_ABSOLUTE)
        return SessionRecord(
            data=bytes(item[_DATA]["B"]),
            version=int(item[_VERSION]["N"]),
            created=int(item[_CREATED]["N"]),
            expires=int(item[self.ttl_attribute]["N"]),
            absolute_deadline=None if absolute is None else int(absolute["N"]),
        )
