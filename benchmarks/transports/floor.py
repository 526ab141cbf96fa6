"""The floor under any DynamoDB transport: the least a client can do per call and still be correct
on a healthy connection. One keep-alive HTTP/1.1 connection on an ``asyncio.Protocol``, each
request signed by dynsession's SigV4 signer and encoded by its JSON codec, written as one bytes
object; the answer's head parsed for the status, ``Content-Length`` and ``Connection: close`` only,
its body decoded by the same codec. No pool, no retries, no timeouts, no CRC check, no chunked
bodies: a reference to measure the real transports against, never something to send sessions
through.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from dynsession.stores.transport import wire_json
from dynsession.stores.transport.signer import Credentials, Signer, host_of, request_path

_HEAD_END = b"\r\n\r\n"
_LENGTH = b"\r\ncontent-length:"
_CLOSE = b"\r\nconnection: close"


class FloorError(Exception):
    """The server answered something other than 200, or closed the connection mid-answer."""


class _ClosedUnanswered(FloorError):
    """The connection closed before any byte of the answer arrived."""


class _Answer(asyncio.Protocol):
    """One connection: collects bytes until a whole answer (head and body) has arrived."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(_HEAD_END)
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        start = head.find(_LENGTH)
        if start < 0:
            self.waiter.set_exception(FloorError("an answer without Content-Length"))
            return
        stop = head.find(b"\r\n", start + 2)
        length = int(head[start + len(_LENGTH) : None if stop < 0 else stop])
        total = end + 4 + length
        if len(self.buffer) < total:
            return
        body = bytes(self.buffer[end + 4 : total])
        del self.buffer[:total]
        if _CLOSE in head or head.startswith(b"http/1.0"):
            # Not kept alive (moto's server closes every connection): the next call opens another.
            self.closed = True
            assert self.transport is not None
            self.transport.close()
        waiter, self.waiter = self.waiter, None
        waiter.set_result((int(head[9:12]), body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            error = _ClosedUnanswered if not self.buffer else FloorError
            self.waiter.set_exception(error("the server closed the connection mid-answer"))


class FloorClient:
    """Sends DynamoDB operations to ``url`` the cheapest correct way (see the module docstring).

    ``context`` is the TLS context for an ``https`` URL. Raises FloorError on an answer other
    than 200; a connection the server closed while idle is reopened before the next request.
    """

    def __init__(
        self, url: str, region: str, credentials: Credentials, *, context: ssl.SSLContext | None = None
    ) -> None:
        parts = urlsplit(url)
        self._address = (
            parts.hostname or "127.0.0.1",
            parts.port or (443 if parts.scheme == "https" else 80),
        )
        self._ssl = context if parts.scheme == "https" else None
        self._server_name = parts.hostname if self._ssl is not None else None
        self._signer = Signer(region, host_of(url), request_path(url))
        self._path = request_path(url).encode("ascii")
        self._credentials = credentials
        self._connection: _Answer | None = None

    async def _connect(self) -> _Answer:
        if self._connection is None or self._connection.closed:
            loop = asyncio.get_running_loop()
            host, port = self._address
            _, protocol = await loop.create_connection(
                _Answer, host, port, ssl=self._ssl, server_hostname=self._server_name
            )
            self._connection = protocol
        return self._connection

    async def call(self, operation: str, request: Mapping[str, Any]) -> dict[str, Any]:
        """The decoded answer to ``operation``. Raises FloorError (see the class docstring)."""
        body = wire_json.encode(request)
        headers = self._signer.headers(self._credentials, operation, body, time.time())
        lines = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        message = b"POST %s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s" % (
            self._path,
            lines.encode("latin-1"),
            len(body),
            body,
        )
        for attempt in (1, 2):
            connection = await self._connect()
            waiter: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
            connection.waiter = waiter
            assert connection.transport is not None
            connection.transport.write(message)
            try:
                status, answer = await waiter
                break
            except _ClosedUnanswered:
                # The server closed the idle connection as the request went out (Node.js does after
                # 5 s): sent again on a fresh one, as any keep-alive client must, not a retry.
                if attempt == 2:
                    raise
        if status != 200:
            raise FloorError(f"{operation} answered {status}: {answer[:200]!r}")
        return wire_json.decode(answer)

    async def aclose(self) -> None:
        """Close the connection, if one is open."""
        if self._connection is not None and self._connection.transport is not None:
            self._connection.transport.close()
        self._connection = None
