"""Run ``python -m example_app`` as a real process on a free loopback port."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Debian's Chromium (never a browser downloaded by Playwright), headless, quiet.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# The marks of every browser test: end-to-end, and skipped (saying how to install it) without Chromium.
BROWSER_TEST = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}; install Debian's package with: apt-get install -y chromium",
    ),
]
STARTUP_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ExampleProcess:
    """A running example app: its base URL, the line it printed, and everything it wrote."""

    process: subprocess.Popen[str]
    url: str
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    reader: threading.Thread | None = None

    def first_line(self, timeout: float = STARTUP_TIMEOUT) -> str:
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"the example printed nothing within {timeout} s") from None

    def wait_until_serving(self, timeout: float = STARTUP_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"the example exited early with status {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "login", timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        raise AssertionError(f"the example did not answer within {timeout} s")

    def interrupt(self, timeout: float = STOP_TIMEOUT) -> int:
        """Press Ctrl-C (SIGINT) and return the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Stop the process if it still runs (Ctrl-C, then kill) and close its output pipe."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.reader is not None:
            self.reader.join(timeout=STOP_TIMEOUT)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_example(*args: str, env: Mapping[str, str] | None = None) -> ExampleProcess:
    """Start ``python -m example_app --port <free> ARGS`` from the repository root."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "example_app", "--port", str(port), *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    example = ExampleProcess(process, f"http://127.0.0.1:{port}/")
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            example.lines.put(line.rstrip("\n"))

    example.reader = threading.Thread(target=pump, daemon=True)
    example.reader.start()
    return example


@pytest.fixture
def example_app() -> Iterator[ExampleProcess]:
    """The example on its embedded moto server; adding to the cart pauses so two tabs can race."""
    example = start_example(env={"EXAMPLE_CART_DELAY": "1.5", "EXAMPLE_SECRET_KEY": "e2e-secret"})
    try:
        example.wait_until_serving()
        yield example
    finally:
        example.stop()
