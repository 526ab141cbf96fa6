"""How DynamoDB's wire format and errors look to dynsession: item sizes and error translation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from ..exceptions import StoreError, StoreUnavailable

MAX_ITEM_BYTES = 400 * 1024


class ConditionFailed(StoreError):
    """Internal: a condition expression did not hold (mapped to a conflict or ``False`` by callers)."""


_THROTTLED = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}


@contextlib.contextmanager
def translate_errors(operation: str, table_name: str) -> Iterator[None]:
    """Turn botocore's exceptions into dynsession's; the one place that knows botocore's errors."""
    try:
        yield
    except botocore.exceptions.ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "Unknown")
        if code == "ConditionalCheckFailedException":
            raise ConditionFailed(f"{operation}: condition failed", original=exc) from exc
        if code == "ResourceNotFoundException":
            message = f"{operation}: DynamoDB table {table_name!r} does not exist"
        elif code in _THROTTLED:
            message = f"{operation}: throttled by DynamoDB past retries ({code})"
        else:
            message = f"{operation}: DynamoDB returned {code}"
        raise StoreUnavailable(message, original=exc) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise StoreUnavailable(f"{operation}: {type(exc).__name__}", original=exc) from exc


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Return an item's size by DynamoDB's rules: attribute names plus values.

    Numbers count one byte per two significant digits plus one, strings their UTF-8 length,
    binaries their length, NULL and booleans one byte. Only the scalar types dynsession writes are
    handled.
    """
    total = 0
    for name, value in item.items():
        total += len(name.encode("utf-8"))
        if "S" in value:
            total += len(value["S"].encode("utf-8"))
        elif "B" in value:
            total += len(value["B"])
        elif "N" in value:
            digits = value["N"].lstrip("-").replace(".", "").strip("0") or "0"
            total += (len(digits) + 1) // 2 + 1
        elif "NULL" in value or "BOOL" in value:
            total += 1
        else:  # pragma: no cover - dynsession writes no other types
            raise TypeError(f"unsupported attribute type in {name!r}")
    return total
