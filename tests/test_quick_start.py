"""The Quick start of the Getting started page runs verbatim, as a reader runs it: ``dynsession
local`` in one terminal, the printed exports, ``create-table`` and each snippet served by uvicorn in
another. (tests/test_doc_examples.py runs every docs example in-process.)"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from .clients import free_port
from .doc_examples import REPO, in_chapter

BIN = Path(sys.executable).parent
TIMEOUT = 60.0


GETTING_STARTED = REPO / "docs" / "index.md"


def examples(section: str) -> list[str]:
    """The ```python blocks of one ``## `` section of the Getting started page."""
    return in_chapter(GETTING_STARTED, section, "python")


def shell_block(section: str, containing: str) -> str:
    (found,) = [code for code in in_chapter(GETTING_STARTED, section, "sh") if containing in code]
    return found


# -- the Quick start's three steps, as a reader runs them ----------------------------------------


def clean_environment(home: Path) -> dict[str, str]:
    """A shell's environment with no AWS settings at all and the test's virtualenv first on PATH
    (the reader's activated virtualenv); PYTHONPATH makes it import this checkout."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env.update(PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", PYTHONPATH=str(REPO), HOME=str(home))
    env.pop("DYNSESSION_TEST_ENDPOINT", None)
    return env


class Shell:
    """A process started like a terminal command, in its own process group so Ctrl-C reaches it all."""

    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path) -> None:
        self.process = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )

    def lines_until(self, last: str) -> list[str]:
        assert self.process.stdout is not None
        seen: list[str] = []
        deadline = time.monotonic() + TIMEOUT
        while not (seen and seen[-1].startswith(last)) and time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip("\n"))
        assert seen and seen[-1].startswith(last), seen
        return seen

    def ctrl_c(self) -> int:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            return self.process.wait(timeout=20)
        finally:
            if self.process.poll() is None:  # pragma: no cover - only when Ctrl-C did not stop it
                os.killpg(self.process.pid, signal.SIGKILL)
            if self.process.stdout is not None:
                self.process.stdout.close()


def wait_for_port(port: int, shell: Shell) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if shell.process.poll() is not None:
            output = shell.process.stdout.read() if shell.process.stdout else ""
            raise AssertionError(f"the app exited before serving:\n{output}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port}")


def browse(url: str, times: int) -> list[int]:
    """GET ``url`` ``times`` times, sending the session cookie back as a browser on 127.0.0.1 does
    (it keeps Secure cookies from loopback); return the visit counts."""
    cookie: str | None = None
    counts = []
    for _ in range(times):
        request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
        with urllib.request.urlopen(request, timeout=10) as response:
            counts.append(json.loads(response.read())["visits"])
            header = response.headers.get("set-cookie")
            if header:
                cookie = header.split(";", 1)[0]
    return counts


@pytest.fixture
def local_server(tmp_path: Path) -> Iterator[tuple[Shell, list[str], int]]:
    """Step 2, as printed on the page (on a free port): the server and the lines it printed."""
    command = shlex.split(shell_block("Quick start", "dynsession local"))
    assert command[:2] == ["dynsession", "local"]
    port = free_port()
    shell = Shell(
        [str(BIN / "dynsession"), *command[1:], "--port", str(port)],
        env=clean_environment(tmp_path),
        cwd=tmp_path,
    )
    try:
        yield shell, shell.lines_until("Ctrl-C stops it"), port
    finally:
        assert shell.ctrl_c() == 0


def test_the_quick_start_runs_verbatim_against_dynsession_local(
    local_server: tuple[Shell, list[str], int], tmp_path: Path
) -> None:
    shell, printed, port = local_server
    assert "'.[local]'" in shell_block("Quick start", "pip install")

    (shown,) = in_chapter(GETTING_STARTED, "Quick start", "text")
    assert printed == shown.replace(":4567", f":{port}").rstrip("\n").split("\n")
    exports = "\n".join(line for line in printed if line.startswith("export "))

    # On AWS the page creates the table with a command the snippets agree with; here it finds
    # the table `dynsession local` made, in the region the exports name.
    create = shell_block("Quick start", "dynsession create-table")
    created = subprocess.run(
        ["bash", "-c", f"{exports}\n{create}"],
        env=clean_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert (created.returncode, created.stdout) == (0, "table 'sessions' is ready for dynsession\n"), (
        created.stderr
    )

    serve = shell_block("Quick start", "uvicorn app:app")
    snippets = examples("Quick start")
    assert len(snippets) == 2
    for snippet in snippets:
        (tmp_path / "app.py").write_text(snippet)
        app_port = free_port()
        script = f"{exports}\n" + serve.replace("uvicorn app:app", f"uvicorn app:app --port {app_port}")
        app = Shell(["bash", "-c", script], env=clean_environment(tmp_path), cwd=tmp_path)
        try:
            wait_for_port(app_port, app)
            assert browse(f"http://127.0.0.1:{app_port}/", 3) == [1, 2, 3]
        finally:
            app.ctrl_c()
