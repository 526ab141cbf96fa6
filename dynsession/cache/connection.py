"""The cache's way to its table: the boto3 client (built on first use), the transport every item
operation goes through (built by ``make_transport``, as the session store's is), the optional
capacity tally, and table checks in a worker thread."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import anyio.to_thread
import botocore.config

from .. import tables
from ..exceptions import StoreUnavailable
from ..explain import Spelling, explain
from ..stores.capacity import CapacityTally
from ..stores.dynamodb_wire import translate_errors
from ..stores.transport import Boto3Client, Transport, TransportChoice, make_transport

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_MAX_CONCURRENCY = 16

_SPELLING = Spelling(
    region_absent="no region_name given to DynamoDBCache",
    region_fix="pass region_name= to DynamoDBCache",
    endpoint_name="DynamoDBCache's endpoint_url",
    endpoint_fix="pass endpoint_url= to DynamoDBCache",
)


class TableConnection:
    """One table's client, transport and tally, built as DynamoDBStore builds them. Raises
    ConfigurationError for a ``transport`` that cannot be used."""

    def __init__(
        self,
        table_name: str,
        *,
        partition_key: str,
        ttl_attribute: str,
        client: DynamoDBClient | None,
        endpoint_url: str | None,
        region_name: str | None,
        config: botocore.config.Config | None,
        max_concurrency: int,
        transport: TransportChoice,
        return_consumed_capacity: bool,
        table_wait_timeout: float,
    ) -> None:
        self.table_name = table_name
        self.partition_key = partition_key
        self.ttl_attribute = ttl_attribute
        self.table_wait_timeout = table_wait_timeout
        self.endpoint_url = endpoint_url
        self._boto3 = Boto3Client(
            client,
            endpoint_url=endpoint_url,
            region_name=region_name,
            config=config,
            max_pool_connections=max_concurrency,
        )
        self.transport: Transport = make_transport(transport, self._boto3, max_concurrency=max_concurrency)
        self.consumed_capacity = CapacityTally() if return_consumed_capacity else None
        self._extra: dict[str, Any] = {"ReturnConsumedCapacity": "TOTAL"} if return_consumed_capacity else {}

    @property
    def client(self) -> DynamoDBClient:
        """The boto3 client, built on first use. Blocking: call it from a worker thread."""
        return self._boto3.get()

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """One item operation through the transport. Raises StoreUnavailable, ConditionFailed."""
        response = await self.transport.call(operation, {**request, **self._extra})
        if self.consumed_capacity is not None:
            self.consumed_capacity.add(operation, response)
        return response

    def report(self, *, create: bool) -> tables.TableReport:
        """Blocking: check the table, creating it first if ``create``. Raises botocore's errors."""
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

    async def blocking_report(self, *, create: bool) -> tables.TableReport:
        """:meth:`report` in a worker thread, errors translated (StoreUnavailable)."""

        def run() -> tables.TableReport:
            with translate_errors("CreateTable" if create else "CheckTable", self.table_name):
                return self.report(create=create)

        return await anyio.to_thread.run_sync(run)

    async def checked_report(self, *, create: bool) -> tables.TableReport:
        """:meth:`blocking_report` for the startup check: when DynamoDB cannot be asked, the
        StoreUnavailable says what is missing and what to set, as the ``dynsession`` command does."""
        try:
            return await self.blocking_report(create=create)
        except StoreUnavailable as exc:
            reason = explain(exc, spelling=_SPELLING, endpoint_option=self.endpoint_url)
            raise StoreUnavailable(
                f"DynamoDB table {self.table_name!r} could not be checked: {reason}", original=exc.original
            ) from exc

    async def aclose(self) -> None:
        await self.transport.aclose()
