"""Sessions in an Amazon DynamoDB table, one item per session, sent through a transport."""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import botocore.config

from .. import _options as options
from .. import tables
from ..clock import Clock, checked_clock, system_clock
from ..exceptions import ConfigurationError, SessionConflict, SessionTooLarge, TableConfigError
from ..tables.explain import STORE
from . import dynamodb_users as users
from .base import MovedRecord, SessionRecord
from .connection import DEFAULT_MAX_CONCURRENCY, Connected, TableConnection
from .dynamodb_wire import ConditionFailed, translate_errors
from .item_format import (
    MAX_ITEM_BYTES,
    SEEN,
    TOKEN_BYTES,
    VERSION,
    ItemFormat,
    item_size,
    new_token,
    token_of,
)
from .item_wire import render
from .transport import DEFAULT_TRANSPORT, TransportChoice
from .users import BoundSession

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

logger = logging.getLogger("dynsession")

T = TypeVar("T")


__all__ = ["MAX_ITEM_BYTES", "DynamoDBStore", "item_size", "translate_errors"]


class DynamoDBStore(Connected):
    """A :class:`~dynsession.SessionStore` backed by one DynamoDB table.

    The item for a session is keyed by ``key_prefix`` + the store key (a SHA-256 digest of the
    session ID) under ``partition_key``; ``ttl_attribute`` holds the idle deadline as integer epoch
    seconds so DynamoDB's TTL can remove it; ``data`` (Binary), ``ver``, ``created`` and ``abs``
    (Numbers), ``tok`` (Binary, a random token per write) and ``seen`` (Number, when the item was
    last written) hold the rest; with client binding or renewal also ``bind`` (Binary) and ``iss``
    (Number). A session bound to a user also has ``uid``, ``device`` and ``bound``; with
    ``user_index=True`` the store lists and deletes a user's sessions through the global secondary
    index ``user_index_name`` on ``uid`` (see :mod:`dynsession.stores.dynamodb_users`). A moved
    ID's marker holds ``moved`` (String), ``fwd`` (Binary, after a renewal) and the token, with the
    TTL as its grace deadline. A write whose answer was lost and that was retried finds its own
    token when its condition fails, and succeeds. An item that cannot be read as a session (see
    :mod:`dynsession.stores.item_format`) loads as a record with an unreadable blob, which the next
    write replaces.

    ``client`` may be any object with the boto3 DynamoDB client's methods (a boto3 client you
    built, a DAX client). Without it, one boto3 client is built on first use with ``endpoint_url``,
    ``region_name`` and ``config`` merged over dynsession's defaults (standard retry mode, bounded
    timeouts, a connection pool as large as ``max_concurrency``).

    ``transport`` chooses how item operations travel (see
    :func:`dynsession.stores.transport.make_transport`): ``"boto3"`` runs boto3 calls in worker
    threads; ``"native"`` sends them over dynsession's own HTTP/1.1 client on asyncio with the same
    endpoint, credentials, retries, timeouts, proxies and TLS trust; ``"auto"`` (the default) picks
    ``"native"`` unless a ``client`` was given (then ``"boto3"``), and boto3 under trio. At most
    ``max_concurrency`` calls are in flight at once; none blocks the event loop. Table
    administration always uses boto3. The transport in use is :attr:`transport`; :meth:`aclose`
    releases its connections. Raises ConfigurationError for a ``transport`` that cannot be used.

    With ``return_consumed_capacity=True`` every call asks for ``ReturnConsumedCapacity="TOTAL"``
    and ``consumed_capacity`` (a :class:`CapacityTally`) adds up the units; otherwise it is ``None``.

    Once per middleware, before the first request, :meth:`prepare` checks the table
    (``validate_on_startup``) or creates it (``create_table_if_missing``), waiting at most
    ``table_wait_timeout`` seconds for a new table to become ACTIVE.

    Raises ConfigurationError, naming the option, when an option is invalid.
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
        user_index: bool = False,
        user_index_name: str = users.DEFAULT_INDEX_NAME,
    ) -> None:
        self.table_name = options.text("table_name", table_name)
        self.partition_key = options.text("partition_key", partition_key)
        self.ttl_attribute = options.text("ttl_attribute", ttl_attribute)
        self.key_prefix = options.text("key_prefix", key_prefix, empty=True)
        self.consistent_read = options.flag("consistent_read", consistent_read)
        self.max_concurrency = max_concurrency = options.integer(
            "max_concurrency", max_concurrency, minimum=1
        )
        self._clock = checked_clock(clock)
        self._client = client
        self._table = TableConnection(
            self.table_name,
            client=client,
            endpoint_url=endpoint_url,
            region_name=region_name,
            config=config,
            max_concurrency=max_concurrency,
            transport=transport,
            return_consumed_capacity=return_consumed_capacity,
            spelling=STORE,
        )
        self.create_table_if_missing = options.flag("create_table_if_missing", create_table_if_missing)
        self.validate_on_startup = options.flag("validate_on_startup", validate_on_startup)
        self.table_wait_timeout = options.timeout("table_wait_timeout", table_wait_timeout)
        self.user_index = options.flag("user_index", user_index)
        self.user_index_name = options.text("user_index_name", user_index_name)
        self._format = ItemFormat(partition_key, ttl_attribute, key_prefix)

    def __repr__(self) -> str:
        return f"DynamoDBStore(table_name={self.table_name!r})"

    # -- the SessionStore contract -------------------------------------------------------------

    async def load(self, key: str, *, consistent: bool | None = None) -> SessionRecord | MovedRecord | None:
        """``consistent``: True for a strongly consistent read, False for an eventually consistent
        one (half the read units, possibly a moment stale), None for ``consistent_read``."""
        strong = self.consistent_read if consistent is None else consistent
        return self._live(key, await self._get_item(key, consistent=strong))

    async def save(self, key: str, record: SessionRecord, *, expected_version: int | None) -> None:
        token = new_token()
        item = self._format.item(key, record, token, written=self._clock())
        size = item_size(item)
        if size > MAX_ITEM_BYTES:
            raise SessionTooLarge(size, MAX_ITEM_BYTES)
        request = {"TableName": self.table_name, "Item": item, **self._condition(expected_version)}
        try:
            await self._table.call("PutItem", render(request))
        except ConditionFailed as exc:
            await self._refused(key, exc, token)

    async def move(self, key: str, marker: MovedRecord, *, expected_version: int) -> None:
        token = new_token()
        request = {
            "TableName": self.table_name,
            "Item": self._format.marker_item(key, marker, token),
            **self._condition(expected_version),
        }
        try:
            await self._table.call("PutItem", render(request))
        except ConditionFailed as exc:
            await self._refused(key, exc, token)

    async def touch(self, key: str, expires: int) -> bool:
        try:
            await self._table.call(
                "UpdateItem",
                render(
                    {
                        "TableName": self.table_name,
                        "Key": self._key(key),
                        # Neither attribute is in the user index, so a refresh never writes to it.
                        "UpdateExpression": "SET #t = :t, #s = :s",
                        # A session item, not a moved one's marker: that keeps its grace window.
                        "ConditionExpression": "attribute_exists(#v)",
                        "ExpressionAttributeNames": {"#t": self.ttl_attribute, "#s": SEEN, "#v": VERSION},
                        "ExpressionAttributeValues": {
                            ":t": {"N": str(expires)},
                            ":s": {"N": str(self._clock())},
                        },
                    }
                ),
            )
        except ConditionFailed:
            return False
        return True

    async def delete(self, key: str, *, expected_version: int | None = None) -> None:
        request: dict[str, Any] = {"TableName": self.table_name, "Key": self._key(key)}
        if expected_version is None:
            await self._table.call("DeleteItem", render(request))
            return
        try:
            await self._table.call("DeleteItem", render({**request, **self._condition(expected_version)}))
        except ConditionFailed as exc:
            # A logout that lost to a renewal follows the marker it finds.
            await self._refused(key, exc, None)

    async def _refused(self, key: str, exc: ConditionFailed, token: bytes | None) -> None:
        """A conditional write was refused. Return when it was a retry of this very write (``token``
        is stored: its first attempt applied but its answer was lost); otherwise raise
        SessionConflict with what is stored, read where the server did not send it back (dynalite
        never does)."""
        current = exc.item if exc.item is not None else await self._get_item(key, consistent=True)
        if token is not None and token_of(current) == token:
            return
        raise SessionConflict(
            "session was changed by another request",
            original=exc.original,
            current=self._live(key, current),
        ) from None

    def _condition(self, expected_version: int | None) -> dict[str, Any]:
        # The item that beat us comes back with the failure (at no extra cost): a merge needs no
        # second read and works from the very version it must build on, and a retried write can
        # recognise its own token.
        return {**self._format.condition(expected_version), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}

    async def _get_item(self, key: str, *, consistent: bool) -> dict[str, Any] | None:
        response = await self._table.call(
            "GetItem",
            render({"TableName": self.table_name, "Key": self._key(key), "ConsistentRead": consistent}),
        )
        item: dict[str, Any] | None = response.get("Item")
        return item

    def _live(self, key: str, item: Mapping[str, Any] | None) -> SessionRecord | MovedRecord | None:
        """The record or moved ID's marker in an item, or None when there is none or it has expired."""
        if not item:
            return None
        now = self._clock()
        marker = self._format.marker(item)
        if marker is not None:
            return None if marker.is_expired(now) else marker
        record, malformed = self._format.record(item, now)
        if malformed:
            logger.debug("session item %s has malformed attributes: %s", key[:8], ", ".join(malformed))
        return None if record.is_expired(now) else record

    # -- finding a user's sessions (the UserSessionStore contract) --------------------------------

    async def list_user_sessions(self, user_id: str) -> list[BoundSession]:
        """One Query of the user index, then one BatchGetItem (per 100 sessions) of the items it
        names, read as ``consistent_read`` says, so sessions deleted or expired since the index
        last caught up are left out; the session data is not read.

        Raises ConfigurationError without ``user_index=True``, StoreUnavailable when DynamoDB fails.
        """
        if not self.user_index:
            raise ConfigurationError(
                "listing or ending a user's sessions needs the user index: pass "
                "DynamoDBStore(..., user_index=True) and create the index (see "
                "`dynsession create-table --user-index`)"
            )
        sessions = await users.list_bound(
            self._table.call,
            self.table_name,
            self.user_index_name,
            self._format,
            user_id,
            self.consistent_read,
        )
        now = self._clock()
        return [session for session in sessions if not session.is_expired(now)]

    async def delete_sessions(self, keys: Collection[str]) -> None:
        """Delete the sessions in ``keys`` with BatchWriteItem, 25 per call.

        Raises StoreUnavailable when DynamoDB fails or keeps some deletes unprocessed.
        """
        await users.batch_delete(
            self._table.call, self.table_name, self.partition_key, [self.key_prefix + key for key in keys]
        )

    # -- the table -------------------------------------------------------------------------------

    def table_report(self, *, create: bool = False) -> tables.TableReport:
        """Check the table with this store's settings, creating it first (TTL on, waiting at most
        ``table_wait_timeout`` seconds) if ``create``; see :mod:`dynsession.tables`.

        Blocking, for scripts and commands; the async :meth:`check_table` and :meth:`create_table`
        run it in a worker thread. Raises botocore's exceptions when DynamoDB cannot be asked.
        """
        return tables.table_report(
            self.client,
            self.table_name,
            create=create,
            partition_key=self.partition_key,
            ttl_attribute=self.ttl_attribute,
            wait_timeout=self.table_wait_timeout,
            user_index=self.user_index,
            user_index_name=self.user_index_name,
        )

    async def check_table(self) -> tables.TableReport:
        """Report whether the table fits this store (see :func:`dynsession.tables.check_table`).

        Raises StoreUnavailable when DynamoDB cannot be asked (unreachable, no credentials, denied).
        """
        return await self._table.blocking("CheckTable", self.table_report)

    async def create_table(self) -> tables.TableReport:
        """Create the table unless it exists, wait at most ``table_wait_timeout`` seconds for it,
        enable TTL, and report (see :func:`dynsession.tables.create_table`).

        Raises StoreUnavailable when DynamoDB cannot be asked or refuses (for example, access denied).
        """
        return await self._table.blocking("CreateTable", lambda: self.table_report(create=True))

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
        # A failure is said as the `dynsession` command says it: what is missing, what to set.
        create = self.create_table_if_missing
        report = await self._table.checked(lambda: self.table_report(create=create), create=create)
        report.raise_for_errors()
        for finding in report.warnings:
            logger.warning("DynamoDB table %r: %s", self.table_name, finding.message)
        if report.created:
            logger.info("created DynamoDB table %r", self.table_name)

    async def aclose(self) -> None:
        """Release the transport's connections; the middleware calls it at lifespan shutdown.
        The store stays usable: a later call opens what it needs again."""
        await self._table.aclose()

    # -- plumbing --------------------------------------------------------------------------------

    def _key(self, key: str) -> dict[str, AttributeValueTypeDef]:
        return {self.partition_key: {"S": self.key_prefix + key}}

    def _item(self, key: str, record: SessionRecord) -> dict[str, AttributeValueTypeDef]:
        """The item saving ``record`` writes (with a zero token: the size is what matters here)."""
        return self._format.item(key, record, bytes(TOKEN_BYTES), written=self._clock())
