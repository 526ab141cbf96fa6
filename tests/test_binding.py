"""Client binding: a session answers only to the User-Agent and network it was created from."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import anyio
import pytest
from starlette.applications import Starlette
from starlette.requests import HTTPConnection
from starlette.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from dynsession import ClientBinding, ConfigurationError, SessionRecord, SessionStore
from dynsession._envelope.binding import fingerprint
from dynsession._envelope.cookies import store_key

from .items import cookie_value, issued_id, set_cookie
from .support import FakeClock, session_app
from .test_concurrency import RacingApp

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0"
CURL = "curl/8.9.1"


@pytest.fixture
def serve(store: SessionStore, clock: FakeClock) -> Iterator[Any]:
    """A TestClient on the session app behind ProxyHeadersMiddleware, so X-Forwarded-For sets the
    client address the way a trusted proxy would."""
    with ExitStack() as stack:

        def start(**options: Any) -> TestClient:
            app = behind_proxy(session_app(store, clock=clock, **options))
            return stack.enter_context(TestClient(app, base_url="https://testserver"))

        yield start


def behind_proxy(app: Starlette) -> Starlette:
    """Put uvicorn's ProxyHeadersMiddleware outside the session middleware, trusting every peer."""
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts="*")
    return app


def headers(cookie: str | None = None, agent: str | None = FIREFOX, ip: str | None = None) -> dict[str, str]:
    found = {}
    if cookie is not None:
        found["cookie"] = f"session={cookie}"
    if agent is not None:
        found["user-agent"] = agent
    if ip is not None:
        found["x-forwarded-for"] = ip
    return found


def create(client: TestClient, **sent: Any) -> tuple[str, str]:
    response = client.post("/update", json={"user": "ada"}, headers=headers(**sent))
    header = set_cookie(response)
    assert response.status_code == 200 and header is not None
    client.cookies.clear()
    return cookie_value(header), store_key(issued_id(response))


def view(client: TestClient, cookie: str, **sent: Any) -> dict[str, Any]:
    response = client.get("/view", headers=headers(cookie, **sent))
    assert response.status_code == 200
    data: dict[str, Any] = response.json()
    return data


def exists(store: SessionStore, key: str) -> bool:
    return anyio.run(store.load, key) is not None


def test_the_same_user_agent_keeps_the_session(serve: Any) -> None:
    client = serve(client_binding=ClientBinding())
    cookie, _ = create(client)
    client.post("/update", json={"cart": [1]}, headers=headers(cookie))
    assert view(client, cookie) == {"user": "ada", "cart": [1]}


def test_another_user_agent_gets_no_session_and_a_warning_without_the_id(
    serve: Any, store: SessionStore, caplog: pytest.LogCaptureFixture
) -> None:
    client = serve(client_binding=ClientBinding())
    cookie, key = create(client)
    with caplog.at_level(logging.WARNING, logger="dynsession"):
        assert view(client, cookie, agent=CURL) == {}
    assert "bound to another client" in caplog.text
    assert key[:8] in caplog.text and key not in caplog.text and cookie.split(".")[0] not in caplog.text
    # Without a callback the session itself is left alone: its own browser still has it.
    assert view(client, cookie) == {"user": "ada"}


def test_a_mismatched_write_starts_a_new_session_and_leaves_the_bound_one_alone(serve: Any) -> None:
    client = serve(client_binding=ClientBinding())
    cookie, _ = create(client)
    response = client.post("/update", json={"evil": 1}, headers=headers(cookie, agent=CURL))
    assert response.json() == {"evil": 1}
    other = set_cookie(response)
    assert other is not None and cookie_value(other) != cookie
    assert view(client, cookie) == {"user": "ada"}


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_callback_decides_to_end_the_session(serve: Any, store: SessionStore, asynchronous: bool) -> None:
    seen: list[str | None] = []

    def decide(connection: HTTPConnection) -> bool:
        seen.append(connection.headers.get("user-agent"))
        return True

    async def decide_async(connection: HTTPConnection) -> bool:
        return decide(connection)

    client = serve(client_binding=ClientBinding(on_mismatch=decide_async if asynchronous else decide))
    cookie, key = create(client)
    assert view(client, cookie) == {"user": "ada"}
    assert seen == []  # a match never asks
    assert view(client, cookie, agent=CURL) == {}
    assert seen == [CURL]
    assert not exists(store, key)
    assert view(client, cookie) == {}


def test_a_callback_answering_false_keeps_the_session(serve: Any, store: SessionStore) -> None:
    client = serve(client_binding=ClientBinding(on_mismatch=lambda connection: False))
    cookie, key = create(client)
    assert view(client, cookie, agent=CURL) == {}
    assert exists(store, key)


def test_a_missing_user_agent_is_a_property_of_its_own(serve: Any) -> None:
    client = serve(client_binding=ClientBinding())
    bound, _ = create(client)
    assert view(client, bound, agent=None) == {}
    anonymous, _ = create(client, agent=None)
    assert view(client, anonymous, agent=None) == {"user": "ada"}
    assert view(client, anonymous) == {}


