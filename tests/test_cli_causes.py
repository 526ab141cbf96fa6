"""The ``dynsession`` command names the real cause of a failure in one line, and every command it
suggests keeps the flags it was given: run as a program against moto's server and a plain web
server on loopback."""

from __future__ import annotations

import http.server
import os
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from dynsession.testing import local_dynamodb

# A local server takes any credentials; no AWS files or variables of the machine count.
ENVIRONMENT = {
    **{key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DYNSESSION_"))},
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}
# Every table flag away from its default, so a hint that drops one is caught.
LAYOUT = ["--partition-key", "pk", "--ttl-attribute", "expires", "--user-index-name", "by-user"]


def dynsession(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dynsession", *args],
        capture_output=True,
        text=True,
        env=ENVIRONMENT,
        timeout=60,
    )


def suggested(message: str) -> list[str]:
    """The command between backticks in a message, as argv without its leading ``dynsession``."""
    (command,) = re.findall(r"`([^`]+)`", message)
    words = shlex.split(command)
    assert words[0] == "dynsession", command
    return words[1:]


@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    with local_dynamodb() as url:
        yield url


def test_sessions_list_in_a_region_without_the_table_says_so_and_how_to_create_it_there(moto: str) -> None:
    """The table exists in us-east-1 only: listing in eu-west-1 names that region and endpoint, and
    the command it suggests creates the table (with the user index) exactly where it looked."""
    table = ["--table", "sessions", *LAYOUT]
    created = dynsession(
        "create-table", *table, "--user-index", "--region", "us-east-1", "--endpoint-url", moto
    )
    assert created.returncode == 0, created.stderr

    listing = ["sessions", "list", "--user", "alice", *table, "--region", "eu-west-1", "--endpoint-url", moto]
    failed = dynsession(*listing)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == (
        "dynsession: error: cannot list the sessions of user 'alice': table 'sessions' does not exist in "
        f"region eu-west-1 at {moto}; create it there with `dynsession create-table --table sessions "
        "--user-index --user-index-name by-user --partition-key pk --ttl-attribute expires "
        f"--region eu-west-1 --endpoint-url {moto}` or pass create_table_if_missing=True\n"
    )

    fixed = dynsession(*suggested(failed.stderr))
    assert fixed.returncode == 0, fixed.stderr
    listed = dynsession(*listing)
    assert (listed.returncode, listed.stdout, listed.stderr) == (0, "no live sessions of user 'alice'\n", "")


def test_sessions_revoke_on_a_table_without_the_index_says_how_to_add_it_there(moto: str) -> None:
    table = ["--table", "plain", *LAYOUT]
    created = dynsession("create-table", *table, "--region", "eu-west-1", "--endpoint-url", moto)
    assert created.returncode == 0, created.stderr

    failed = dynsession(
        "sessions", "revoke", "--user", "bob", *table, "--region", "eu-west-1", "--endpoint-url", moto
    )
    assert (failed.returncode, failed.stdout) == (1, "")
    (line,) = failed.stderr.splitlines()
    assert line.startswith(
        "dynsession: error: cannot end the sessions of user 'bob': user index 'by-user' does not exist "
        "(listing and ending a user's sessions need it); add it with: aws dynamodb update-table "
        "--table-name plain --attribute-definitions AttributeName=pk,AttributeType=S "
    ), line
    assert line.endswith(f" --region eu-west-1 --endpoint-url {moto}"), line


class _WebPage(http.server.BaseHTTPRequestHandler):
    """Any web server: an HTML page for every request, with the status the server was given."""

    def do_POST(self) -> None:
        body = b"<html><head><title>Not Found</title></head><body><h1>Not Found</h1></body></html>"
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=[404, 200], ids=["not-found", "catch-all"])
def web_server(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _WebPage)
    server.status = request.param  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", request.param
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_create_table_against_another_web_server_names_it_in_one_line(web_server: tuple[str, int]) -> None:
    url, status = web_server
    failed = dynsession("create-table", "--table", "sessions", "--region", "us-east-1", "--endpoint-url", url)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == (
        f"dynsession: error: the server at {url} (from --endpoint-url) answered HTTP {status} and a "
        "text/html body to DescribeTable, not a DynamoDB answer: it is not DynamoDB; check the host "
        "and port of --endpoint-url (`dynsession local` prints the URL of the server it runs)\n"
    )
    assert "<html" not in failed.stderr


def test_https_to_a_plain_http_port_says_use_http(moto: str) -> None:
    url = moto.replace("http://", "https://")
    failed = dynsession("check-table", "--table", "sessions", "--region", "us-east-1", "--endpoint-url", url)
    assert (failed.returncode, failed.stdout) == (1, "")
    assert failed.stderr == (
        f"dynsession: error: the server at {url}/ (from --endpoint-url) does not speak https: it "
        f"answered in plain http (TLS: wrong version number); use {moto}/\n"
    )
