"""The example's Devices page: the signed-in user's sessions, each with a "Sign out" button, and
"Sign out all other devices"."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import FastAPI, Form, Request
from fastapi.responses import RedirectResponse, Response

from dynsession import Clock, UserSession, list_sessions, revoke_other_sessions, revoke_session, session_info

Page = Callable[..., Response]


def add_device_routes(app: FastAPI, page: Page, clock: Clock) -> None:
    """Register ``GET /devices`` and its two sign-out forms on ``app``; ``page`` renders a template."""

    @app.get("/devices")
    async def devices(request: Request, ended: int | None = None) -> Response:
        if session_info(request).user_id is None:
            return RedirectResponse("/login", status_code=303)
        now = clock()
        rows = [_row(session, now) for session in await list_sessions(request)]
        return page(request, "devices.html", devices=rows, ended=ended)

    @app.post("/devices/sign-out")
    async def sign_out(request: Request, handle: Annotated[str, Form()]) -> Response:
        ended = await revoke_session(request, handle)
        if session_info(request).user_id is None:  # this device's own session was signed out
            return RedirectResponse("/login?bye=1", status_code=303)
        return RedirectResponse(f"/devices?ended={ended}", status_code=303)

    @app.post("/devices/sign-out-others")
    async def sign_out_others(request: Request) -> Response:
        ended = await revoke_other_sessions(request)
        return RedirectResponse(f"/devices?ended={ended}", status_code=303)


def _row(session: UserSession, now: int) -> dict[str, Any]:
    return {
        "handle": session.handle,
        "device": session.device,
        "current": session.current,
        "signed_in": _ago(now - session.signed_in),
        "last_active": _ago(now - session.last_active),
    }


def _ago(seconds: int) -> str:
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min ago"
