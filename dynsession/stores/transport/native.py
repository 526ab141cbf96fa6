"""The native transport: DynamoDB's JSON API over dynsession's own HTTP/1.1 client (an
``asyncio.Protocol``, standard library only), signed and retried here, with botocore supplying
only the settings and credentials (see :mod:`.settings`).

One connection pool per event loop, created on the loop's first call. It is closed by
:meth:`NativeTransport.aclose` (the middleware calls the store's at lifespan shutdown) or, at the
latest, when the loop shuts down its async generators (``asyncio.run``, ``anyio.run`` and servers
built on them do), so a new loop per test or per invocation leaves no connection open.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import anyio.to_thread
import botocore.exceptions

from ...exceptions import ConfigurationError
from ..dynamodb_wire import translate_errors
from . import wire_json
from .base import Transport
from .boto3_client import Boto3Client
from .pool import Pool
from .retry import Outcome
from .settings import NativeSettings, resolve
from .wire_errors import WireFailure, connection_failure, error_response

_NOT_ASYNCIO = (
    "transport='native' needs asyncio's event loop, and this call runs under another (trio?): "
    "pass transport='boto3' to DynamoDBStore"
)


def _as_botocore(exc: Exception) -> Exception:
    """``exc`` as botocore would have raised it: its own exceptions as they are, a request value
    JSON cannot carry as a parameter error, anything else (a CA bundle that cannot be read, a
    header that cannot be encoded) as an HTTP client error."""
    if isinstance(exc, botocore.exceptions.BotoCoreError | botocore.exceptions.ClientError):
        return exc
    if isinstance(exc, TypeError):
        return botocore.exceptions.ParamValidationError(report=str(exc))
    return botocore.exceptions.HTTPClientError(error=exc)


class _LoopPool:
    __slots__ = ("keeper", "pool")

    def __init__(self, pool: Pool, keeper: AsyncGenerator[None, None]) -> None:
        self.pool = pool
        self.keeper = keeper


class NativeTransport:
    """A :class:`~dynsession.stores.transport.Transport` that sends any operation of DynamoDB's
    JSON 1.0 API over keep-alive HTTP/1.1 connections of its own; at most ``max_concurrency``
    requests in flight per event loop (the connection pool's size).

    Endpoint, region, credentials, retries (botocore's standard mode), timeouts, proxies and TLS
    trust are those of ``client``'s boto3 client, resolved on first use in a worker thread.
    Failures are botocore's own exceptions, raised through ``translate_errors``. Under an event
    loop that is not asyncio's, calls go to ``fallback`` if given, else raise ConfigurationError.
    """

    def __init__(
        self, client: Boto3Client, *, max_concurrency: int, fallback: Transport | None = None
    ) -> None:
        self._client = client
        self._max_concurrency = max_concurrency
        self._fallback = fallback
        self._settings: NativeSettings | None = None
        self._head = ""
        self._pools: dict[asyncio.AbstractEventLoop, _LoopPool] = {}

    @property
    def settings(self) -> NativeSettings | None:
        """What was resolved from botocore (``None`` before the first call)."""
        return self._settings

    @property
    def open_sessions(self) -> int:
        """How many event loops hold an open connection pool of this transport."""
        return len(self._pools)

    def connections(self) -> int:
        """How many connections the running event loop's pool holds open."""
        entry = self._pools.get(asyncio.get_running_loop())
        return 0 if entry is None else entry.pool.connections

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._fallback is None:
                raise ConfigurationError(_NOT_ASYNCIO) from None
            return await self._fallback.call(operation, request)
        rendered = request if type(request) is wire_json.Rendered else None
        try:
            body = wire_json.encode(request) if rendered is None else rendered.body
            entry = self._pools.get(loop)
            if entry is None:
                entry = await self._open(loop)
            payload = await self.send(entry.pool, operation, body)
            try:
                return wire_json.decode(payload) if rendered is None else rendered.read(payload)
            except ValueError as exc:
                raise botocore.exceptions.ResponseStreamingError(error=exc) from exc
        except Exception as exc:
            # Off the success path: the one translator sees botocore's exceptions only.
            with translate_errors(operation, str(request.get("TableName", ""))):
                raise _as_botocore(exc) from exc

    async def send(self, pool: Pool, operation: str, body: bytes) -> bytes:
        """POST ``body`` until it succeeds or the retry policy gives up; return the answer's body.

        Raises botocore's exceptions: ``ClientError`` for an error answer, its connection errors
        when no whole answer came (``ConnectionClosedError`` for an answer cut short, framed
        wrongly or failing its ``x-amz-crc32``).
        """
        settings = self._settings
        assert settings is not None
        policy = settings.policy
        attempt = 1
        quota_taken = 0
        while True:
            credentials = await settings.credentials.get()
            headers = settings.signer.headers(credentials, operation, body)
            lines = "".join([f"{name}: {value}\r\n" for name, value in headers.items()])
            head = f"{self._head}{lines}Content-Length: {len(body)}\r\n\r\n"
            try:
                answer = await pool.send(head.encode("latin-1") + body)
            except WireFailure as exc:
                failure: Exception = connection_failure(exc, settings.endpoint_url, settings.proxy)
                outcome = Outcome(connection_error=True)
            else:
                payload = answer.body
                checksum = answer.headers.get("x-amz-crc32")
                if checksum is not None and checksum != str(zlib.crc32(payload)):
                    # As an answer cut short: the connection delivered something else than was sent.
                    failure = botocore.exceptions.ConnectionClosedError(
                        endpoint_url=settings.endpoint_url,
                        error=ValueError(f"DynamoDB's answer failed its x-amz-crc32 check ({checksum})"),
                    )
                    outcome = Outcome(connection_error=True)
                elif answer.status == 200:
                    policy.succeeded(quota_taken)
                    return payload
                else:
                    parsed = error_response(answer.status, answer.headers, payload, attempt - 1)
                    code = parsed["Error"]["Code"]
                    failure = settings.exceptions.from_code(code)(parsed, operation)
                    retry_after = answer.headers.get("x-amz-retry-after")
                    outcome = Outcome(answer.status, code, retry_after_ms=retry_after)
            decision = policy.next_delay(operation, attempt, outcome)
            if decision is None:
                raise failure
            delay, quota_taken = decision
            await asyncio.sleep(delay)
            attempt += 1

    async def aclose(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            if self._fallback is not None:
                await self._fallback.aclose()
            return
        for other in [other for other in self._pools if other.is_closed()]:
            del self._pools[other]  # its loop ended without finalizing async generators
        entry = self._pools.get(loop)
        if entry is not None:
            await entry.keeper.aclose()

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _LoopPool:
        if self._settings is None:
            settings = await anyio.to_thread.run_sync(resolve, self._client)
            if self._settings is None:
                self._settings = settings
                self._head = (
                    f"POST {settings.request_target} HTTP/1.1\r\nUser-Agent: {settings.user_agent}\r\n"
                )
        settings = self._settings
        existing = self._pools.get(loop)
        if existing is not None:  # another task of this loop opened it meanwhile
            return existing
        pool = Pool(loop, settings.route, self._max_concurrency)
        keeper = self._closes_with_the_loop(loop, pool)
        entry = self._pools[loop] = _LoopPool(pool, keeper)
        await keeper.asend(None)  # registers it with the loop, which finalizes it at shutdown
        return entry

    async def _closes_with_the_loop(
        self, loop: asyncio.AbstractEventLoop, pool: Pool
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            current = self._pools.get(loop)
            if current is not None and current.pool is pool:
                del self._pools[loop]
            await pool.close()
