"""Servers in processes of their own, so that their CPU is not counted as the client's: moto's
DynamoDB server and Debian's redis-server, each on a free loopback port, stopped by PID."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager

REDIS_INSTALL = "install Debian's redis-server (`apt-get install redis-server`) and `pip install redis`"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(
    ready: Callable[[], bool], process: subprocess.Popen[bytes], what: str, seconds: float = 30
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with status {process.returncode}")
        if ready():
            return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not become ready within {seconds:g} s")


@contextmanager
def process(command: list[str], ready: Callable[[], bool], what: str) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait(ready, process, what)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def moto_server() -> Iterator[str]:
    """Run ``python -m moto.server`` on a free loopback port; yield its URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with process(command, lambda: _answers(url + "/moto-api/"), "moto's server"):
        yield url


def redis_unavailable() -> str | None:
    """Why starsessions with Redis cannot be measured here, or None when it can."""
    if shutil.which("redis-server") is None:
        return f"redis-server is not installed: {REDIS_INSTALL}"
    try:
        import redis.asyncio  # noqa: F401
        import starsessions.stores.redis  # noqa: F401
    except ImportError as exc:
        return f"{exc}: {REDIS_INSTALL}"
    return None


@contextmanager
def redis_server() -> Iterator[str]:
    """Run redis-server (no persistence) on a free loopback port; yield its URL."""
    port = free_port()

    def ready() -> bool:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
        return False

    command = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        os.environ.get("TMPDIR", "/tmp"),
    ]
    with process(command, ready, "redis-server"):
        yield f"redis://127.0.0.1:{port}/0"
