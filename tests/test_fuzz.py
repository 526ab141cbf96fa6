"""Fuzzing the Cookie header: whatever arrives, the request is served with a fresh session.

Each example sends one request that writes to the session. Whatever the header held, the app must
see an empty session, the response must carry a new ID of dynsession's own making, and the store
must not be asked about any cookie whose signature does not verify.

CI runs ``DYNSESSION_FUZZ_EXAMPLES`` (default 600) examples per test, 3,600 in all; set it higher
for a longer run, for example ``DYNSESSION_FUZZ_EXAMPLES=50000 pytest tests/test_fuzz.py``.
"""

from __future__ import annotations

import hashlib
import os
import string
from typing import Any

import itsdangerous
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message

from dynsession import MemoryStore, SessionMiddleware
from dynsession._envelope.cookies import CookieSigner, store_key

from .support import SECRET, CountingStore, FakeClock

settings.register_profile(
    "dynsession-fuzz",
    max_examples=int(os.environ.get("DYNSESSION_FUZZ_EXAMPLES", "600")),
    deadline=None,
    # The autouse blockbuster fixture is meant to span the whole test, not one example.
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
FUZZ = settings.get_profile("dynsession-fuzz")
SIGNER = CookieSigner(SECRET)


def sign(key: str, session_id: str) -> bytes:
    """Sign any text the way dynsession signs session IDs (which are always ASCII)."""
    return itsdangerous.Signer(key, salt="dynsession.cookie", digest_method=hashlib.sha256).sign(session_id)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def write(request: Request) -> Response:
    seen = dict(request.session)
    request.session["visits"] = 1
    return JSONResponse(seen)


class Harness:
    """One middleware over a fresh MemoryStore wrapped in a call counter, driven over raw ASGI."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.memory = MemoryStore(clock=self.clock)
        self.store = CountingStore(self.memory)
        app = Starlette(routes=[Route("/write", write, methods=["POST"])])
        app.add_middleware(SessionMiddleware, store=self.store, secret_key=SECRET, clock=self.clock)
        self.app = app

    async def request(self, cookie_headers: list[bytes]) -> tuple[int, dict[bytes, list[bytes]], bytes]:
        scope: dict[str, Any] = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "https",
            "path": "/write",
            "raw_path": b"/write",
            "query_string": b"",
            "root_path": "",
            "headers": [(b"host", b"testserver")] + [(b"cookie", value) for value in cookie_headers],
            "client": ("127.0.0.1", 50000),
            "server": ("testserver", 443),
        }
        sent: list[Message] = []

        async def receive() -> Message:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        headers: dict[bytes, list[bytes]] = {}
        for name, value in start.get("headers", []):
            headers.setdefault(name.lower(), []).append(value)
        body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        return start["status"], headers, body

    async def check_fresh(self, cookie_headers: list[bytes], *, loads: int = 0) -> None:
        """The request succeeds on an empty session and gets a new ID; the store saw ``loads`` loads."""
        status, headers, body = await self.request(cookie_headers)
        assert status == 200
        assert body == b"{}"
        assert self.store.calls == ["load"] * loads + ["save"]
        (set_cookie,) = headers[b"set-cookie"]
        value = set_cookie.decode("latin-1").split(";", 1)[0].removeprefix("session=")
        parsed = SIGNER.unsign(value)
        assert parsed is not None
        # A new ID of dynsession's own making: nothing from the request was adopted.
        assert parsed.session_id.encode() not in b"".join(cookie_headers)
        assert len(self.memory) == 1
        assert await self.memory.load(store_key(parsed.session_id)) is not None


URLSAFE = string.ascii_letters + string.digits + "-_"
# Random text, or a value shaped exactly like a signed cookie (43 characters, a dot, 43 characters).
ids = st.text(alphabet=URLSAFE, min_size=43, max_size=43)
cookie_values = st.text(
    alphabet=st.characters(codec="latin-1", exclude_characters=";"), max_size=60
) | st.builds("{}.{}".format, ids, ids)
names = st.text(alphabet=string.ascii_lowercase, min_size=1, max_size=8)


@pytest.mark.anyio
@FUZZ
@given(header=st.binary(max_size=2000))
async def test_random_bytes(header: bytes) -> None:
    await Harness().check_fresh([header])


@pytest.mark.anyio
@FUZZ
@given(
    chunk=st.text(alphabet=string.ascii_letters + string.digits + "-_.=", min_size=1, max_size=100)
    | st.binary(min_size=1, max_size=100).map(lambda b: b.decode("latin-1")),
    repeat=st.integers(min_value=1, max_value=3000),
    prefix=st.sampled_from(["session=", "other=1; session=", "session=x; session="]),
)
async def test_very_long_values(chunk: str, repeat: int, prefix: str) -> None:
    # Up to 300 KB; a browser sends at most 4 KB per cookie, a proxy rarely lets more than 64 KB by.
    await Harness().check_fresh([(prefix + chunk * repeat).encode("latin-1")])


@pytest.mark.anyio
@FUZZ
@given(values=st.lists(cookie_values, min_size=2, max_size=50), split=st.booleans())
async def test_many_cookies_with_the_same_name(values: list[str], split: bool) -> None:
    pairs = [f"session={value}".encode("latin-1") for value in values]
    # One Cookie header, or one header per cookie as HTTP/2 allows.
    await Harness().check_fresh(pairs if split else [b"; ".join(pairs)])


@pytest.mark.anyio
@FUZZ
@given(session_id=st.text(max_size=300) | ids)
async def test_valid_signature_over_a_junk_id(session_id: str) -> None:
    cookie = sign(SECRET, session_id)
    shaped = len(session_id) == 43 and all(c in URLSAFE for c in session_id)
    # An ID of the right shape is looked up (and not found); anything else is refused unread.
    await Harness().check_fresh([b"session=" + cookie], loads=1 if shaped else 0)


@pytest.mark.anyio
@FUZZ
@given(session_id=ids, key=st.text(min_size=1, max_size=50))
async def test_signature_under_another_key(session_id: str, key: str) -> None:
    if key == SECRET:
        return
    await Harness().check_fresh([b"session=" + sign(key, session_id)])


@pytest.mark.anyio
@FUZZ
@given(
    before=st.lists(st.tuples(names, cookie_values), max_size=10),
    after=st.lists(st.tuples(names, cookie_values), max_size=10),
)
async def test_junk_cookies_around_a_real_session_leave_it_alone(
    before: list[tuple[str, str]], after: list[tuple[str, str]]
) -> None:
    harness = Harness()
    status, headers, _ = await harness.request([])
    assert status == 200
    (set_cookie,) = headers[b"set-cookie"]
    real = set_cookie.decode().split(";", 1)[0]
    harness.store.reset()
    others = [f"{name}={value}" for name, value in before + after if name != "session"]
    cut = len([name for name, _ in before if name != "session"])
    header = "; ".join([*others[:cut], real, *others[cut:]])
    status, headers, body = await harness.request([header.encode("latin-1")])
    assert status == 200
    # The app saw the stored session; an unchanged session costs one read and no write.
    assert body == b'{"visits":1}'
    assert harness.store.calls == ["load"]
    assert b"set-cookie" not in headers
