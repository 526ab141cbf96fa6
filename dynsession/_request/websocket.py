"""A websocket's session: read-only, since no cookie can be set once the socket is open, except
that :func:`~dynsession.end_session` deletes the stored item (no cookie is needed for that)."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..stores.base import SessionStore
from .session import RequestSession


async def websocket_session(
    app: ASGIApp,
    store: SessionStore,
    loaded: Callable[[], RequestSession | None],
    scope: Scope,
    receive: Receive,
    send: Send,
) -> None:
    """Run the websocket app; once it has called ``end_session``, delete the item before its next
    send or receive, or when it returns. ``loaded`` gives the session once loaded (up front, or by
    ``load_session``). A failed delete raises the StoreError in the handler."""
    ended = False

    async def end_if_asked() -> None:
        nonlocal ended
        state = loaded()
        if state is not None and state.ended and not ended:
            if state.record is not None and state.key is not None:
                # An explicit logout wins over every concurrent write: no condition.
                await store.delete(state.key)
            ended = True

    async def receive_wrapper() -> Message:
        await end_if_asked()
        return await receive()

    async def send_wrapper(message: Message) -> None:
        await end_if_asked()
        await send(message)

    await app(scope, receive_wrapper, send_wrapper)
    await end_if_asked()
