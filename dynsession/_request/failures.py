"""What the client gets when the store fails: the app's ``store_error_response``, or by default a
503 (the store could not be used) or a 409 (concurrent requests won), never the app's success."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Literal

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from ..exceptions import SessionConflict, StoreError

logger = logging.getLogger("dynsession")

StoreErrorResponse = Callable[[HTTPConnection, StoreError], "Response | Awaitable[Response]"]
"""Builds the response sent instead of the app's when the store fails (sync or async)."""


async def answer(
    scope: Scope,
    receive: Receive,
    send: Send,
    exc: StoreError,
    *,
    during: Literal["load", "write"],
    custom: StoreErrorResponse | None,
) -> None:
    """Log the failure and send its response: a websocket is closed with 1013 (try again later);
    an HTTP request gets ``custom``'s response, or the default 503 or 409."""
    conflict = isinstance(exc, SessionConflict)
    if scope["type"] == "websocket":
        reply = "closing the websocket (1013)"
    elif custom is not None:
        reply = "answering with store_error_response"
    else:
        reply = "answering 409" if conflict else "answering 503"
    if conflict:
        # Not an outage: concurrent requests won (on_conflict="raise", or every merge attempt lost).
        logger.warning("session write lost to a concurrent request, %s instead: %s", reply, exc)
    elif during == "load":
        logger.error("session load failed, %s: %s", reply, exc)
    else:
        logger.error("session write failed, %s instead: %s", reply, exc)
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1013, "reason": "session store unavailable"})
        return
    if custom is not None:
        response = custom(Request(scope, receive), exc)
        if inspect.isawaitable(response):
            response = await response
        await response(scope, receive, send)
        return
    if conflict:
        await _plain(send, 409, b"Conflict: the session was changed by a concurrent request.")
    else:
        await _plain(send, 503, b"Service Unavailable: the session store could not be reached.")


async def _plain(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"text/plain; charset=utf-8"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
                (b"retry-after", b"1"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
