"""``dynsession local``: moto's DynamoDB server on loopback with the sessions table in it, until Ctrl-C.

It prints the ``export`` lines that point boto3 (and so ``DynamoDBStore`` and the ``dynsession``
command) at it. Needs the ``local`` extra: ``pip install 'dynsession[local]'``.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time

import boto3

from .. import tables
from ..tables.explain import ENDPOINT_VARIABLES
from ..testing import local_dynamodb

HOST = "127.0.0.1"
DEFAULT_PORT = 4567
DEFAULT_REGION = "us-east-1"
# moto accepts any credentials; fixed dummy ones keep a real AWS profile out of the picture.
DUMMY_CREDENTIALS = "local"
MISSING_EXTRA = "`dynsession local` needs moto's DynamoDB server: pip install 'dynsession[local]'"


def exports(endpoint_url: str, region: str) -> list[str]:
    """The shell lines that point boto3 at ``endpoint_url`` in ``region`` with dummy credentials."""
    return [
        f"export {ENDPOINT_VARIABLES[0]}={endpoint_url}",
        f"export AWS_DEFAULT_REGION={region}",
        f"export AWS_ACCESS_KEY_ID={DUMMY_CREDENTIALS}",
        f"export AWS_SECRET_ACCESS_KEY={DUMMY_CREDENTIALS}",
    ]


def run(
    table_name: str,
    *,
    port: int = DEFAULT_PORT,
    region: str = DEFAULT_REGION,
    partition_key: str = "id",
    ttl_attribute: str = "ttl",
) -> int:
    """Serve until Ctrl-C (SIGINT) or SIGTERM; return the exit status.

    1 with one line on stderr when the ``local`` extra is missing or the port is taken.
    """
    out, err = sys.stdout, sys.stderr
    try:
        import moto.server  # noqa: F401 - fail here, with the extra's name, not mid-start
    except ImportError:
        print(f"dynsession: error: {MISSING_EXTRA}", file=err)
        return 1
    if port and not _port_free(port):
        print(f"dynsession: error: port {port} on {HOST} is in use; pick another with --port", file=err)
        return 1
    _stop_on_signals()
    try:
        with local_dynamodb(port=port) as endpoint_url:
            client = boto3.session.Session().client(
                "dynamodb",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=DUMMY_CREDENTIALS,
                aws_secret_access_key=DUMMY_CREDENTIALS,
            )
            report = tables.create_table(
                client,
                table_name,
                partition_key=partition_key,
                ttl_attribute=ttl_attribute,
                poll_interval=0.1,
                # With the user index, so listing a user's sessions works locally as it does on AWS.
                user_index=True,
            )
            for finding in report.findings:
                print(finding, file=out)
            print(
                f"dynsession local: DynamoDB (moto) at {endpoint_url}, table {table_name!r} in {region}.",
                file=out,
            )
            print("Point your app and the dynsession command at it: run these in their shell.\n", file=out)
            print("\n".join(exports(endpoint_url, region)), file=out)
            print("\nCtrl-C stops it; the data lives in memory and goes with it.", file=out, flush=True)
            while True:
                # Short sleeps, not one endless wait: the signal may land on one of the server's
                # threads, and only the main thread raises KeyboardInterrupt, once it runs again.
                time.sleep(0.2)
    except KeyboardInterrupt:  # Ctrl-C, also while starting: the server stops, no traceback
        pass
    return 0


def _stop_on_signals() -> None:
    # A shell script that starts the command with `&` leaves SIGINT ignored, and a process manager
    # stops it with SIGTERM: both end it the way Ctrl-C does, with the server shut down.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, signal.default_int_handler)


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True
