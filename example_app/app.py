"""A small shop on dynsession: a visit counter, login, a cart and logout, as a FastAPI app."""

from __future__ import annotations

import dataclasses
import mimetypes
from pathlib import Path
from typing import Annotated, Any

import anyio
import jinja2
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from dynsession import (
    Clock,
    SessionMiddleware,
    SessionStore,
    end_session,
    regenerate_session,
    session_info,
    system_clock,
)

from .settings import Settings

DEMO_PASSWORD = "demo"
CART_PREFIX = "cart:"
CATALOGUE: dict[str, tuple[str, int]] = {
    "apple": ("Apple", 50),
    "bread": ("Bread", 250),
    "cheese": ("Cheese", 480),
    "tea": ("Tea", 320),
}

# Templates are read once at import: a file loader would stat and read files on the event loop.
_TEMPLATE_DIR = Path(__file__).parent / "templates"
_STATIC_DIR = Path(__file__).parent / "static"
# Static responses guess their type with mimetypes, which reads the system's tables on first use:
# reading them at import keeps that file access off the event loop.
mimetypes.init()
templates = Jinja2Templates(
    env=jinja2.Environment(
        loader=jinja2.DictLoader(
            {path.name: path.read_text("utf-8") for path in _TEMPLATE_DIR.glob("*.html")}
        ),
        autoescape=True,
    )
)


def create_app(store: SessionStore, settings: Settings, *, clock: Clock = system_clock) -> FastAPI:
    """Build the example app with its sessions kept in ``store``, timed by ``clock``.

    Raises dynsession.ConfigurationError when the settings are not valid middleware options.
    """
    app = FastAPI(title="dynsession example shop", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.settings = settings

    @app.get("/")
    async def home(request: Request) -> Response:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return _page(request, "home.html", visits=request.session["visits"])

    @app.get("/login")
    async def login_form(request: Request, bye: bool = False) -> Response:
        return _page(request, "login.html", bye=bye)

    @app.post("/login")
    async def login(
        request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]
    ) -> Response:
        name = username.strip()
        if not name or len(name) > 40 or password != DEMO_PASSWORD:
            return _page(request, "login.html", error="Wrong user name or password.", status_code=401)
        # A new session ID on login, so an ID planted before login is worthless afterwards.
        regenerate_session(request)
        request.session["user"] = {"name": name, "since": clock()}
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request) -> Response:
        end_session(request)
        # The login page only reads the session, so the browser is left without a session cookie.
        return RedirectResponse("/login?bye=1", status_code=303)

    @app.get("/cart")
    async def cart(request: Request) -> Response:
        return _page(request, "cart.html", catalogue=CATALOGUE, lines=cart_lines(request.session))

    @app.post("/cart/add")
    async def cart_add(request: Request, sku: Annotated[str, Form()]) -> Response:
        _known(sku)
        if settings.cart_delay:
            await anyio.sleep(settings.cart_delay)
        # One session key per cart line: when two tabs add different items at the same moment,
        # dynsession's merge keeps both because each request changed a different key.
        line = request.session.get(CART_PREFIX + sku) or {"qty": 0, "added": clock()}
        request.session[CART_PREFIX + sku] = {**line, "qty": line["qty"] + 1}
        return RedirectResponse("/cart", status_code=303)

    @app.post("/cart/remove")
    async def cart_remove(request: Request, sku: Annotated[str, Form()]) -> Response:
        _known(sku)
        request.session.pop(CART_PREFIX + sku, None)
        return RedirectResponse("/cart", status_code=303)

    @app.get("/session")
    async def session_json(request: Request) -> Response:
        info = dataclasses.asdict(session_info(request))
        return JSONResponse(
            {"session": dict(request.session), "info": info}, headers={"Cache-Control": "no-store"}
        )

    # Stylesheets and images never read the session: with autoload skipping /static, a page's
    # assets cost no DynamoDB call even though the browser sends the session cookie with each.
    app.mount("/static", StaticFiles(directory=_STATIC_DIR), name="static")

    app.add_middleware(
        SessionMiddleware,
        store=store,
        autoload=["/static"],
        secret_key=settings.secret_key,
        idle_timeout=settings.idle_timeout,
        absolute_timeout=settings.absolute_timeout,
        # The example serves plain http on loopback, where a Secure cookie would never come back.
        https_only=False,
        clock=clock,
    )
    return app


def cart_lines(session: dict[str, Any]) -> list[dict[str, Any]]:
    """The cart as display rows (sku, name, qty, cents), in catalogue order."""
    lines = []
    for sku, (name, cents) in CATALOGUE.items():
        line = session.get(CART_PREFIX + sku)
        if line:
            lines.append({"sku": sku, "name": name, "qty": line["qty"], "cents": cents * line["qty"]})
    return lines


def _known(sku: str) -> None:
    if sku not in CATALOGUE:
        raise HTTPException(status_code=404, detail="no such product")


def _page(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    user = request.session.get("user")
    context.update(user=user["name"] if user else None, info=session_info(request))
    # Pages show session data: a browser must not show a stored copy once the session has changed.
    return templates.TemplateResponse(
        request, name, context, status_code=status_code, headers={"Cache-Control": "no-store"}
    )
