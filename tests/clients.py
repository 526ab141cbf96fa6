"""A wrapping boto3 DynamoDB client that counts calls and can inject faults; table and port helpers."""

from __future__ import annotations

import socket
import threading
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import botocore.exceptions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class WrappingClient:
    """Passes every call to a real client, counting it by method name (``describe_table``, …).

    ``faults`` maps a method name to a function called with the keyword arguments instead of the
    real method (it may raise, or call ``inner`` and doctor the answer).
    """

    def __init__(self, inner: DynamoDBClient, faults: dict[str, Callable[..., Any]] | None = None) -> None:
        self.inner = inner
        self.faults = dict(faults or {})
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        if name == "meta":  # the region and endpoint, which messages about the table name
            return self.inner.meta
        method = self.faults.get(name) or getattr(self.inner, name)

        def call(**kwargs: Any) -> Any:
            with self._lock:
                self.calls[name] += 1
            return method(**kwargs)

        return call

    def as_client(self) -> DynamoDBClient:
        """This wrapper typed as what DynamoDBStore and dynsession.tables accept."""
        return cast("DynamoDBClient", self)


def client_error(code: str, operation: str, message: str = "injected") -> botocore.exceptions.ClientError:
    """A ClientError as botocore raises it for an error response with ``code``."""
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, operation)


def make_table(
    client: DynamoDBClient,
    name: str,
    *,
    hash_key: tuple[str, str] = ("id", "S"),
    range_key: tuple[str, str] | None = None,
    provisioned: bool = False,
) -> None:
    """Create a table of any shape (including wrong ones) and wait until it exists."""
    keys: list[tuple[str, Any]] = [hash_key] if range_key is None else [hash_key, range_key]
    billing: dict[str, Any] = (
        {
            "BillingMode": "PROVISIONED",
            "ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5},
        }
        if provisioned
        else {"BillingMode": "PAY_PER_REQUEST"}
    )
    client.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": key, "AttributeType": kind} for key, kind in keys],
        KeySchema=[
            {"AttributeName": key, "KeyType": "HASH" if i == 0 else "RANGE"}
            for i, (key, _) in enumerate(keys)
        ],
        **billing,
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def free_port() -> int:
    """A loopback TCP port nothing listens on (free when asked; nothing here binds it later)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
