"""A small shop on dynsession: a visit counter, login, a cart and logout, as a Starlette app."""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import anyio
import jinja2
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.templating import Jinja2Templates

from dynsession import (
    Clock,
    DynamoDBStore,
    SessionMiddleware,
    SessionStore,
    end_session,
    regenerate_session,
    session_info,
    system_clock,
)
from dynsession.cache import DistributedCache, DynamoDBCache, HybridCache, HybridCacheStats, MemoryCache

from .devices import device_routes
from .settings import Settings
from .status import DEADLINE_COOKIE, deadline, describe, ended_early, relative, wall_time

DEMO_PASSWORD = "demo"
CART_PREFIX = "cart:"
COOKIE = "session"
CATALOGUE: dict[str, tuple[str, int]] = {
    "apple": ("Apple", 50),
    "bread": ("Bread", 250),
    "cheese": ("Cheese", 480),
    "tea": ("Tea", 320),
}
CATALOGUE_DELAY = 1.0  # seconds the simulated product service takes to answer
CATALOGUE_LIFETIME = 60  # seconds a computed catalogue is served from the cache
CATALOGUE_LOCAL_TTL = 5  # seconds a process serves its own copy without asking the shared cache
CATALOGUE_FAIL_SAFE = 3600  # seconds past its lifetime a catalogue may be served if recomputing fails

# Templates and static files are read once at import: reading files per request would block the
# event loop.
_HERE = Path(__file__).parent
_environment = jinja2.Environment(
    loader=jinja2.DictLoader(
        {path.name: path.read_text("utf-8") for path in (_HERE / "templates").glob("*.html")}
    ),
    autoescape=True,
)
_environment.filters.update(wall_time=wall_time, relative=relative)
templates = Jinja2Templates(env=_environment)
STATIC_FILES = {
    "shop.css": ((_HERE / "static" / "shop.css").read_bytes(), "text/css"),
    "favicon.svg": ((_HERE / "static" / "favicon.svg").read_bytes(), "image/svg+xml"),
}


def create_app(
    store: SessionStore,
    settings: Settings,
    *,
    clock: Clock = system_clock,
    cache: DistributedCache | None = None,
    catalogue_delay: float = CATALOGUE_DELAY,
) -> Starlette:
    """Build the example app with its sessions kept in ``store``, timed by ``clock``. The product
    catalogue is cached by a HybridCache in front of ``cache`` (default: a DynamoDBCache in the
    sessions table when ``store`` is a DynamoDBStore, else a MemoryCache); a HybridCache given as
    ``cache`` is used as it is.

    Raises dynsession.ConfigurationError when the settings are not valid middleware options.
    """
    shared = _hybrid(cache if cache is not None else _default_cache(store, clock), clock)

    async def home(request: Request) -> Response:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return _page(request, "home.html", clock, wrote=True, visits=request.session["visits"])

    async def login_form(request: Request) -> Response:
        return _page(request, "login.html", clock, bye=request.query_params.get("bye") == "1")

    async def login(request: Request) -> Response:
        form = await request.form()
        name, password = str(form.get("username", "")).strip(), form.get("password")
        if not name or len(name) > 40 or password != DEMO_PASSWORD:
            return _page(request, "login.html", clock, error="Wrong user name or password.", status_code=401)
        # A new session ID on login, so an ID planted before login is worthless afterwards; bound to
        # the user, so it is listed on their Devices page.
        regenerate_session(request, user_id=name)
        request.session["user"] = {"name": name, "since": clock()}
        return RedirectResponse("/", status_code=303)

    async def logout(request: Request) -> Response:
        end_session(request)
        # The login page only reads the session, so the browser is left without a session cookie.
        return RedirectResponse("/login?bye=1", status_code=303)

    async def cart(request: Request) -> Response:
        return _page(request, "cart.html", clock, catalogue=CATALOGUE, lines=cart_lines(request.session))

    async def cart_add(request: Request) -> Response:
        sku = await _known_sku(request)
        if settings.cart_delay:
            await anyio.sleep(settings.cart_delay)
        # One session key per cart line: when two tabs add different items at the same moment,
        # dynsession's merge keeps both because each request changed a different key.
        line = request.session.get(CART_PREFIX + sku) or {"qty": 0, "added": clock()}
        request.session[CART_PREFIX + sku] = {**line, "qty": line["qty"] + 1}
        return RedirectResponse("/cart", status_code=303)

    async def cart_remove(request: Request) -> Response:
        request.session.pop(CART_PREFIX + await _known_sku(request), None)
        return RedirectResponse("/cart", status_code=303)

    async def catalogue(request: Request) -> Response:
        computed = False

        async def from_service() -> list[dict[str, Any]]:
            nonlocal computed
            computed = True
            await anyio.sleep(catalogue_delay)  # a slow product service
            return [{"sku": sku, "name": name, "cents": cents} for sku, (name, cents) in CATALOGUE.items()]

        before = shared.stats
        started = time.perf_counter()
        products = await shared.get_or_set_json(
            "catalogue", from_service, absolute_in=CATALOGUE_LIFETIME, tags=("catalogue",)
        )
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        source = _source(shared, before, computed)
        context = {"products": products, "source": source, "computed": computed, "elapsed_ms": elapsed_ms}
        return _page(request, "catalogue.html", clock, **context)

    async def session_page(request: Request) -> Response:
        stored = session_snapshot(request)
        pretty = json.dumps(stored["session"], indent=2, sort_keys=True)
        return _page(request, "session.html", clock, stored=stored, pretty=pretty)

    async def session_json(request: Request) -> Response:
        return JSONResponse(session_snapshot(request), headers={"Cache-Control": "no-store"})

    async def static_file(request: Request) -> Response:
        found = STATIC_FILES.get(request.path_params["name"])
        if found is None:
            raise HTTPException(status_code=404)
        body, media_type = found
        return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=3600"})

    app = Starlette(
        routes=[
            Route("/", home),
            Route("/login", login_form),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/cart", cart),
            Route("/cart/add", cart_add, methods=["POST"]),
            Route("/cart/remove", cart_remove, methods=["POST"]),
            Route("/catalogue", catalogue),
            Route("/session", session_page),
            Route("/session.json", session_json),
            Route("/static/{name}", static_file),
            *device_routes(_page, clock),
        ]
    )
    app.state.settings = settings
    app.state.cache = shared
    app.add_middleware(
        SessionMiddleware,
        store=store,
        # The stylesheet and icon never read the session: skipping /static, a page's assets cost no
        # DynamoDB call although the browser sends the session cookie with each.
        autoload=["/static"],
        secret_key=settings.secret_key,
        session_cookie=COOKIE,
        idle_timeout=settings.idle_timeout,
        absolute_timeout=settings.absolute_timeout,
        # Browsers (and curl) keep a Secure cookie from http://127.0.0.1, loopback counting as secure;
        # Python's cookie jar, in httpx and the TestClient the tests drive the shop with, sends one
        # over https only.
        https_only=False,
        clock=clock,
    )
    return app


