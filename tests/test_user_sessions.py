"""A user's sessions through the middleware, on every store: bind at login, list (current marked,
expired left out), sign out one, all or all others, the per-user cap, and what cannot be done."""

from __future__ import annotations

from typing import TYPE_CHECKING

import anyio
import pytest

from dynsession import (
    ConfigurationError,
    DynamoDBStore,
    MemoryStore,
    SessionMiddleware,
    SessionRecord,
    UserSessionStore,
    list_user_sessions,
    revoke_user_sessions,
)
from dynsession._envelope.cookies import CookieSigner, store_key

from .devices_app import (
    CHROME_WINDOWS,
    FIREFOX_LINUX,
    SAFARI_IPHONE,
    device,
    devices_app,
    listed,
    sign_in,
    user_of,
)
from .items import is_expiry, set_cookie
from .support import SECRET, FakeClock

if TYPE_CHECKING:
    from starlette.testclient import TestClient
    from starlette.types import Receive, Scope, Send


def stored_owner(store: UserSessionStore, client: TestClient) -> tuple[str, str] | None:
    session_id = CookieSigner(SECRET).unsign(client.cookies["session"])
    assert session_id is not None
    record = anyio.run(store.load, store_key(session_id.session_id))
    assert isinstance(record, SessionRecord)
    return None if record.owner is None else (record.owner.user_id, record.owner.device)


