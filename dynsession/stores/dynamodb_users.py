"""Finding a user's sessions in DynamoDB: the user index Query, and the batched reads and deletes
that follow it. Every call goes through the store's transport.

Bound items carry ``uid`` (the store's key prefix, ``#``, the user ID escaped: see
:func:`~dynsession.stores.users.user_index_key`; the index's partition keys fall under the same IAM
``LeadingKeys`` as the table's, and stores whose prefixes start alike never find each other's
users), ``device`` and ``bound`` (see
:mod:`dynsession.stores.item_format`). The index is a
sparse global secondary index on ``uid`` with the KEYS_ONLY projection: only bound items are in
it, and only binding, unbinding or deleting a bound item writes to it; saves and deadline
refreshes change no projected attribute and cost the index nothing.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

import anyio

from ..exceptions import StoreUnavailable
from ..tables.index import DEFAULT_USER_INDEX
from .item_format import ABSOLUTE, BOUND, CREATED, DEVICE, SEEN, USER, VERSION, ItemFormat, integer_of
from .users import BoundSession, user_index_key

DEFAULT_INDEX_NAME = DEFAULT_USER_INDEX

Call = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

# DynamoDB's limits per call; unprocessed keys (throttling) are sent again with a growing pause.
_GET_BATCH, _WRITE_BATCH = 100, 25
_BATCH_ATTEMPTS = 8
_BACKOFF_SECONDS, _BACKOFF_CAP_SECONDS = 0.05, 1.0
_NO_INDEX = ("ValidationException", "ResourceNotFoundException")


async def list_bound(
    call: Call, table: str, index: str, layout: ItemFormat, user_id: str, consistent: bool
) -> list[BoundSession]:
    """The sessions still bound to ``user_id``: the keys the index lists, read back from the table
    (so ones deleted since are left out) without their data. Expiry is the caller's to judge."""
    prefix, partition_key = layout.key_prefix, layout.partition_key
    found = await query_keys(call, table, index, partition_key, user_index_key(prefix, user_id))
    mine = [key for key in found if key.startswith(prefix)]
    if not mine:
        return []
    names = (partition_key, layout.ttl_attribute, CREATED, ABSOLUTE, SEEN, USER, DEVICE, BOUND, VERSION)
    items = await batch_get(call, table, partition_key, mine, names, consistent)
    sessions = (_bound_session(item, layout) for item in items)
    # The owner is read back with the exact prefix (see ItemFormat.owner): only this store's items.
    return [s for s in sessions if s is not None and s.owner.user_id == user_id]


def _bound_session(item: Mapping[str, Any], layout: ItemFormat) -> BoundSession | None:
    owner = layout.owner(item)
    created, expires = integer_of(item.get(CREATED)), integer_of(item.get(layout.ttl_attribute))
    if owner is None or created is None or expires is None:
        return None
    seen, version = integer_of(item.get(SEEN)), integer_of(item.get(VERSION))
    return BoundSession(
        key=item[layout.partition_key]["S"][len(layout.key_prefix) :],
        owner=owner,
        created=created,
        active=created if seen is None else seen,
        expires=expires,
        absolute_deadline=integer_of(item.get(ABSOLUTE)),
        # Ending it deletes on this version; an unreadable one is read again first.
        version=version if version is not None and version > 0 else None,
    )


async def query_keys(call: Call, table: str, index: str, partition_key: str, user: str) -> list[str]:
    """The table keys the user index lists under ``user`` (an eventually consistent read)."""
    keys: list[str] = []
    request: dict[str, Any] = {
        "TableName": table,
        "IndexName": index,
        "KeyConditionExpression": "#u = :u",
        "ExpressionAttributeNames": {"#u": USER},
        "ExpressionAttributeValues": {":u": {"S": user}},
    }
    while True:
        try:
            response = await call("Query", request)
        except StoreUnavailable as exc:
            code = getattr(exc.original, "response", {}).get("Error", {}).get("Code")
            if code not in _NO_INDEX:
                raise
            # Not an outage: the table lacks the index (DynamoDB answers ValidationException, moto
            # ResourceNotFoundException). No original, so the command prints this line, not botocore's.
            raise StoreUnavailable(
                f"Query: table {table!r} has no usable user index {index!r} ({code}); see "
                f"`dynsession check-table --table {table} --user-index`"
            ) from exc
        keys.extend(item[partition_key]["S"] for item in response.get("Items", ()))
        last = response.get("LastEvaluatedKey")
        if not last:
            return keys
        request = {**request, "ExclusiveStartKey": last}


async def batch_get(
    call: Call,
    table: str,
    partition_key: str,
    keys: Sequence[str],
    attributes: Sequence[str],
    consistent: bool,
) -> list[dict[str, Any]]:
    """The items that still exist among ``keys``, with only ``attributes`` (BatchGetItem)."""
    names = {f"#a{n}": name for n, name in enumerate(attributes)}
    found: list[dict[str, Any]] = []
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _GET_BATCH):
        pending: Any = {
            table: {
                "Keys": [{partition_key: {"S": key}} for key in unique[start : start + _GET_BATCH]],
                "ConsistentRead": consistent,
                "ProjectionExpression": ", ".join(names),
                "ExpressionAttributeNames": names,
            }
        }
        for attempt in range(_BATCH_ATTEMPTS):
            response = await call("BatchGetItem", {"RequestItems": pending})
            found.extend(response.get("Responses", {}).get(table, ()))
            pending = response.get("UnprocessedKeys")
            if not pending:
                break
            await _pause(attempt)
        else:
            raise StoreUnavailable(f"BatchGetItem: keys of table {table!r} still unprocessed after retries")
    return found


async def batch_delete(call: Call, table: str, partition_key: str, keys: Collection[str]) -> None:
    """Delete every item in ``keys`` (BatchWriteItem, 25 at a time); missing items are no error."""
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), _WRITE_BATCH):
        pending: Any = {
            table: [
                {"DeleteRequest": {"Key": {partition_key: {"S": key}}}}
                for key in unique[start : start + _WRITE_BATCH]
            ]
        }
        for attempt in range(_BATCH_ATTEMPTS):
            response = await call("BatchWriteItem", {"RequestItems": pending})
            pending = response.get("UnprocessedItems")
            if not pending:
                break
            await _pause(attempt)
        else:
            raise StoreUnavailable(f"BatchWriteItem: deletes in table {table!r} unprocessed after retries")


async def _pause(attempt: int) -> None:
    await anyio.sleep(random.uniform(0, min(_BACKOFF_CAP_SECONDS, _BACKOFF_SECONDS * 2**attempt)))