def _default_cache(store: SessionStore, clock: Clock) -> DistributedCache:
    if isinstance(store, DynamoDBStore):
        # The cache shares the sessions table and its client; its items live under "cache:dc:".
        return DynamoDBCache(store.table_name, client=store.client, clock=clock, validate_on_startup=False)
    return MemoryCache(clock=clock)


def _hybrid(cache: DistributedCache, clock: Clock) -> HybridCache:
    if isinstance(cache, HybridCache):
        return cache
    # Each process keeps a copy for a few seconds; one process computes a missing catalogue for
    # all (the others wait for it); an hour-old catalogue beats an error page.
    return HybridCache(
        cache, local_ttl=CATALOGUE_LOCAL_TTL, fail_safe=CATALOGUE_FAIL_SAFE, lock_timeout=5, clock=clock
    )


def _source(cache: HybridCache, before: HybridCacheStats, computed: bool) -> str:
    """Where the answer came from, told by what the cache counted during the call (requests at
    the same moment can blur it; a demo can live with that)."""
    after = cache.stats
    if after.stale_served > before.stale_served:
        return "stale"
    if computed:
        return "computed"
    if after.local_hits > before.local_hits:
        return "memory"
    return "DynamoDB" if isinstance(cache.shared, DynamoDBCache) else "the shared cache"


def cart_lines(session: dict[str, Any]) -> list[dict[str, Any]]:
    """The cart as display rows (sku, name, qty, cents), in catalogue order."""
    lines = []
    for sku, (name, cents) in CATALOGUE.items():
        line = session.get(CART_PREFIX + sku)
        if line:
            lines.append({"sku": sku, "name": name, "qty": line["qty"], "cents": cents * line["qty"]})
    return lines


def session_snapshot(request: Request) -> dict[str, Any]:
    """What is stored for this browser: the data and its times, or ``stored: False`` and no times
    when there is no session (never created, expired or logged out). Never the session ID."""
    info = session_info(request)
    if info.is_new:
        return {"stored": False, "session": dict(request.session), "info": None}
    return {"stored": True, "session": dict(request.session), "info": dataclasses.asdict(info)}


async def _known_sku(request: Request) -> str:
    sku = str((await request.form()).get("sku", ""))
    if sku not in CATALOGUE:
        raise HTTPException(status_code=404, detail="no such product")
    return sku


def _page(
    request: Request, name: str, clock: Clock, *, wrote: bool = False, status_code: int = 200, **context: Any
) -> Response:
    user = request.session.get("user")
    info = session_info(request)
    now = clock()
    signed_out = ended_early(request.cookies.get(DEADLINE_COOKIE), now)
    context.update(
        user=user["name"] if user else None,
        info=info,
        now=now,
        status=describe(info, had_cookie=COOKIE in request.cookies, wrote=wrote, signed_out=signed_out),
    )
    # Pages show session data: a browser must not show a stored copy once the session has changed.
    response = templates.TemplateResponse(
        request, name, context, status_code=status_code, headers={"Cache-Control": "no-store"}
    )
    if wrote or not info.is_new:
        response.set_cookie(DEADLINE_COOKIE, str(deadline(info)), httponly=True, samesite="lax")
    return response