def test_login_binds_the_session_to_the_user(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    laptop = device(app)
    assert user_of(laptop) is None
    sign_in(laptop)
    assert user_of(laptop) == "alice"
    assert stored_owner(user_store, laptop) == ("alice", "Firefox on Linux")
    # Bound items keep the user beside the data, never inside it.
    assert laptop.get("/me").json()["session"] == {"signed_in_as": "alice"}


def test_list_marks_the_current_session_and_names_each_device(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    app = devices_app(user_store, clock=clock)
    laptop, phone = device(app, FIREFOX_LINUX), device(app, SAFARI_IPHONE)
    start = clock.now
    sign_in(laptop)
    clock.advance(100)
    sign_in(phone, device="Alice's phone")

    from_laptop, from_phone = listed(laptop), listed(phone)

    assert [(s["device"], s["current"]) for s in from_laptop] == [
        ("Firefox on Linux", True),
        ("Alice's phone", False),
    ]
    assert [(s["device"], s["current"]) for s in from_phone] == [
        ("Alice's phone", True),
        ("Firefox on Linux", False),
    ]
    laptop_entry = from_laptop[0]
    assert laptop_entry == {
        "handle": laptop_entry["handle"],
        "device": "Firefox on Linux",
        "created": start,
        "signed_in": start,
        "last_active": start,
        "expires": start + 1800,
        "absolute_deadline": None,
        "current": True,
    }
    handles = {s["handle"] for s in from_laptop}
    assert handles == {s["handle"] for s in from_phone} and len(handles) == 2
    assert all(len(handle) == 22 for handle in handles)


def test_expired_sessions_are_not_listed(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock, idle_timeout=1800, refresh_after=60)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    clock.advance(1000)
    assert len(listed(laptop)) == 2  # this read also refreshes the laptop's deadline
    clock.advance(800)  # the phone's idle deadline has passed; its item may linger until TTL removes it
    sessions = listed(laptop)
    assert [s["device"] for s in sessions] == ["Firefox on Linux"]
    assert sessions[0]["last_active"] == sessions[0]["expires"] - 1800 == clock.now - 800


def test_absolute_deadline_is_listed_and_ends_the_listing(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    app = devices_app(user_store, clock=clock, absolute_timeout=600)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    clock.advance(300)
    sign_in(phone)
    assert [s["absolute_deadline"] for s in listed(phone)] == [clock.now + 600, clock.now + 300]
    clock.advance(300)
    assert [s["device"] for s in listed(phone)] == ["Safari on iOS"]


def test_revoke_one_ends_that_session_only(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    phone_handle = next(s["handle"] for s in listed(laptop) if not s["current"])

    assert laptop.post("/revoke", params={"handle": phone_handle}).json() == {"ended": 1}

    answer = phone.get("/me")
    assert answer.json() == {"session": {}, "user_id": None}
    assert set_cookie(answer) is None  # the dead cookie is not adopted, nor expired
    assert user_of(laptop) == "alice"
    assert [s["current"] for s in listed(laptop)] == [True]
    assert laptop.post("/revoke", params={"handle": phone_handle}).json() == {"ended": 0}
    # The signed-out device's next write starts a brand-new, unbound session.
    written = phone.post("/write")
    assert set_cookie(written) is not None and user_of(phone) is None


def test_revoking_the_own_handle_ends_this_session(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    laptop = device(app)
    sign_in(laptop)
    (own,) = listed(laptop)
    response = laptop.post("/revoke", params={"handle": own["handle"]})
    assert response.json() == {"ended": 1}
    assert is_expiry(set_cookie(response))
    assert anyio.run(list_user_sessions, user_store, "alice") == []


def test_revoke_other_sessions_keeps_only_the_current_one(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    app = devices_app(user_store, clock=clock)
    laptop, phone, desktop = device(app), device(app, SAFARI_IPHONE), device(app, CHROME_WINDOWS)
    for client in (laptop, phone, desktop):
        sign_in(client)

    assert laptop.post("/revoke-others").json() == {"ended": 2}

    assert (user_of(laptop), user_of(phone), user_of(desktop)) == ("alice", None, None)
    assert [s["device"] for s in listed(laptop)] == ["Firefox on Linux"]
    assert laptop.post("/revoke-others").json() == {"ended": 0}


def test_revoke_all_from_the_store_ends_every_session(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    laptop, phone, bob = device(app), device(app, SAFARI_IPHONE), device(app)
    sign_in(laptop)
    sign_in(phone)
    sign_in(bob, "bob")

    assert anyio.run(revoke_user_sessions, user_store, "alice") == 2

    assert (user_of(laptop), user_of(phone), user_of(bob)) == (None, None, "bob")
    assert anyio.run(revoke_user_sessions, user_store, "alice") == 0


def test_logout_removes_the_session_from_the_list(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    assert is_expiry(set_cookie(phone.post("/logout")))
    assert [s["device"] for s in listed(laptop)] == ["Firefox on Linux"]


def test_cap_ends_the_least_recently_active_sessions(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock, max_sessions_per_user=2)
    laptop, phone, desktop = device(app), device(app, SAFARI_IPHONE), device(app, CHROME_WINDOWS)
    sign_in(laptop)
    clock.advance(10)
    sign_in(phone)
    clock.advance(10)
    laptop.post("/write")  # the laptop is now more recently active than the phone
    clock.advance(10)

    sign_in(desktop)

    assert (user_of(laptop), user_of(phone), user_of(desktop)) == ("alice", None, "alice")
    assert sorted(s["device"] for s in listed(desktop)) == ["Chrome on Windows", "Firefox on Linux"]
    # Signing in again on a device replaces its own session, which does not count against the cap.
    sign_in(laptop)
    assert (user_of(laptop), user_of(desktop)) == ("alice", "alice")
    assert len(listed(laptop)) == 2


def test_cap_of_one_signs_out_everywhere_else(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock, max_sessions_per_user=1)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    assert (user_of(laptop), user_of(phone)) == (None, "alice")


def test_handles_cannot_be_used_as_cookies(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    laptop, phone = device(app), device(app, SAFARI_IPHONE)
    sign_in(laptop)
    sign_in(phone)
    handles = [s["handle"] for s in listed(laptop)]
    signer = CookieSigner(SECRET)
    session_ids = [signer.unsign(client.cookies["session"]).session_id for client in (laptop, phone)]  # type: ignore[union-attr]
    for handle in handles:
        assert all(handle not in value for value in (*session_ids, *map(store_key, session_ids)))
        for forged in (handle, signer.sign(handle), f"{handle}.{handle}"):
            thief = device(app)
            thief.cookies.set("session", forged)
            answer = thief.get("/me")
            assert answer.json() == {"session": {}, "user_id": None}
            assert listed(thief) == []


def test_another_users_sessions_cannot_be_listed_or_ended(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    app = devices_app(user_store, clock=clock)
    alice, bob = device(app), device(app, SAFARI_IPHONE)
    sign_in(alice)
    sign_in(bob, "bob")
    (alice_entry,) = listed(alice)

    assert [s["device"] for s in listed(bob)] == ["Safari on iOS"]
    assert bob.post("/revoke", params={"handle": alice_entry["handle"]}).json() == {"ended": 0}
    assert bob.post("/revoke-others").json() == {"ended": 0}
    assert user_of(alice) == "alice" and listed(alice) == [alice_entry]


def test_an_unbound_session_has_no_devices(user_store: UserSessionStore, clock: FakeClock) -> None:
    app = devices_app(user_store, clock=clock)
    anonymous, alice = device(app), device(app)
    sign_in(alice)
    anonymous.post("/write")
    handle = listed(alice)[0]["handle"]
    assert listed(anonymous) == []
    assert anonymous.post("/revoke", params={"handle": handle}).json() == {"ended": 0}
    assert anonymous.post("/revoke-others").json() == {"ended": 0}
    assert user_of(alice) == "alice"


def test_binding_survives_writes_and_moves_and_follows_a_new_login(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    app = devices_app(user_store, clock=clock)
    laptop = device(app)
    sign_in(laptop)
    (before,) = listed(laptop)
    clock.advance(5)
    laptop.post("/write")
    (written,) = listed(laptop)
    assert written["handle"] == before["handle"] and written["last_active"] == before["last_active"] + 5
    laptop.post("/move")  # a new ID, the same user
    (moved,) = listed(laptop)
    assert moved["handle"] != before["handle"]
    assert (moved["signed_in"], moved["device"], user_of(laptop)) == (
        before["signed_in"],
        "Firefox on Linux",
        "alice",
    )
    sign_in(laptop, "bob")
    assert anyio.run(list_user_sessions, user_store, "alice") == []
    assert [s["current"] for s in listed(laptop)] == [True] and user_of(laptop) == "bob"


def test_a_login_with_nothing_in_the_session_is_stored(
    user_store: UserSessionStore, clock: FakeClock
) -> None:
    app = devices_app(user_store, clock=clock)
    laptop = device(app)
    response = laptop.post("/login", params={"user": "alice", "empty": "1"})
    assert set_cookie(response) is not None
    assert laptop.get("/me").json() == {"session": {}, "user_id": "alice"}
    assert len(listed(laptop)) == 1


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"user": ""}, "user_id must be a non-empty string"),
        ({"user": "é" * 257}, "at most 512 bytes"),
        ({"user": "alice", "device": "x" * 65}, "at most 64 printable characters"),
        ({"user": "alice", "device": "\x1b]0;pwned\x07"}, "printable characters"),
        ({"user": "alice", "device": "   "}, "device must be a non-empty string"),
    ],
)
def test_bad_binding_arguments_raise_before_anything_is_written(params: dict[str, str], message: str) -> None:
    store = MemoryStore()
    client = device(devices_app(store))
    with pytest.raises(ValueError, match=message):
        client.post("/login", params=params)
    assert len(store) == 0


def test_a_device_label_without_a_user_is_an_error() -> None:
    from starlette.requests import Request

    from dynsession import regenerate_session
    from dynsession._request.session import STATE_KEY, RequestSession, Timing

    scope = {"type": "http", "headers": [], STATE_KEY: RequestSession(Timing(lambda: 0, 10, None, 1))}
    with pytest.raises(ValueError, match="pass user_id too"):
        regenerate_session(Request(scope), device="phone")


async def nothing(scope: Scope, receive: Receive, send: Send) -> None:
    raise AssertionError("never called")


@pytest.mark.parametrize("cap", [0, -1, True, "2", 1.5])
def test_cap_must_be_a_positive_whole_number(cap: object) -> None:
    with pytest.raises(ConfigurationError, match="max_sessions_per_user"):
        SessionMiddleware(nothing, store=MemoryStore(), secret_key=SECRET, max_sessions_per_user=cap)  # type: ignore[arg-type]


def test_cap_needs_a_store_that_finds_sessions_by_user(dynamodb_store: DynamoDBStore) -> None:
    with pytest.raises(ConfigurationError, match=r"user_index=True"):
        SessionMiddleware(nothing, store=dynamodb_store, secret_key=SECRET, max_sessions_per_user=3)


def test_listing_without_the_user_index_is_a_configuration_error(
    dynamodb_store: DynamoDBStore, clock: FakeClock
) -> None:
    laptop = device(devices_app(dynamodb_store, clock=clock))
    sign_in(laptop)  # binding itself needs no index
    assert user_of(laptop) == "alice"
    with pytest.raises(ConfigurationError, match=r"user_index=True"):
        laptop.get("/sessions")
