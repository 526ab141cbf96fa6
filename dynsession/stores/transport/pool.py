"""The native transport's connections to one endpoint on one event loop: at most ``max_concurrency``
requests in flight, each on a keep-alive connection of its own, opened on demand (through a proxy's
``CONNECT`` tunnel and TLS when the settings say so) and kept for the next request.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote, urlsplit

from .http11 import Answer
from .http_connection import HTTPConnection
from .wire_errors import (
    ConnectFailed,
    ConnectionClosed,
    ConnectTimedOut,
    ProxyRefused,
    TLSFailed,
    WireFailure,
)


@dataclass(frozen=True, slots=True)
class Route:
    """Where connections go: the endpoint's ``host`` and ``port`` (TLS with ``tls`` when set,
    checking the certificate against ``host``), through ``proxy`` (a URL) when set."""

    host: str
    port: int
    tls: ssl.SSLContext | None
    proxy: str | None = None
    proxy_tls: ssl.SSLContext | None = None
    connect_timeout: float | None = None
    read_timeout: float | None = None


def route_for(
    endpoint_url: str,
    tls: ssl.SSLContext | None,
    proxy: str | None,
    proxy_tls: ssl.SSLContext | None,
    connect_timeout: float | None,
    read_timeout: float | None,
) -> Route:
    """The route to ``endpoint_url`` (``proxy_tls`` is used only for an ``https://`` proxy);
    raises ValueError for a URL without a host or with a bad port."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname
    if not host:
        raise ValueError(f"no host in endpoint URL {endpoint_url!r}")
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    if proxy is None or not proxy.lower().startswith("https:"):
        proxy_tls = None
    return Route(host, port, tls, proxy, proxy_tls, connect_timeout, read_timeout)


class Pool:
    """Connections of one event loop. :meth:`send` carries one request and returns its answer,
    raising WireFailure when no whole answer came."""

    def __init__(self, loop: asyncio.AbstractEventLoop, route: Route, max_concurrency: int) -> None:
        self._loop = loop
        self._route = route
        self._slots = asyncio.Semaphore(max_concurrency)
        self._idle: list[HTTPConnection] = []
        self._open: set[HTTPConnection] = set()

    @property
    def connections(self) -> int:
        """How many connections are open (idle or carrying a request); one the server closed while
        idle is no longer counted, though it leaves the idle list only when next looked at."""
        return sum(1 for connection in self._open if not connection.closed)

    async def send(self, request: bytes) -> Answer:
        """Send ``request`` on an idle connection, or a new one. A reused connection that ends
        before any byte of the answer was one the server had closed meanwhile (its close crossed
        our request): the request goes again, once, on a new connection, as no retry."""
        async with self._slots:
            idle = self._idle
            while idle:
                connection = idle.pop()
                if connection.closed:
                    self._discard(connection)
                    continue
                try:
                    return await self._exchange(connection, request)
                except ConnectionClosed as exc:
                    if exc.received:
                        raise
                    break
            return await self._exchange(await self._connect(), request)

    async def _exchange(self, connection: HTTPConnection, request: bytes) -> Answer:
        kept = False
        try:
            answer = await connection.exchange(request, self._route.read_timeout)
            kept = not connection.closed
        except (OSError, RuntimeError) as exc:  # the transport's own write failed
            raise ConnectionClosed(f"sending failed: {exc!r}", received=False) from exc
        finally:
            if kept:
                self._idle.append(connection)
            else:
                self._discard(connection)
        return answer

    def _discard(self, connection: HTTPConnection) -> None:
        connection.abort()
        self._open.discard(connection)

    async def close(self) -> None:
        """Close every connection, waiting (a moment at most) until the loop has closed each."""
        connections = list(self._open)
        self._open.clear()
        self._idle.clear()
        for connection in connections:
            connection.abort()
        if connections:
            await asyncio.wait([asyncio.ensure_future(c.wait_lost()) for c in connections], timeout=1.0)

    async def _connect(self) -> HTTPConnection:
        route = self._route
        try:
            connection = await asyncio.wait_for(self._open_connection(), route.connect_timeout)
        except asyncio.TimeoutError as exc:
            where = f"through {route.proxy} " if route.proxy else ""
            raise ConnectTimedOut(f"connecting {where}took over {route.connect_timeout:g} s") from exc
        self._open.add(connection)
        return connection

    async def _open_connection(self) -> HTTPConnection:
        route = self._route
        loop = self._loop
        if route.proxy is None:
            try:
                _, connection = await loop.create_connection(
                    lambda: HTTPConnection(loop),
                    route.host,
                    route.port,
                    ssl=route.tls,
                    server_hostname=route.host if route.tls is not None else None,
                )
            except ssl.SSLError as exc:  # CertificateError is one too
                raise TLSFailed(str(exc)) from exc
            except (OSError, ValueError) as exc:  # ValueError: a host name IDNA cannot encode
                raise ConnectFailed(f"cannot connect to {route.host}:{route.port}: {exc}") from exc
            return connection
        return await self._tunnel(route, route.proxy)

    async def _tunnel(self, route: Route, proxy: str) -> HTTPConnection:
        """A connection through the proxy's ``CONNECT`` tunnel, with TLS to the endpoint inside."""
        loop = self._loop
        parts = urlsplit(proxy)
        proxy_host = parts.hostname or ""
        try:
            _, connection = await loop.create_connection(
                lambda: HTTPConnection(loop),
                proxy_host,
                parts.port or (443 if route.proxy_tls is not None else 80),
                ssl=route.proxy_tls,
                server_hostname=proxy_host if route.proxy_tls is not None else None,
            )
        except (OSError, ValueError) as exc:  # ssl.SSLError is an OSError
            raise ProxyRefused(f"cannot connect to the proxy: {exc}") from exc
        try:
            target = f"[{route.host}]:{route.port}" if ":" in route.host else f"{route.host}:{route.port}"
            lines = [f"CONNECT {target} HTTP/1.1", f"Host: {target}"]
            if parts.username is not None:
                user = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
                lines.append("Proxy-Authorization: Basic " + base64.b64encode(user.encode()).decode())
            request = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")
            try:
                answer = await connection.exchange(request, route.connect_timeout, no_body=True)
            except WireFailure as exc:
                raise ProxyRefused(f"the proxy did not answer CONNECT: {exc}") from exc
            if not 200 <= answer.status < 300:
                raise ProxyRefused(f"the proxy refused CONNECT {target} with HTTP {answer.status}")
            if route.tls is not None:
                assert connection.transport is not None
                try:
                    tls = await loop.start_tls(
                        connection.transport, connection, route.tls, server_hostname=route.host
                    )
                except (OSError, ssl.SSLError) as exc:
                    raise TLSFailed(str(exc)) from exc
                connection.transport = cast(asyncio.Transport, tls)
        except BaseException:
            connection.abort()
            raise
        return connection
