"""``dynsession local``: a DynamoDB on loopback with the table in it, the exports, Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import pytest

from dynsession._operator.cli import main

from .clients import free_port

REPO = Path(__file__).resolve().parent.parent
STARTUP_TIMEOUT = 60.0


@dataclass
class LocalServer:
    """A running ``dynsession local``: its process and the lines it printed."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def read_until(self, last: str) -> list[str]:
        """The lines printed up to and including the first one starting with ``last``."""
        seen: list[str] = []
        while not (seen and seen[-1].startswith(last)):
            try:
                seen.append(self.lines.get(timeout=STARTUP_TIMEOUT))
            except queue.Empty:
                raise AssertionError(f"no line starting {last!r} in {seen}") from None
        return seen

    def environment(self, printed: list[str]) -> dict[str, str]:
        """The variables the printed ``export NAME=value`` lines set."""
        pairs = [line.removeprefix("export ").split("=", 1) for line in printed if line.startswith("export ")]
        return {name: value for name, value in pairs}


def start(*args: str, ignore_sigint: bool = False) -> LocalServer:
    """``python -m dynsession ARGS`` from the repository root, its output read line by line;
    ``ignore_sigint`` starts it as ``&`` in a shell script does."""
    process = subprocess.Popen(
        [sys.executable, "-m", "dynsession", *args],
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=(lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if ignore_sigint else None,
    )
    server = LocalServer(process)
    assert process.stdout is not None
    stdout = process.stdout

    def pump() -> None:
        for line in stdout:
            server.lines.put(line.rstrip("\n"))

    threading.Thread(target=pump, daemon=True).start()
    return server


@contextlib.contextmanager
def running(*, ignore_sigint: bool = False) -> Iterator[tuple[LocalServer, int]]:
    port = free_port()
    server = start("local", "--table", "sessions", "--port", str(port), ignore_sigint=ignore_sigint)
    try:
        yield server, port
    finally:
        if server.process.poll() is None:
            server.process.kill()
            server.process.wait()
        if server.process.stdout is not None:
            server.process.stdout.close()


@pytest.fixture
def local_server() -> Iterator[tuple[LocalServer, int]]:
    with running() as started:
        yield started


def closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def test_local_prints_exports_that_reach_the_table_and_ctrl_c_stops_it(
    local_server: tuple[LocalServer, int],
) -> None:
    server, port = local_server
    printed = server.read_until("Ctrl-C stops it")
    endpoint = f"http://127.0.0.1:{port}"

    assert printed == [
        f"dynsession local: DynamoDB (moto) at {endpoint}, table 'sessions' in us-east-1.",
        "Point your app and the dynsession command at it: run these in their shell.",
        "",
        f"export AWS_ENDPOINT_URL_DYNAMODB={endpoint}",
        "export AWS_DEFAULT_REGION=us-east-1",
        "export AWS_ACCESS_KEY_ID=local",
        "export AWS_SECRET_ACCESS_KEY=local",
        "",
        "Ctrl-C stops it; the data lives in memory and goes with it.",
    ]

    # Only the exported variables: no AWS profile, region or endpoint of the test run helps.
    exported = {"PATH": os.environ["PATH"], **server.environment(printed)}
    checked = subprocess.run(
        [sys.executable, "-m", "dynsession", "check-table", "--table", "sessions", "--user-index"],
        cwd=REPO,
        env={**exported, "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (checked.returncode, checked.stdout) == (0, "table 'sessions' is ready for dynsession\n")
    ttl = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",
    ).describe_time_to_live(TableName="sessions")["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", "ttl")

    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=20) == 0
    assert closed(port), "the server still listens after Ctrl-C"


@pytest.mark.parametrize(
    ("ignore_sigint", "stop"),
    [(True, signal.SIGINT), (False, signal.SIGTERM)],
    ids=["ctrl-c-when-started-in-the-background", "sigterm"],
)
def test_it_stops_cleanly_however_it_was_started(ignore_sigint: bool, stop: signal.Signals) -> None:
    with running(ignore_sigint=ignore_sigint) as (server, port):
        printed = server.read_until("Ctrl-C stops it")
        assert not closed(port), printed

        server.process.send_signal(stop)

        assert server.process.wait(timeout=20) == 0
        assert closed(port)


def test_without_the_local_extra_one_line_names_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # None in sys.modules makes `import moto.server` raise ImportError, as when moto is absent.
    monkeypatch.setitem(sys.modules, "moto.server", None)

    assert main(["local", "--table", "sessions", "--port", "0"]) == 1

    assert capsys.readouterr() == (
        "",
        "dynsession: error: `dynsession local` needs moto's DynamoDB server: "
        "pip install 'dynsession[local]'\n",
    )


def test_a_port_in_use_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        assert main(["local", "--table", "sessions", "--port", str(port)]) == 1

    assert capsys.readouterr() == (
        "",
        f"dynsession: error: port {port} on 127.0.0.1 is in use; pick another with --port\n",
    )
