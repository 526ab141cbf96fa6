"""The example's Devices page: the signed-in user's sessions, each with a "Sign out" button, and
"Sign out all other devices"."""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from dynsession import Clock, list_sessions, revoke_other_sessions, revoke_session, session_info

Page = Callable[..., Response]


def device_routes(page: Page, clock: Clock) -> list[Route]:
    """``GET /devices`` and its two sign-out forms; ``page(request, template, clock, **context)``
    renders a page of the shop."""

    async def devices(request: Request) -> Response:
        if session_info(request).user_id is None:
            return RedirectResponse("/login", status_code=303)
        ended = request.query_params.get("ended", "")
        sessions = await list_sessions(request)
        count = int(ended) if ended.isdigit() else None
        return page(request, "devices.html", clock, devices=sessions, ended=count)

    async def sign_out(request: Request) -> Response:
        ended = await revoke_session(request, str((await request.form()).get("handle", "")))
        if session_info(request).user_id is None:  # this device's own session was signed out
            return RedirectResponse("/login?bye=1", status_code=303)
        return RedirectResponse(f"/devices?ended={ended}", status_code=303)

    async def sign_out_others(request: Request) -> Response:
        ended = await revoke_other_sessions(request)
        return RedirectResponse(f"/devices?ended={ended}", status_code=303)

    return [
        Route("/devices", devices),
        Route("/devices/sign-out", sign_out, methods=["POST"]),
        Route("/devices/sign-out-others", sign_out_others, methods=["POST"]),
    ]
