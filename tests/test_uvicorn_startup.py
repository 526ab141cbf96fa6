"""A bad ``secret_key`` under uvicorn's defaults is said on the console at startup, before uvicorn
reports it serves: Starlette builds the middleware during the lifespan startup, and uvicorn's
``--lifespan auto`` swallows the error there ("ASGI 'lifespan' protocol appears unsupported")."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from .clients import free_port

APP = """
import os

from fastapi import FastAPI, Request

from dynsession import MemoryStore, SessionMiddleware

app = FastAPI()
app.add_middleware(SessionMiddleware, store=MemoryStore(), secret_key=os.environ.get("SESSION_SECRET"))


@app.get("/")
async def counter(request: Request) -> dict[str, int]:
    request.session["visits"] = request.session.get("visits", 0) + 1
    return {"visits": request.session["visits"]}
"""
READY = "Uvicorn running on"
TIMEOUT = 60.0


def serve(directory: Path, secret: str | None) -> tuple[list[str], int]:
    """Run ``uvicorn app:app`` with its defaults until it says it serves; return what it printed
    up to then and the status of one request. The process is stopped by its PID."""
    (directory / "app.py").write_text(APP, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if key != "SESSION_SECRET"}
    if secret is not None:
        env["SESSION_SECRET"] = secret
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port)],
        cwd=directory,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stderr is not None
        printed: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while not any(READY in line for line in printed) and time.monotonic() < deadline:
            line = server.stderr.readline()
            if not line:
                break
            printed.append(line.rstrip("\n"))
        assert any(READY in line for line in printed), printed
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = exc.code
        return printed, status
    finally:
        server.terminate()
        server.wait(timeout=20)
        if server.stderr is not None:
            server.stderr.close()


def startup_lines(printed: list[str]) -> list[str]:
    return printed[: next(n for n, line in enumerate(printed) if READY in line)]


@pytest.mark.parametrize(
    ("secret", "problem"),
    [
        ("", "it is an empty string"),
        (None, "it is None (an environment variable that is not set?)"),
    ],
    ids=["empty", "unset"],
)
def test_a_refused_secret_is_an_error_line_at_startup(
    tmp_path: Path, secret: str | None, problem: str
) -> None:
    printed, status = serve(tmp_path, secret)
    startup = startup_lines(printed)
    (error,) = [line for line in startup if line.startswith("dynsession: SessionMiddleware refused")]
    assert problem in error, error
    assert "secrets.token_urlsafe(32)" in error
    # The error is said before uvicorn's own (misleading) line about the lifespan protocol.
    assert startup.index(error) < next(n for n, line in enumerate(startup) if "lifespan" in line), startup
    assert status == 500


def test_a_short_secret_is_a_warning_at_startup_and_the_app_serves(tmp_path: Path) -> None:
    printed, status = serve(tmp_path, "brief-key")
    (warning,) = [line for line in startup_lines(printed) if "secret_key" in line]
    assert "a key of 9 characters, shorter than 16" in warning
    assert "brief-key" not in warning
    assert status == 200
