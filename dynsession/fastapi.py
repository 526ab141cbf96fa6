"""FastAPI integration: the session as a dependency, loaded only by the routes that declare it.

With ``SessionMiddleware(..., autoload=False)`` a route that does not declare :data:`Session` costs
no store call, even when the request carries a session cookie::

    from dynsession.fastapi import Session

    @app.get("/cart")
    async def cart(session: Session) -> dict[str, int]:
        return session.get("cart", {})

This module imports FastAPI; ``dynsession`` itself does not.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeAlias

from fastapi import Depends
from starlette.requests import HTTPConnection

from ._request.lazy import load_session

__all__ = ["Session", "get_session"]


async def get_session(connection: HTTPConnection) -> dict[str, Any]:
    """The dependency behind :data:`Session`: loads the request's (or websocket's) session once
    and returns it, the same dict as ``request.session``.

    Raises what :func:`dynsession.load_session` raises: StoreError when the store cannot be read
    (the middleware answers 503), RuntimeError when the middleware is not installed.
    """
    return await load_session(connection)


Session: TypeAlias = Annotated[dict[str, Any], Depends(get_session)]
"""A route parameter ``session: Session`` is the request's session dict, loaded on demand."""
