"""The UserSessionStore contract over MemoryStore and DynamoDBStore (a table with the user index),
and what DynamoDB's items, calls and index look like behind it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

import pytest

from dynsession import (
    BoundSession,
    ConfigurationError,
    DynamoDBStore,
    MemoryStore,
    SessionOwner,
    SessionRecord,
    UserSessionStore,
)

from ..conftest import IndexedStore
from ..support import FakeClock
from ..transports import counting_transport

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def key(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()


def owner(clock: FakeClock, user: str = "alice") -> SessionOwner:
    return SessionOwner(user, "Firefox on Linux", clock.now)


def bound(
    clock: FakeClock, user: str = "alice", *, ttl: int = 1800, absolute: int | None = None
) -> SessionRecord:
    return SessionRecord(
        data=b'{"a":1}',
        version=1,
        created=clock.now - 30,
        expires=clock.now + ttl,
        absolute_deadline=None if absolute is None else clock.now + absolute,
        owner=owner(clock, user),
    )


async def keys_of(store: UserSessionStore, user: str) -> set[str]:
    return {session.key for session in await store.list_user_sessions(user)}


async def test_owner_is_kept_with_the_record(user_store: UserSessionStore, clock: FakeClock) -> None:
    record = bound(clock, absolute=7200)
    await user_store.save(key("a"), record, expected_version=None)
    assert await user_store.load(key("a")) == record


async def test_lists_the_users_bound_sessions_only(user_store: UserSessionStore, clock: FakeClock) -> None:
    await user_store.save(key("a1"), bound(clock), expected_version=None)
    await user_store.save(key("a2"), bound(clock, absolute=600), expected_version=None)
    await user_store.save(key("b1"), bound(clock, "bob"), expected_version=None)
    unbound = SessionRecord(b"{}", 1, clock.now, clock.now + 1800)
    await user_store.save(key("anonymous"), unbound, expected_version=None)

    listed = sorted(await user_store.list_user_sessions("alice"), key=lambda s: s.key)

    assert listed == sorted(
        [
            BoundSession(key("a1"), owner(clock), clock.now - 30, clock.now, clock.now + 1800, version=1),
            BoundSession(
                key("a2"),
                owner(clock),
                clock.now - 30,
                clock.now,
                clock.now + 1800,
                clock.now + 600,
                version=1,
            ),
        ],
        key=lambda s: s.key,
    )
    assert await keys_of(user_store, "bob") == {key("b1")}
    assert await user_store.list_user_sessions("nobody") == []


async def test_expired_and_deleted_sessions_are_not_listed(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    await user_store.save(key("idle"), bound(clock, ttl=100), expected_version=None)
    await user_store.save(key("absolute"), bound(clock, absolute=150), expected_version=None)
    await user_store.save(key("gone"), bound(clock), expected_version=None)
    await user_store.save(key("live"), bound(clock), expected_version=None)
    await user_store.delete(key("gone"))
    assert await keys_of(user_store, "alice") == {key("idle"), key("absolute"), key("live")}
    clock.advance(100)
    assert await keys_of(user_store, "alice") == {key("absolute"), key("live")}
    clock.advance(50)
    assert await keys_of(user_store, "alice") == {key("live")}


async def test_last_activity_is_the_last_save_or_refresh(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    start = clock.now
    await user_store.save(key("a"), bound(clock), expected_version=None)
    clock.advance(100)
    assert await user_store.touch(key("a"), clock.now + 1800)
    (session,) = await user_store.list_user_sessions("alice")
    assert (session.active, session.expires, session.owner.since) == (start + 100, start + 1900, start)
    clock.advance(50)
    record = await user_store.load(key("a"))
    assert isinstance(record, SessionRecord)
    await user_store.save(
        key("a"),
        SessionRecord(b"{}", 2, record.created, clock.now + 1800, owner=record.owner),
        expected_version=1,
    )
    (session,) = await user_store.list_user_sessions("alice")
    assert session.active == start + 150


async def test_delete_sessions_removes_many_and_tolerates_missing(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    names = [f"s{n}" for n in range(30)]  # more than one BatchWriteItem holds
    for name in names:
        await user_store.save(key(name), bound(clock), expected_version=None)
    await user_store.delete_sessions([key(name) for name in names[:27]] + [key("never"), key("s0")])
    assert await keys_of(user_store, "alice") == {key(name) for name in names[27:]}
    assert await user_store.load(key("s1")) is None
    await user_store.delete_sessions([])


@pytest.mark.parametrize("user", ["a#b", "a%23b", "a%b", "#", "%", "%2523"])
async def test_user_ids_with_the_separator_or_escapes_are_kept_exactly(
    user_store: UserSessionStore, clock: FakeClock, user: str
) -> None:
    # Each is stored and listed as itself, never as one of its neighbours.
    users = ["a#b", "a%23b", "a%b", "#", "%", "%2523", "%23", "a"]
    for n, name in enumerate(users):
        await user_store.save(key(f"{n}"), bound(clock, name), expected_version=None)
    assert await keys_of(user_store, user) == {key(f"{users.index(user)}")}
    loaded = await user_store.load(key(f"{users.index(user)}"))
    assert isinstance(loaded, SessionRecord) and loaded.owner == owner(clock, user)


async def test_memory_store_is_a_user_session_store() -> None:
    assert isinstance(MemoryStore(), UserSessionStore)


async def test_dynamodb_listing_needs_the_user_index(dynamodb_store: DynamoDBStore) -> None:
    assert isinstance(dynamodb_store, UserSessionStore)
    with pytest.raises(ConfigurationError, match=r"user_index=True"):
        await dynamodb_store.list_user_sessions("alice")


async def test_dynamodb_bound_item_layout(
    indexed_store: IndexedStore, key_prefix: str, dynamodb_client: DynamoDBClient, clock: FakeClock
) -> None:
    store = indexed_store()
    await store.save(key("a"), bound(clock), expected_version=None)
    item = dynamodb_client.get_item(
        TableName=store.table_name, Key={"id": {"S": key_prefix + key("a")}}, ConsistentRead=True
    )["Item"]
    # The user attribute starts with the key prefix: the index's partition keys fall under the same
    # IAM LeadingKeys condition as the table's; "#" ends the prefix, so apps sharing a table keep
    # their users apart.
    assert (item["uid"], item["device"], item["bound"]) == (
        {"S": key_prefix + "#alice"},
        {"S": "Firefox on Linux"},
        {"N": str(clock.now)},
    )
    index = dynamodb_client.query(
        TableName=store.table_name,
        IndexName="user-sessions",
        KeyConditionExpression="uid = :u",
        ExpressionAttributeValues={":u": {"S": key_prefix + "#alice"}},
    )["Items"]
    assert index == [{"id": {"S": key_prefix + key("a")}, "uid": {"S": key_prefix + "#alice"}}]


async def test_dynamodb_prefixes_keep_users_apart(
    indexed_store: IndexedStore, key_prefix: str, clock: FakeClock
) -> None:
    one, other = indexed_store(), indexed_store(key_prefix="x" + key_prefix)
    await one.save(key("a"), bound(clock), expected_version=None)
    await other.save(key("b"), bound(clock), expected_version=None)
    assert await keys_of(one, "alice") == {key("a")}
    assert await keys_of(other, "alice") == {key("b")}


async def test_dynamodb_a_prefix_starting_with_another_keeps_its_users_apart(
    indexed_store: IndexedStore, key_prefix: str, clock: FakeClock
) -> None:
    # Two apps in one table, "dc:" and "dc:shop:": the main app's user "shop:alice" is not the
    # shop's "alice", in the listing nor in a delete of what was listed.
    main, shop = indexed_store(), indexed_store(key_prefix=key_prefix + "shop:")
    await main.save(key("main"), bound(clock, "shop:alice"), expected_version=None)
    await shop.save(key("shop"), bound(clock, "alice"), expected_version=None)
    assert await keys_of(main, "shop:alice") == {key("main")}
    assert await keys_of(shop, "alice") == {key("shop")}
    assert await keys_of(main, "alice") == set()
    assert await keys_of(shop, "shop:alice") == set()
    await main.delete_sessions(await keys_of(main, "shop:alice"))
    assert await keys_of(shop, "alice") == {key("shop")}
    loaded = await shop.load(key("shop"))
    assert isinstance(loaded, SessionRecord) and loaded.owner == owner(clock, "alice")


async def test_dynamodb_calls_go_through_the_transport(indexed_store: IndexedStore, clock: FakeClock) -> None:
    store = indexed_store()
    for n in range(3):
        await store.save(key(f"a{n}"), bound(clock), expected_version=None)
    counting = counting_transport(store)

    assert len(await store.list_user_sessions("alice")) == 3
    assert counting.calls == {"Query": 1, "BatchGetItem": 1}
    (_, batch) = counting.requests[1]
    # The session data is never read for a listing.
    assert "data" not in batch["RequestItems"][store.table_name]["ExpressionAttributeNames"].values()

    counting.calls.clear()
    await store.delete_sessions([key(f"a{n}") for n in range(3)])
    assert counting.calls == {"BatchWriteItem": 1}

    counting.calls.clear()
    assert await store.list_user_sessions("alice") == []
    assert counting.calls == {"Query": 1}  # nothing listed, nothing to fetch


async def test_dynamodb_consumed_capacity_of_batches_is_counted(
    indexed_store: IndexedStore, clock: FakeClock
) -> None:
    store = indexed_store(return_consumed_capacity=True)
    await store.save(key("a"), bound(clock), expected_version=None)
    assert store.consumed_capacity is not None
    store.consumed_capacity.reset()
    await store.list_user_sessions("alice")
    await store.delete_sessions([key("a")])
    totals = store.consumed_capacity.snapshot()
    assert totals.calls == {"Query": 1, "BatchGetItem": 1, "BatchWriteItem": 1}
    assert totals.read_units > 0 and totals.write_units > 0
