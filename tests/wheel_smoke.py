"""Smoke test of an installed wheel, run by ``nox -s wheel`` in a fresh virtualenv, away from the checkout.

It imports dynsession as installed, makes a session round trip through the middleware on a
MemoryStore with Starlette's TestClient, and runs the ``dynsession`` command; warnings are errors
(``python -W error``). Not collected by pytest.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

import dynsession
from dynsession import MemoryStore, SessionMiddleware, end_session


def check_installed() -> None:
    package = Path(dynsession.__file__).resolve().parent
    site_packages = Path(sysconfig.get_paths()["purelib"]).resolve()
    assert package.parent == site_packages, f"dynsession imported from {package}, not {site_packages}"
    assert (package / "py.typed").is_file(), "py.typed is missing"


def check_round_trip() -> None:
    async def visit(request: Request) -> JSONResponse:
        request.session["visits"] = request.session.get("visits", 0) + 1
        return JSONResponse(request.session)

    async def logout(request: Request) -> JSONResponse:
        end_session(request)
        return JSONResponse({})

    store = MemoryStore()
    app = Starlette(routes=[Route("/", visit), Route("/logout", logout, methods=["POST"])])
    app.add_middleware(SessionMiddleware, store=store, secret_key="smoke-test-key")
    with TestClient(app, base_url="https://testserver") as client:
        first = client.get("/")
        assert first.json() == {"visits": 1}, first.text
        assert "session=" in first.headers["set-cookie"]
        assert client.get("/").json() == {"visits": 2}
        expired = client.post("/logout").headers["set-cookie"]
        assert "Max-Age=0" in expired or "expires=Thu, 01 Jan 1970" in expired, expired
        assert client.get("/").json() == {"visits": 1}


def check_command() -> None:
    command = Path(sysconfig.get_paths()["scripts"]) / "dynsession"
    done = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "create-table" in done.stdout and "check-table" in done.stdout, done.stdout


def main() -> None:
    check_installed()
    check_round_trip()
    check_command()
    print(f"wheel smoke test passed: dynsession {dynsession.__version__} on Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