def test_the_network_prefix_allows_moves_inside_it_and_refuses_others(serve: Any) -> None:
    client = serve(client_binding=ClientBinding(user_agent=False, ipv4_prefix=24, ipv6_prefix=64))
    cookie, _ = create(client, ip="203.0.113.7")
    assert view(client, cookie, ip="203.0.113.200") == {"user": "ada"}
    assert view(client, cookie, ip="::ffff:203.0.113.9") == {"user": "ada"}  # IPv4-mapped
    assert view(client, cookie, ip="203.0.114.7") == {}
    assert view(client, cookie, ip="2001:db8::1") == {}
    assert view(client, cookie, agent=CURL, ip="203.0.113.9") == {"user": "ada"}  # the agent is not bound
    six, _ = create(client, ip="2001:db8:0:1::5")
    assert view(client, six, ip="2001:db8:0:1:ffff::9") == {"user": "ada"}
    assert view(client, six, ip="2001:db8:0:2::5") == {}


def test_a_missing_client_address_does_not_match_a_known_one(store: SessionStore, clock: FakeClock) -> None:
    # Without ProxyHeadersMiddleware, TestClient's scope names the client "testclient": no address.
    app = session_app(store, clock=clock, client_binding=ClientBinding(ipv4_prefix=24))
    with TestClient(behind_proxy(app), base_url="https://testserver") as via_proxy:
        cookie, _ = create(via_proxy, ip="198.51.100.4")
    plain = session_app(store, clock=clock, client_binding=ClientBinding(ipv4_prefix=24))
    with TestClient(plain, base_url="https://testserver") as direct:
        assert view(direct, cookie) == {}
        unknown, _ = create(direct)
        assert view(direct, unknown) == {"user": "ada"}


def test_binding_only_the_ipv4_family_refuses_a_switch_to_ipv6(serve: Any) -> None:
    client = serve(client_binding=ClientBinding(user_agent=False, ipv4_prefix=16))
    cookie, _ = create(client, ip="192.0.2.1")
    assert view(client, cookie, ip="192.0.99.1") == {"user": "ada"}
    assert view(client, cookie, ip="2001:db8::1") == {}
    six, _ = create(client, ip="2001:db8::1")
    assert view(client, six, ip="2001:db8:ffff::1") == {"user": "ada"}


def test_the_store_keeps_a_keyed_fingerprint_not_the_properties(serve: Any, store: SessionStore) -> None:
    client = serve(client_binding=ClientBinding(ipv4_prefix=24))
    first, first_key = create(client, ip="203.0.113.7")
    _, second_key = create(client, ip="203.0.113.7")
    one, two = anyio.run(store.load, first_key), anyio.run(store.load, second_key)
    assert (
        isinstance(one, SessionRecord)
        and isinstance(two, SessionRecord)
        and one.binding is not None
        and two.binding is not None
    )
    assert len(one.binding) == 32 and one.binding != two.binding  # keyed by each session's own ID
    assert b"Firefox" not in one.binding and b"203.0.113" not in one.binding
    session_id = first.rpartition(".")[0]
    assert one.binding == fingerprint(session_id, f"ua={FIREFOX}\nnet=v4:cb0071/24".encode())


def test_an_unbound_session_is_refused_once_binding_is_on(
    store: SessionStore, clock: FakeClock, serve: Any
) -> None:
    with TestClient(session_app(store, clock=clock), base_url="https://testserver") as plain:
        cookie, _ = create(plain)
    assert view(serve(client_binding=ClientBinding()), cookie) == {}


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_a_new_id_on_login_stays_bound(
    store: SessionStore, clock: FakeClock, anyio_backend: str
) -> None:
    racing = RacingApp(store, clock, client_binding=ClientBinding())
    async with racing.client() as client:
        client.headers["user-agent"] = FIREFOX
        await client.post("/update", json={"seed": 1})
        login = await client.post("/login")
        assert login.status_code == 200 and "set-cookie" in login.headers
        assert (await client.get("/view")).json() == {"seed": 1, "user": "ada"}
        assert (await client.get("/view", headers={"user-agent": CURL})).json() == {}


@pytest.mark.parametrize(
    "options",
    [
        {"user_agent": False},
        {"ipv4_prefix": 33},
        {"ipv6_prefix": -1},
        {"ipv4_prefix": True},
        {"on_mismatch": "end"},
    ],
)
def test_bad_bindings_fail_when_built(options: dict[str, Any]) -> None:
    with pytest.raises(ConfigurationError, match="client_binding"):
        ClientBinding(**options)


def test_client_binding_must_be_a_client_binding(store: SessionStore) -> None:
    with pytest.raises(ConfigurationError, match="client_binding"):
        session_app(store, client_binding={"user_agent": True}).build_middleware_stack()
