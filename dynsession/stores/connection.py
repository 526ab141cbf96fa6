"""One table's way in, shared by the session store and the cache: the boto3 client (built on first
use), the transport every item operation goes through (built by ``make_transport``), the optional
capacity tally, and table administration in a worker thread with its failures explained."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import anyio.to_thread
import botocore.config

from ..exceptions import StoreUnavailable
from ..tables.explain import Spelling, explain
from .capacity import CapacityTally
from .dynamodb_wire import translate_errors
from .transport import Boto3Client, Transport, TransportChoice, make_transport

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ..tables import TableReport

T = TypeVar("T")

DEFAULT_MAX_CONCURRENCY = 16


class TableConnection:
    """The client, transport and tally of one table. ``spelling`` names the options a failed table
    check tells the user to set. Raises ConfigurationError for a ``transport`` that cannot be used."""

    def __init__(
        self,
        table_name: str,
        *,
        client: DynamoDBClient | None,
        endpoint_url: str | None,
        region_name: str | None,
        config: botocore.config.Config | None,
        max_concurrency: int,
        transport: TransportChoice,
        return_consumed_capacity: bool,
        spelling: Spelling,
    ) -> None:
        self.table_name = table_name
        self.endpoint_url = endpoint_url
        self.spelling = spelling
        self._boto3 = Boto3Client(
            client,
            endpoint_url=endpoint_url,
            region_name=region_name,
            config=config,
            max_pool_connections=max_concurrency,
        )
        self.transport: Transport = make_transport(transport, self._boto3, max_concurrency=max_concurrency)
        # Opt-in (benchmarks, cost audits): ask DynamoDB for the units each call consumed.
        self.consumed_capacity = CapacityTally() if return_consumed_capacity else None
        self._extra: dict[str, Any] = {"ReturnConsumedCapacity": "TOTAL"} if return_consumed_capacity else {}

    @property
    def client(self) -> DynamoDBClient:
        """The boto3 client, built on first use. Blocking: call it from a worker thread."""
        return self._boto3.get()

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """One item operation through the transport, asking for consumed capacity when tallying.
        Raises StoreUnavailable, or ConditionFailed for a failed condition."""
        # Without extras the request goes as it is: it may carry its JSON rendered (see item_wire).
        response = await self.transport.call(
            operation, {**request, **self._extra} if self._extra else request
        )
        if self.consumed_capacity is not None:
            self.consumed_capacity.add(operation, response)
        return response

    async def blocking(self, operation: str, work: Callable[[], T]) -> T:
        """Table administration (boto3 whatever the transport) in a worker thread, errors
        translated (StoreUnavailable)."""

        def run() -> T:
            with translate_errors(operation, self.table_name):
                return work()

        return await anyio.to_thread.run_sync(run)

    async def checked(self, report: Callable[[], TableReport], *, create: bool) -> TableReport:
        """:meth:`blocking` for the startup check: when DynamoDB cannot be asked, the
        StoreUnavailable says what is missing and what to set, as the ``dynsession`` command does."""
        try:
            return await self.blocking("CreateTable" if create else "CheckTable", report)
        except StoreUnavailable as exc:
            reason = explain(exc, spelling=self.spelling, endpoint_option=self.endpoint_url)
            raise StoreUnavailable(
                f"DynamoDB table {self.table_name!r} could not be checked: {reason}", original=exc.original
            ) from exc

    async def aclose(self) -> None:
        await self.transport.aclose()


class Connected:
    """What a store or cache shows of its :class:`TableConnection` (``self._table``)."""

    _table: TableConnection

    @property
    def transport(self) -> Transport:
        """What carries the item operations (see :mod:`dynsession.stores.transport`); assignable,
        for instance to wrap it."""
        return self._table.transport

    @transport.setter
    def transport(self, transport: Transport) -> None:
        self._table.transport = transport

    @property
    def client(self) -> DynamoDBClient:
        """The boto3 DynamoDB client (table administration; item operations with the boto3
        transport), built on first use. Blocking: call it from a worker thread."""
        return self._table.client

    @property
    def consumed_capacity(self) -> CapacityTally | None:
        """The capacity units used so far, with ``return_consumed_capacity=True``; else ``None``."""
        return self._table.consumed_capacity
