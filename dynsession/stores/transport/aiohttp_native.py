"""The native transport: DynamoDB's JSON API over aiohttp, signed and retried here, with botocore
supplying only the settings and credentials (see :mod:`.settings`).

One aiohttp ``ClientSession`` per event loop, created on the loop's first call. It is closed by
:meth:`AiohttpTransport.aclose` (the middleware calls the store's at lifespan shutdown) or, at the
latest, when the loop shuts down its async generators (``asyncio.run``, ``anyio.run`` and servers
built on them do), so a new loop per test or per invocation leaves no connection open.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import aiohttp
import anyio.to_thread
import botocore.exceptions

from ...exceptions import ConfigurationError
from ..dynamodb_wire import transport_errors
from . import wire_json
from .answer_checks import whole
from .base import Transport
from .boto3_client import Boto3Client
from .retry import Outcome
from .settings import NativeSettings, resolve
from .wire_errors import connection_failure, error_response

_NOT_ASYNCIO = (
    "transport='aiohttp' needs asyncio's event loop, and this call runs under another (trio?): "
    "pass transport='boto3' to DynamoDBStore"
)

_CUT = "DynamoDB's answer was cut short (length or CRC32 does not match)"


class _LoopSession:
    __slots__ = ("http", "keeper")

    def __init__(self, http: aiohttp.ClientSession, keeper: AsyncGenerator[None, None]) -> None:
        self.http = http
        self.keeper = keeper


class AiohttpTransport:
    """A :class:`~dynsession.stores.transport.Transport` that sends DynamoDB operations natively
    over aiohttp, any operation of DynamoDB's JSON 1.0 API; at most ``max_concurrency`` requests
    in flight per event loop (the connection pool's size).

    Endpoint, region, credentials, retries (botocore's standard mode), timeouts, proxies and TLS
    trust are those of ``client``'s boto3 client, resolved on first use in a worker thread.
    Failures are botocore's own exceptions, raised through ``transport_errors``. Under an event
    loop that is not asyncio's, calls go to ``fallback`` if given, else raise ConfigurationError.
    """

    def __init__(
        self, client: Boto3Client, *, max_concurrency: int, fallback: Transport | None = None
    ) -> None:
        self._client = client
        self._max_concurrency = max_concurrency
        self._fallback = fallback
        self._settings: NativeSettings | None = None
        self._sessions: dict[asyncio.AbstractEventLoop, _LoopSession] = {}

    @property
    def settings(self) -> NativeSettings | None:
        """What was resolved from botocore (``None`` before the first call)."""
        return self._settings

    @property
    def open_sessions(self) -> int:
        """How many event loops hold an open HTTP session of this transport."""
        return len(self._sessions)

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._fallback is None:
                raise ConfigurationError(_NOT_ASYNCIO) from None
            return await self._fallback.call(operation, request)
        body = wire_json.encode(request)
        with transport_errors(operation, str(request.get("TableName", ""))):
            session = self._sessions.get(loop)
            if session is None:
                session = await self._open(loop)
            settings = self._settings
            assert settings is not None
            return await _send(settings, session.http, operation, body)

    async def aclose(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._fallback is not None:
                await self._fallback.aclose()
            return
        for other in [other for other in self._sessions if other.is_closed()]:
            del self._sessions[other]  # its loop ended without finalizing async generators
        session = self._sessions.get(loop)
        if session is not None:
            await session.keeper.aclose()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _LoopSession:
        if self._settings is None:
            settings = await anyio.to_thread.run_sync(resolve, self._client)
            if self._settings is None:
                self._settings = settings
        settings = self._settings
        existing = self._sessions.get(loop)
        if existing is not None:  # another task of this loop opened it meanwhile
            return existing
        http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=self._max_concurrency, ssl=settings.ssl),
            timeout=settings.timeout,
            auto_decompress=False,
            skip_auto_headers=("Accept", "Accept-Encoding", "Content-Type"),
        )
        keeper = self._closes_with_the_loop(loop, http)
        session = self._sessions[loop] = _LoopSession(http, keeper)
        await keeper.asend(None)  # registers it with the loop, which finalizes it at shutdown
        return session

    async def _closes_with_the_loop(
        self, loop: asyncio.AbstractEventLoop, http: aiohttp.ClientSession
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            current = self._sessions.get(loop)
            if current is not None and current.http is http:
                del self._sessions[loop]
            await http.close()


async def _send(
    settings: NativeSettings, http: aiohttp.ClientSession, operation: str, body: bytes
) -> dict[str, Any]:
    """POST ``body`` until it succeeds or the retry policy gives up; raise botocore's exceptions.

    An answer that did not arrive whole (``Content-Length`` missing or not the body's length, or
    ``x-amz-crc32`` not matching: :func:`.answer_checks.whole`) is a broken connection: retried,
    then raised as ``ConnectionClosedError``, never returned.
    """
    policy = settings.policy
    attempt = 1
    quota_taken = 0
    while True:
        credentials = await settings.credentials.get()
        headers = settings.signer.headers(credentials, operation, body)
        headers["User-Agent"] = settings.user_agent
        failure: Exception | None = None
        try:
            response = await http.post(settings.url, data=body, headers=headers, proxy=settings.proxy)
            try:
                payload = await response.read()
            finally:
                response.release()
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            failure = connection_failure(exc, settings.endpoint_url, settings.proxy)
            outcome = Outcome(connection_error=True)
        else:
            status = response.status
            if not whole(response.headers, payload):
                failure = botocore.exceptions.ConnectionClosedError(
                    endpoint_url=settings.endpoint_url, error=ValueError(_CUT)
                )
                outcome = Outcome(connection_error=True)
            elif status != 200:
                parsed = error_response(status, response.headers, payload, attempt - 1)
                code = parsed["Error"]["Code"]
                failure = settings.exceptions.from_code(code)(parsed, operation)
                retry_after = response.headers.get("x-amz-retry-after")
                outcome = Outcome(status, code, retry_after_ms=retry_after)
        decision = None if failure is None else policy.next_delay(operation, attempt, outcome)
        if decision is None:
            if failure is not None:
                raise failure
            policy.succeeded(quota_taken)
            try:
                return wire_json.decode(payload)
            except ValueError as exc:
                raise botocore.exceptions.ResponseStreamingError(error=exc) from exc
        delay, quota_taken = decision
        await asyncio.sleep(delay)
        attempt += 1
