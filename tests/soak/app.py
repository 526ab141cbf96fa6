"""The app each soak process serves (``uvicorn tests.soak.app:app``): a DynamoDBStore reached
through the fault proxy, configured by DYNSESSION_SOAK_ENDPOINT, _TABLE and _TRANSPORT.

``POST /write?key=K&value=V`` stores one key (and, on a session's first write, ``owner``: the
browser named by the ``x-soak-browser`` header); ``GET /read`` answers the whole session,
changing nothing. Every answer carries the session's ``owner``, so a browser sees cross-talk at once.
"""

from __future__ import annotations

import os

import botocore.config
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dynsession import DynamoDBStore, SessionMiddleware

from ..support import SECRET

# Short timeouts, so a stalled call fails (and is retried) well within a browser's patience.
CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 1.5
BROWSER_HEADER = "x-soak-browser"


async def write(request: Request) -> Response:
    session = request.session
    session.setdefault("owner", request.headers.get(BROWSER_HEADER, ""))
    session[request.query_params["key"]] = request.query_params["value"]
    return JSONResponse({"owner": session["owner"]})


async def read(request: Request) -> Response:
    return JSONResponse(dict(request.session))


def build() -> Starlette:
    store = DynamoDBStore(
        os.environ["DYNSESSION_SOAK_TABLE"],
        endpoint_url=os.environ["DYNSESSION_SOAK_ENDPOINT"],
        region_name="us-east-1",
        transport=os.environ["DYNSESSION_SOAK_TRANSPORT"],  # type: ignore[arg-type]
        config=botocore.config.Config(connect_timeout=CONNECT_TIMEOUT, read_timeout=READ_TIMEOUT),
    )
    app = Starlette(routes=[Route("/write", write, methods=["POST"]), Route("/read", read)])
    app.add_middleware(SessionMiddleware, store=store, secret_key=SECRET, https_only=False)
    return app


app = build() if "DYNSESSION_SOAK_TABLE" in os.environ else None
