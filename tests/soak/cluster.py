"""The soak's processes: the fault proxy and the uvicorn apps, each started here and stopped by the
PID it was started with (kill -9 included), on loopback ports only."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from typing import Any

READY_SECONDS = 30.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Proxy:
    """``python -m tests.soak.faults`` in front of ``upstream``."""

    def __init__(self, upstream: str, seed: int, stall: float) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.soak.faults", upstream, str(seed), str(stall)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        if not self.url.startswith("http://127.0.0.1:"):
            self.stop()
            raise RuntimeError(f"the fault proxy did not start: {self.url!r}")

    def faults_off(self) -> None:
        self.process.send_signal(signal.SIGUSR1)

    def counts(self) -> dict[str, Any]:
        """Stop the proxy; the count of each fault it injected."""
        self.process.send_signal(signal.SIGTERM)
        out, _ = self.process.communicate(timeout=30)
        counts: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
        return counts

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


class Apps:
    """``count`` uvicorn processes serving tests/soak/app.py, one port each."""

    def __init__(self, count: int, env: dict[str, str]) -> None:
        self.env = {**os.environ, **env}
        self.logs = tempfile.TemporaryDirectory(prefix="dynsession-soak-")
        self.ports = [free_port() for _ in range(count)]
        self.processes: dict[int, subprocess.Popen[bytes]] = {}
        self.kills = 0
        try:
            for port in self.ports:
                self.start(port)
            for port in self.ports:
                self.wait_ready(port)
        except BaseException:
            self.stop()
            raise

    def start(self, port: int) -> None:
        command = [sys.executable, "-m", "uvicorn", "tests.soak.app:app", "--host", "127.0.0.1"]
        command += ["--port", str(port), "--no-access-log", "--log-level", "error"]
        with open(self.log(port), "ab") as log:
            self.processes[port] = subprocess.Popen(command, env=self.env, stderr=log)

    def log(self, port: int) -> str:
        return os.path.join(self.logs.name, f"app-{port}.log")

    def wait_ready(self, port: int) -> None:
        deadline = time.monotonic() + READY_SECONDS
        while time.monotonic() < deadline:
            if self.processes[port].poll() is not None:
                with open(self.log(port), encoding="utf-8", errors="replace") as log:
                    last = "".join(log.readlines()[-15:])
                code = self.processes[port].returncode
                raise RuntimeError(f"the app on port {port} exited with {code}:\n{last}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/read", timeout=5):
                    return
            except urllib.error.HTTPError:
                return  # it answers (a 503 while faults are on is still an answer)
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the app on port {port} did not answer within {READY_SECONDS} s")

    def kill(self, port: int) -> None:
        """kill -9 the app on ``port``."""
        process = self.processes[port]
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            self.kills += 1
        process.wait()

    def alive(self, port: int) -> bool:
        return self.processes[port].poll() is None

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.logs.cleanup()
