"""The session lifecycle: refresh, timeouts, regenerate, end, metadata, key rotation, headers, logs."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import anyio.to_thread
import boto3
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from dynsession import (
    ConfigurationError,
    DynamoDBStore,
    MovedRecord,
    SessionMiddleware,
    SessionStore,
    StoreUnavailable,
    end_session,
    regenerate_session,
    session_info,
)
from dynsession._envelope.cookies import CookieSigner

from .items import Inspector, RecordingClient, cookie_value, is_expiry, issued_id, set_cookie
from .support import SECRET, CountingStore, FakeClock, session_app

IDLE = 1800
Serve = Callable[..., TestClient]


def lifecycle_app(store: SessionStore, inspector: Inspector | None = None, **options: Any) -> Starlette:
    """``support.session_app`` plus login/logout/info endpoints and failing handlers."""
    app = session_app(store, **options)

    async def login(request: Request) -> Response:
        regenerate_session(request, fresh_start="fresh" in request.query_params)
        request.session["user"] = "ada"
        return PlainTextResponse("welcome")

    async def logout(request: Request) -> Response:
        end_session(request)
        request.session["flash"] = "written after end_session"
        return PlainTextResponse("bye")

    async def info(request: Request) -> Response:
        return JSONResponse(dataclasses.asdict(session_info(request)))

    async def fail(request: Request) -> Response:
        request.session["n"] = "from a failing request"
        return PlainTextResponse("broken", status_code=int(request.query_params.get("status", "500")))

    async def crash(request: Request) -> Response:
        request.session["n"] = "from a crashing request"
        raise RuntimeError("handler bug")

    async def vanish(request: Request) -> Response:
        # Another request (a logout elsewhere) deletes the item while this one is running.
        assert inspector is not None
        data = dict(request.session)
        signed = request.cookies["session"]
        await anyio.to_thread.run_sync(inspector.delete, signed.rpartition(".")[0])
        return JSONResponse(data)

    async def cached(request: Request) -> Response:
        request.session["seen"] = True
        return PlainTextResponse(
            "ok", headers={"cache-control": "private, max-age=60", "vary": "Accept-Encoding"}
        )

    app.router.routes.extend(
        [
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/info", info),
            Route("/fail", fail, methods=["POST"]),
            Route("/crash", crash, methods=["POST"]),
            Route("/vanish", vanish),
            Route("/cached", cached, methods=["POST"]),
        ]
    )
    return app


@pytest.fixture
def items(store: SessionStore, request: pytest.FixtureRequest) -> Inspector:
    return Inspector.for_store(store, request)


@pytest.fixture
def serve(counting: CountingStore, clock: FakeClock, items: Inspector) -> Iterator[Serve]:
    with ExitStack() as stack:

        def start(**options: Any) -> TestClient:
            options.setdefault("clock", clock)
            app = lifecycle_app(counting, items, **options)
            client = TestClient(app, base_url="https://testserver", raise_server_exceptions=False)
            return stack.enter_context(client)

        yield start


def begin(client: TestClient, counting: CountingStore, data: dict[str, Any] | None = None) -> str:
    session_id = issued_id(client.post("/update", json=data or {"cart": ["apple"]}))
    counting.reset()
    return session_id


def signed_cookie(session_id: str, secret: str = SECRET) -> dict[str, str]:
    return {"cookie": f"session={CookieSigner(secret).sign(session_id)}"}


# -- sliding idle timeout ------------------------------------------------------------------------


def test_read_only_requests_refresh_the_ttl_only_when_due(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve()  # idle 1800 s, so refresh_after defaults to 60 s
    session_id = begin(client, counting)
    created = items.item(session_id)
    assert created is not None

    clock.advance(60)
    response = client.get("/view")
    assert counting.calls == ["load"]
    assert set_cookie(response) is None
    assert items.item(session_id) == created

    counting.reset()
    clock.advance(1)
    response = client.get("/view")
    assert response.json() == {"cart": ["apple"]}
    assert counting.calls == ["load", "touch"]
    assert set_cookie(response) is None  # a browser-session cookie needs no re-send
    refreshed = items.item(session_id)
    assert refreshed is not None
    assert abs(refreshed.ttl - (clock.now + IDLE)) <= 2
    assert refreshed.data == created.data  # byte for byte
    assert (refreshed.version, refreshed.created) == (created.version, created.created)

    counting.reset()
    client.get("/view")
    assert counting.calls == ["load"]


def test_refresh_is_a_conditional_ttl_only_update_item(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    recording = RecordingClient(boto3.client("dynamodb", endpoint_url=dynamodb_endpoint))
    store = DynamoDBStore(table_name, client=recording, key_prefix=key_prefix, clock=clock)  # type: ignore[arg-type]
    with TestClient(session_app(store, clock=clock), base_url="https://testserver") as client:
        client.post("/update", json={"a": 1})
        clock.advance(61)
        recording.calls.clear()
        client.get("/view")
    ((name, _, update),) = [call for call in recording.calls if call[0] != "get_item"]
    assert name == "update_item"
    # The idle deadline and the last-activity stamp (a user's session list shows it); never the data.
    assert update["UpdateExpression"] == "SET #t = :t, #s = :s"
    assert (update["ExpressionAttributeNames"]["#t"], update["ExpressionAttributeNames"]["#s"]) == (
        "ttl",
        "seen",
    )
    assert update["ExpressionAttributeValues"] == {
        ":t": {"N": str(clock.now + IDLE)},
        ":s": {"N": str(clock.now)},
    }
    # A session item (it has a version), not a moved ID's marker, whose grace window must not grow.
    assert update["ConditionExpression"] == "attribute_exists(#v)"
    assert update["ExpressionAttributeNames"]["#v"] == "ver"


def test_default_refresh_after_is_a_tenth_of_a_short_idle_timeout(
    serve: Serve, counting: CountingStore, clock: FakeClock
) -> None:
    client = serve(idle_timeout=100)
    begin(client, counting)
    clock.advance(10)
    client.get("/view")
    assert counting.calls == ["load"]
    clock.advance(1)
    client.get("/view")
    assert counting.calls == ["load", "load", "touch"]


def test_refresh_after_zero_refreshes_every_read(serve: Serve, counting: CountingStore) -> None:
    client = serve(refresh_after=0)
    begin(client, counting)
    client.get("/view")
    client.get("/view")
    assert counting.calls == ["load", "touch", "load", "touch"]


def test_refresh_resends_a_cookie_that_has_a_max_age(
    serve: Serve, counting: CountingStore, clock: FakeClock
) -> None:
    client = serve(max_age=3600)
    first = set_cookie(client.post("/update", json={"a": 1}))
    assert first is not None and "Max-Age=3600" in first
    clock.advance(61)
    response = client.get("/view")
    header = set_cookie(response)
    assert header is not None and "Max-Age=3600" in header
    assert cookie_value(header) == cookie_value(first)
    assert response.headers["cache-control"] == "no-store"
    # Within refresh_after nothing is written, so nothing is re-sent.
    assert set_cookie(client.get("/view")) is None


def test_refresh_racing_a_deletion_leaves_no_item(
    serve: Serve,
    counting: CountingStore,
    items: Inspector,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = serve()
    session_id = begin(client, counting)
    clock.advance(61)
    with caplog.at_level(logging.INFO, logger="dynsession"):
        response = client.get("/vanish")
    assert response.json() == {"cart": ["apple"]}
    assert counting.calls == ["load", "touch"]
    assert items.item(session_id) is None  # no stub item carrying only a TTL
    assert set_cookie(response) is None  # whoever deleted it set the cookie the browser should keep
    assert any("vanished" in record.getMessage() for record in caplog.records)


def test_read_after_deletion_does_not_refresh(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve()
    session_id = begin(client, counting)
    items.delete(session_id)
    clock.advance(61)
    assert client.get("/view").json() == {}
    assert counting.calls == ["load"]
    assert items.item(session_id) is None


# -- absolute timeout ------------------------------------------------------------------------------


def test_absolute_timeout_ends_a_session_in_constant_use(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve(idle_timeout=120, absolute_timeout=300, refresh_after=0)
    start = clock.now
    session_id = begin(client, counting, {"n": 0})
    item = items.item(session_id)
    assert item is not None and (item.absolute, item.ttl, item.created) == (start + 300, start + 120, start)

    for step in range(1, 6):
        clock.advance(50)
        assert client.get("/view").json()["n"] == step - 1
        client.post("/update", json={"n": step})
        item = items.item(session_id)
        assert item is not None
        assert item.ttl == min(clock.now + 120, start + 300)
    assert clock.now == start + 250

    clock.advance(49)
    assert client.get("/view").json() == {"n": 5}
    counting.reset()
    clock.advance(1)
    response = client.get("/view")
    assert response.json() == {}
    assert counting.calls == ["load"]
    assert set_cookie(response) is None  # the dead session's cookie is ignored, never resent


def test_absolute_timeout_applies_to_sessions_created_before_it_was_configured(
    counting: CountingStore, clock: FakeClock
) -> None:
    with TestClient(session_app(counting, clock=clock), base_url="https://testserver") as before:
        session_id = issued_id(before.post("/update", json={"a": 1}))
    clock.advance(300)
    app = session_app(counting, clock=clock, absolute_timeout=300, refresh_after=0)
    with TestClient(app, base_url="https://testserver") as after:
        assert after.get("/view", headers=signed_cookie(session_id)).json() == {}


# -- regenerate -----------------------------------------------------------------------------------


def test_regenerate_moves_the_data_to_a_new_id(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve(absolute_timeout=3600)
    start = clock.now
    old = begin(client, counting, {"cart": ["apple"]})
    old_cookie = client.cookies["session"]
    clock.advance(10)

    response = client.post("/login")
    assert counting.calls == ["load", "save", "move"]
    new = issued_id(response)
    assert new != old
    assert cookie_value(set_cookie(response) or "") != old_cookie
    assert items.item(old) is None
    # The marker names the new item's store key (never its ID), for a racing logout to follow.
    successor = hashlib.sha256(new.encode()).hexdigest()
    assert items.moved(old) == MovedRecord("privilege", clock.now + 30, successor=successor)
    item = items.item(new)
    assert item is not None
    assert json.loads(item.data) == {"cart": ["apple"], "user": "ada"}
    assert (item.created, item.absolute, item.version) == (start, start + 3600, 1)
    assert client.get("/view").json() == {"cart": ["apple"], "user": "ada"}

    counting.reset()
    stale = client.get("/view", headers={"cookie": f"session={old_cookie}"})
    assert stale.json() == {}
    assert counting.calls == ["load"]


def test_regenerate_with_fresh_start_resets_the_creation_time(
    serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    client = serve(absolute_timeout=3600)
    begin(client, counting)
    clock.advance(100)
    new = issued_id(client.post("/login?fresh=1"))
    item = items.item(new)
    assert item is not None and (item.created, item.absolute) == (clock.now, clock.now + 3600)


def test_regenerate_without_a_session_just_creates_one(serve: Serve, counting: CountingStore) -> None:
    response = serve().post("/login")
    assert counting.calls == ["save"]
    issued_id(response)


# -- end session -----------------------------------------------------------------------------------


def test_end_session_deletes_the_item_and_expires_the_cookie(
    serve: Serve, counting: CountingStore, items: Inspector
) -> None:
    client = serve()
    session_id = begin(client, counting)
    old_cookie = client.cookies["session"]

    response = client.post("/logout")
    assert counting.calls == ["load", "delete"]
    assert is_expiry(set_cookie(response))
    assert response.headers["cache-control"] == "no-store"
    assert items.item(session_id) is None

    counting.reset()
    response = client.get("/view", headers={"cookie": f"session={old_cookie}"})
    assert response.json() == {}
    assert counting.calls == ["load"]
    assert items.item(session_id) is None


def test_end_session_without_a_session_writes_nothing(serve: Serve, counting: CountingStore) -> None:
    response = serve().post("/logout")
    assert counting.calls == []
    assert set_cookie(response) is None


def test_end_session_wins_even_on_a_failing_response(
    counting: CountingStore, items: Inspector, clock: FakeClock
) -> None:
    app = lifecycle_app(counting, clock=clock)

    async def logout_then_fail(request: Request) -> Response:
        end_session(request)
        return PlainTextResponse("oops", status_code=500)

    app.router.routes.append(Route("/logout-fail", logout_then_fail, methods=["POST"]))
    with TestClient(app, base_url="https://testserver") as client:
        session_id = begin(client, counting)
        response = client.post("/logout-fail")
    assert response.status_code == 500
    assert counting.calls == ["load", "delete"]
    assert items.item(session_id) is None


# -- metadata --------------------------------------------------------------------------------------


def test_session_info_of_a_new_session(serve: Serve, counting: CountingStore, clock: FakeClock) -> None:
    info = serve(absolute_timeout=600).get("/info").json()
    assert info == {
        "created": clock.now,
        "expires": clock.now + 600,  # the idle deadline never passes the absolute one
        "absolute_deadline": clock.now + 600,
        "is_new": True,
        "seconds_remaining": 600,
        "user_id": None,
    }
    assert counting.calls == []


def test_session_info_of_a_stored_session(serve: Serve, counting: CountingStore, clock: FakeClock) -> None:
    client = serve(absolute_timeout=7200)
    start = clock.now
    begin(client, counting)
    clock.advance(100)
    info = client.get("/info").json()
    assert info == {
        "created": start,
        "expires": start + IDLE,
        "absolute_deadline": start + 7200,
        "is_new": False,
        "seconds_remaining": IDLE - 100,
        "user_id": None,
    }
    assert client.get("/view").json() == {"cart": ["apple"]}  # no metadata inside the user's dict


def test_helpers_without_the_middleware_raise() -> None:
    async def view(request: Request) -> Response:
        with pytest.raises(RuntimeError, match="not installed"):
            session_info(request)
        with pytest.raises(RuntimeError, match="not installed"):
            regenerate_session(request)
        with pytest.raises(RuntimeError, match="not installed"):
            end_session(request.scope)
        return PlainTextResponse("checked")

    with TestClient(Starlette(routes=[Route("/", view)])) as client:
        assert client.get("/").text == "checked"


# -- key rotation ----------------------------------------------------------------------------------


def test_key_rotation_accepts_old_cookies_and_re_signs_them(
    counting: CountingStore, clock: FakeClock
) -> None:
    with TestClient(
        session_app(counting, clock=clock, secret_key="old-key"), base_url="https://testserver"
    ) as c:
        created = c.post("/update", json={"a": 1})
        session_id = issued_id(created)
        old_cookie = {"cookie": f"session={cookie_value(set_cookie(created) or '')}"}
    assert CookieSigner("old-key").unsign(old_cookie["cookie"].split("=", 1)[1]) is not None

    rotated = session_app(counting, clock=clock, secret_key=["old-key", "new-key"])
    with TestClient(rotated, base_url="https://testserver") as client:
        counting.reset()
        read = client.get("/view", headers=old_cookie)
        assert read.json() == {"a": 1}
        assert counting.calls == ["load"]
        assert set_cookie(read) is None  # nothing written or refreshed: nothing to re-sign

        written = client.post("/update", json={"b": 2}, headers=old_cookie)
        value = cookie_value(set_cookie(written) or "")
        parsed = CookieSigner("new-key").unsign(value)
        assert parsed is not None and parsed.session_id == session_id
        assert CookieSigner("old-key").unsign(value) is None

        clock.advance(61)
        refreshed = client.get("/view", headers=old_cookie)
        assert refreshed.json() == {"a": 1, "b": 2}
        assert CookieSigner("new-key").unsign(cookie_value(set_cookie(refreshed) or "")) is not None

        new_cookie = {"cookie": f"session={value}"}
        assert set_cookie(client.post("/update", json={"c": 3}, headers=new_cookie)) is None

    retired = session_app(counting, clock=clock, secret_key=["new-key"])
    with TestClient(retired, base_url="https://testserver") as client:
        counting.reset()
        assert client.get("/view", headers=old_cookie).json() == {}
        assert counting.calls == []
        assert client.get("/view", headers=new_cookie).json() == {"a": 1, "b": 2, "c": 3}


# -- headers ---------------------------------------------------------------------------------------


def test_cache_control_and_vary(serve: Serve, counting: CountingStore, clock: FakeClock) -> None:
    client = serve()
    untouched = client.get("/untouched")
    assert "vary" not in untouched.headers and "cache-control" not in untouched.headers

    created = client.post("/update", json={"a": 1})
    assert created.headers["cache-control"] == "no-store"
    assert created.headers["vary"] == "Cookie"

    read = client.get("/view")
    assert read.headers["vary"] == "Cookie"
    assert "cache-control" not in read.headers  # no cookie set, nothing to protect

    changed = client.post("/update", json={"a": 2})
    assert set_cookie(changed) is None and "cache-control" not in changed.headers

    cleared = client.post("/clear")
    assert cleared.headers["cache-control"] == "no-store"
    assert cleared.headers["vary"] == "Cookie"

    merged = client.post("/cached")
    assert set_cookie(merged) is not None
    assert merged.headers["cache-control"] == "private, max-age=60, no-store"
    assert merged.headers["vary"] == "Accept-Encoding, Cookie"


# -- failing requests ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/fail", "/fail?status=503", "/crash"])
def test_failing_requests_do_not_persist_changes(
    serve: Serve, counting: CountingStore, items: Inspector, path: str
) -> None:
    client = serve()
    session_id = begin(client, counting, {"n": "before"})
    before = items.item(session_id)

    response = client.post(path)
    assert response.status_code >= 500
    assert counting.calls == ["load"]
    assert items.item(session_id) == before
    assert client.get("/view").json() == {"n": "before"}


def test_failing_request_without_a_session_creates_nothing(serve: Serve, counting: CountingStore) -> None:
    response = serve().post("/fail")
    assert response.status_code == 500
    assert counting.calls == []
    assert set_cookie(response) is None


def test_save_on_error_persists_changes_from_5xx_responses(
    serve: Serve, counting: CountingStore, items: Inspector
) -> None:
    client = serve(save_on_error=True)
    session_id = begin(client, counting, {"n": "before"})
    assert client.post("/fail").status_code == 500
    assert counting.calls == ["load", "save"]
    item = items.item(session_id)
    assert item is not None and json.loads(item.data) == {"n": "from a failing request"}


def test_4xx_responses_still_persist(serve: Serve, counting: CountingStore) -> None:
    client = serve()
    begin(client, counting)
    assert client.post("/fail?status=409").status_code == 409
    assert counting.calls == ["load", "save"]


# -- configuration and cookie hardening ------------------------------------------------------------


async def _noop(scope: Any, receive: Any, send: Any) -> None:
    raise AssertionError("never called")


def test_same_site_none_requires_https_only(counting: CountingStore) -> None:
    with pytest.raises(ConfigurationError, match="same_site='none' requires https_only"):
        SessionMiddleware(_noop, store=counting, secret_key=SECRET, same_site="none", https_only=False)
    SessionMiddleware(_noop, store=counting, secret_key=SECRET, same_site="none", https_only=True)


@pytest.mark.parametrize(
    "options",
    [
        {"idle_timeout": 0},
        {"idle_timeout": -5},
        {"refresh_after": -1},
        {"absolute_timeout": "long"},
        {"secret_key": []},
        {"secret_key": ""},
        {"max_age": -1},
        {"on_conflict": "ignore"},
    ],
)
def test_bad_options_raise_configuration_error(counting: CountingStore, options: dict[str, Any]) -> None:
    options.setdefault("secret_key", SECRET)
    with pytest.raises(ConfigurationError):
        SessionMiddleware(_noop, store=counting, **options)


def test_timedelta_options(serve: Serve, counting: CountingStore, items: Inspector, clock: FakeClock) -> None:
    from datetime import timedelta

    client = serve(idle_timeout=timedelta(minutes=5), max_age=timedelta(hours=1))
    response = client.post("/update", json={"a": 1})
    assert "Max-Age=3600" in (set_cookie(response) or "")
    item = items.item(issued_id(response))
    assert item is not None and item.ttl == clock.now + 300


@pytest.mark.parametrize(
    "value",
    [
        CookieSigner(SECRET).sign("S" * 43) + "x" * 4100,
        "S" * 4097,
        CookieSigner(SECRET).sign("S" * 43)[:-1] + "$",
        "S" * 42 + "!." + "T" * 43,
        "S" * 43 + "." + "T" * 42 + "é",
    ],
    ids=["oversize-signed", "oversize", "bad-char-signature", "bad-char-id", "non-ascii"],
)
def test_oversize_or_malformed_cookies_never_reach_the_store(
    serve: Serve, counting: CountingStore, value: str
) -> None:
    client = serve()
    response = client.get("/view", headers={b"cookie": f"session={value}".encode()})
    assert response.status_code == 200 and response.json() == {}
    assert counting.calls == []


# -- logging ---------------------------------------------------------------------------------------


class FailingLoadStore(CountingStore):
    async def load(self, key: str, *, consistent: bool | None = None) -> Any:
        raise StoreUnavailable(f"GetItem: DynamoDB returned InternalServerError for {key[:8]}")


def test_logs_never_contain_a_session_id_or_full_store_key(
    store: SessionStore,
    items: Inspector,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    counting = CountingStore(store)
    secrets: set[str] = set()

    def remember(response: Any) -> None:
        header = set_cookie(response)
        if header is not None and not is_expiry(header):
            signed = cookie_value(header)
            session_id = signed.rpartition(".")[0]
            digest = hashlib.sha256(session_id.encode()).hexdigest()
            secrets.update({signed, session_id, digest})

    caplog.set_level(logging.DEBUG, logger="dynsession")
    app = lifecycle_app(counting, items, clock=clock, idle_timeout=300, absolute_timeout=900)
    with TestClient(app, base_url="https://testserver", raise_server_exceptions=False) as client:
        remember(client.post("/update", json={"cart": ["apple"]}))
        first_cookie = client.cookies["session"]
        remember(client.post("/login"))
        clock.advance(31)
        remember(client.get("/view"))  # refresh
        # A second browser, so these responses' cookie deletions leave the first one's jar alone.
        with TestClient(app, base_url="https://testserver") as other:
            remember(other.get("/view", headers={"cookie": "session=" + first_cookie}))  # stale ID
            remember(other.get("/view", headers={"cookie": "session=" + first_cookie[:-2] + "xx"}))
        clock.advance(31)
        remember(client.get("/vanish"))  # refresh finds the item gone
        remember(client.post("/update", json={"again": True}))
        clock.advance(301)
        remember(client.get("/view"))  # expired
        remember(client.post("/update", json={"third": True}))
        remember(client.post("/logout"))
    with TestClient(
        lifecycle_app(FailingLoadStore(store), clock=clock), base_url="https://testserver"
    ) as client:
        assert client.get("/view", headers={"cookie": "session=" + first_cookie}).status_code == 503

    assert len(secrets) >= 12  # four sessions, each seen as cookie, ID and hashed key
    messages = [record.getMessage() for record in caplog.records if record.name == "dynsession"]
    assert any("badly signed" in m for m in messages)
    assert any("missing or expired" in m for m in messages)
    assert any("vanished" in m for m in messages)
    assert any("503" in m for m in messages)
    for record in caplog.records:
        texts = [record.getMessage(), str(record.msg), repr(record.args), record.exc_text or ""]
        for secret in secrets:
            assert not any(secret in text for text in texts), (record.name, record.getMessage())


def test_reprs_never_show_the_session_id(counting: CountingStore, items: Inspector, clock: FakeClock) -> None:
    seen: list[str] = []
    app = lifecycle_app(counting, clock=clock)

    async def show(request: Request) -> Response:
        seen.extend([repr(request.scope["dynsession"]), repr(counting.inner), repr(dict(request.scope))])
        return PlainTextResponse("shown")

    app.router.routes.append(Route("/show", show))
    with TestClient(app, base_url="https://testserver") as client:
        session_id = issued_id(client.post("/update", json={"a": 1}))
        client.get("/show")
    digest = hashlib.sha256(session_id.encode()).hexdigest()
    assert digest[:8] in seen[0]
    for text in seen[:2]:
        assert session_id not in text and digest not in text
