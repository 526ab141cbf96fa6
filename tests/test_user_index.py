"""The user index on DynamoDB: the calls each operation makes, and the password-change case, where
the eventually consistent index may not list a session bound a moment before a revoke."""

from __future__ import annotations

import anyio
import pytest

from dynsession import (
    DynamoDBStore,
    MemoryStore,
    SessionOwner,
    SessionRecord,
    list_user_sessions,
    revoke_user_sessions,
)
from dynsession._envelope.cookies import CookieSigner, store_key

from .conftest import IndexedStore
from .devices_app import SAFARI_IPHONE, device, devices_app, listed, sign_in, user_of
from .support import SECRET, FakeClock
from .transports import counting_transport, lagging_index


@pytest.fixture
def indexed(indexed_store: IndexedStore) -> DynamoDBStore:
    return indexed_store()


def table_key(store: DynamoDBStore, cookie: str) -> str:
    parsed = CookieSigner(SECRET).unsign(cookie)
    assert parsed is not None
    return store.key_prefix + store_key(parsed.session_id)


# -- the password-change case --------------------------------------------------------------------


def test_a_session_the_index_has_not_caught_up_with_survives_a_plain_revoke(
    indexed: DynamoDBStore, clock: FakeClock
) -> None:
    app = devices_app(indexed, clock=clock)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    lagging = lagging_index(indexed)
    lagging.hide(table_key(indexed, phone.cookies["session"]), queries=1)

    # The documented window: the phone signed in a moment before, and the index did not list it.
    assert anyio.run(revoke_user_sessions, indexed, "alice") == 1
    assert (user_of(laptop), user_of(phone)) == (None, "alice")


def test_recheck_after_ends_a_session_the_index_listed_late(indexed: DynamoDBStore, clock: FakeClock) -> None:
    app = devices_app(indexed, clock=clock)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    lagging = lagging_index(indexed)
    lagging.hide(table_key(indexed, phone.cookies["session"]), queries=1)
    started = clock.now
    later = SessionRecord(
        b"{}", 1, started, started + 1800, owner=SessionOwner("alice", "Tablet", started + 1)
    )

    async def sign_in_on_a_tablet_after_the_revoke_began() -> None:
        if lagging.queries == 1:  # between the first and the second listing
            clock.advance(1)
            await indexed.save("tablet", later, expected_version=None)

    lagging.before_query = sign_in_on_a_tablet_after_the_revoke_began

    async def revoke() -> int:
        return await revoke_user_sessions(indexed, "alice", recheck_after=0.01, clock=clock)

    assert anyio.run(revoke) == 2
    assert lagging.queries == 2
    assert (user_of(laptop), user_of(phone)) == (None, None)
    # A session bound after the password change started is a new login, and stays.
    assert [s.device for s in anyio.run(list_user_sessions, indexed, "alice")] == ["Tablet"]


def test_sign_out_other_devices_with_recheck(indexed: DynamoDBStore, clock: FakeClock) -> None:
    app = devices_app(indexed, clock=clock)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    phone_key = table_key(indexed, phone.cookies["session"])
    lagging = lagging_index(indexed)

    lagging.hide(phone_key, queries=1)
    assert laptop.post("/revoke-others").json() == {"ended": 0}
    assert user_of(phone) == "alice"

    lagging.hide(phone_key, queries=1)
    assert laptop.post("/revoke-others", params={"recheck": "0.01"}).json() == {"ended": 1}
    assert (user_of(laptop), user_of(phone)) == ("alice", None)


def test_recheck_is_for_ending_all_sessions() -> None:
    store = MemoryStore()
    with pytest.raises(ValueError, match="recheck_after"):
        anyio.run(lambda: revoke_user_sessions(store, "alice", handles=["h"], recheck_after=1.0))
    with pytest.raises(ValueError, match="recheck_after"):
        anyio.run(lambda: revoke_user_sessions(store, "alice", recheck_after=-1))


# -- calls ---------------------------------------------------------------------------------------


def test_binding_costs_no_extra_call_and_refreshes_leave_the_index_alone(
    indexed: DynamoDBStore, clock: FakeClock
) -> None:
    app = devices_app(indexed, clock=clock, refresh_after=60)
    laptop = device(app)
    laptop.post("/write")
    counting = counting_transport(indexed)

    sign_in(laptop)
    # As any regenerate: the new item, then the old ID's moved-by-login marker.
    assert counting.calls == {"GetItem": 1, "PutItem": 2}

    counting.calls.clear()
    counting.requests.clear()
    clock.advance(61)
    laptop.get("/me")
    assert counting.calls == {"GetItem": 1, "UpdateItem": 1}
    (_, update) = counting.requests[1]
    # Only attributes the KEYS_ONLY index does not hold: the refresh is no index write.
    assert set(update["ExpressionAttributeNames"].values()) == {"ttl", "seen", "ver"}


def test_listing_and_revoking_calls(indexed: DynamoDBStore, clock: FakeClock) -> None:
    app = devices_app(indexed, clock=clock)
    clients = [device(app) for _ in range(3)]
    for client in clients:
        sign_in(client)
    counting = counting_transport(indexed)

    assert len(listed(clients[0])) == 3
    assert counting.calls == {"GetItem": 1, "Query": 1, "BatchGetItem": 1}

    counting.calls.clear()
    assert clients[0].post("/revoke-others").json() == {"ended": 2}
    # Two sessions ended by a delete each, conditional on the version the listing read (so a
    # session renewed since is followed to its new ID).
    assert counting.calls == {"GetItem": 1, "Query": 1, "BatchGetItem": 1, "DeleteItem": 2}


def test_a_capped_login_lists_first_and_evicts_with_one_delete(
    indexed: DynamoDBStore, clock: FakeClock
) -> None:
    store = indexed
    app = devices_app(store, clock=clock, max_sessions_per_user=2)
    first, second, third = device(app), device(app), device(app)
    counting = counting_transport(store)
    sign_in(first)
    assert counting.calls == {"Query": 1, "PutItem": 1}  # nobody to fetch, nobody to evict
    clock.advance(5)
    sign_in(second)
    counting.calls.clear()

    sign_in(third)

    assert counting.calls == {"Query": 1, "BatchGetItem": 1, "DeleteItem": 1, "PutItem": 1}
    assert (user_of(first), user_of(second), user_of(third)) == (None, "alice", "alice")


def test_the_created_index_is_sparse_and_keys_only(indexed: DynamoDBStore, clock: FakeClock) -> None:
    description = indexed.client.describe_table(TableName=indexed.table_name)["Table"]
    (index,) = description["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "user-sessions"
    assert index["KeySchema"] == [{"AttributeName": "uid", "KeyType": "HASH"}]
    assert index["Projection"] == {"ProjectionType": "KEYS_ONLY"}
    app = devices_app(indexed, clock=clock)
    anonymous, alice = device(app), device(app)
    anonymous.post("/write")
    sign_in(alice)
    prefix = indexed.key_prefix
    scanned = indexed.client.scan(TableName=indexed.table_name, IndexName="user-sessions")["Items"]
    mine = [item for item in scanned if item["id"]["S"].startswith(prefix)]
    assert mine == [
        {"id": {"S": table_key(indexed, alice.cookies["session"])}, "uid": {"S": prefix + "#alice"}}
    ]
