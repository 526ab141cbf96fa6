"""One keep-alive HTTP/1.1 connection as an ``asyncio.Protocol``: one request in flight at a time,
its answer parsed as the bytes arrive (:mod:`.http11`), one timer for its read timeout.

The connection is driven by the event loop's callbacks only: no reader task, no stream objects,
so a request costs one ``write`` and wakes its caller once, when the whole answer is in.
"""

from __future__ import annotations

import asyncio
from typing import cast

from .http11 import Answer, AnswerParser, MalformedAnswer
from .wire_errors import ConnectionClosed, ReadTimedOut


class HTTPConnection(asyncio.Protocol):
    """A connection the pool owns. :meth:`exchange` sends a request and returns its answer.

    ``closed`` turns true as soon as the peer closes its side or the connection is lost, so an idle
    connection the server closed is never picked for a request once the loop has seen the close.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._parser: AnswerParser | None = None
        self._waiter: asyncio.Future[Answer] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._lost: asyncio.Future[None] = loop.create_future()

    # -- asyncio.Protocol ---------------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports have asyncio.Transport's methods without deriving from it.
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        parser = self._parser
        if parser is None:  # nothing was asked: whatever this is, the connection cannot be trusted
            self.abort()
            return
        try:
            answer = parser.feed(data)
        except MalformedAnswer as exc:
            self._fail(ConnectionClosed(str(exc)))
            self.abort()
            return
        if answer is not None:
            self._parser = None
            waiter = self._waiter
            self._waiter = None
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if not answer.keep_alive:
                self.closed = True
            if waiter is not None and not waiter.done():
                waiter.set_result(answer)

    def eof_received(self) -> bool:
        self.closed = True
        if self._parser is not None:
            self._fail(ConnectionClosed(str(self._parser.eof()), received=self._parser.received))
        return False  # let the transport close itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        parser = self._parser
        if parser is not None:
            reason = str(parser.eof()) if exc is None else f"{parser.eof()}: {exc!r}"
            self._fail(ConnectionClosed(reason, received=parser.received))
        if not self._lost.done():
            self._lost.set_result(None)

    # -- requests -----------------------------------------------------------------------------------

    def exchange(
        self, request: bytes, read_timeout: float | None, *, no_body: bool = False
    ) -> asyncio.Future[Answer]:
        """Write ``request`` (one bytes object) and return the future of its answer. The future
        fails with ReadTimedOut after ``read_timeout`` seconds, and with ConnectionClosed when the
        connection ends or carries anything but one answer."""
        transport = self.transport
        assert transport is not None and self._parser is None
        waiter = self._waiter = self._loop.create_future()
        self._parser = AnswerParser(no_body=no_body)
        if read_timeout is not None:
            self._timer = self._loop.call_later(read_timeout, self._timed_out, read_timeout)
        transport.write(request)
        return waiter

    def abort(self) -> None:
        """Drop the connection at once (no TLS goodbye): after a failure, or at close."""
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    async def wait_lost(self) -> None:
        """Until the loop has called ``connection_lost`` (its socket is then closed)."""
        await asyncio.shield(self._lost)

    def _timed_out(self, seconds: float) -> None:
        self._timer = None
        self._fail(ReadTimedOut(f"no whole answer within the read timeout ({seconds:g} s)"))
        self.abort()

    def _fail(self, exc: Exception) -> None:
        self._parser = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiter = self._waiter
        self._waiter = None
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
