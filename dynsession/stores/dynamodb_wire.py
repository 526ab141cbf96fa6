"""How DynamoDB's errors look to dynsession: the one translation of botocore's exceptions.

``MAX_ITEM_BYTES`` and ``item_size`` live in :mod:`.item_format` and are importable from here too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

import botocore.exceptions

from ..exceptions import DynSessionError, StoreError, StoreUnavailable
from .item_format import MAX_ITEM_BYTES, item_size

__all__ = ["MAX_ITEM_BYTES", "ConditionFailed", "item_size", "transport_errors", "translate_errors"]


class ConditionFailed(StoreError):
    """Internal: a condition expression did not hold (mapped to a conflict or ``False`` by callers)."""

    @property
    def item(self) -> dict[str, Any] | None:
        """The item DynamoDB sent back with the failure (``ReturnValuesOnConditionCheckFailure``)."""
        response = getattr(self.original, "response", None)
        item = response.get("Item") if isinstance(response, Mapping) else None
        return item if isinstance(item, dict) and item else None


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


@contextlib.contextmanager
def transport_errors(operation: str, table_name: str) -> Iterator[None]:
    """:func:`translate_errors` for a transport's call, where any other exception is a store
    failure too: botocore lets a few out unwrapped (a ``ValueError`` from a malformed answer), and
    a request must end in a 503, not a 500. dynsession's own errors pass through unchanged."""
    try:
        with translate_errors(operation, table_name):
            yield
    except DynSessionError:
        raise
    except Exception as exc:
        raise StoreUnavailable(f"{operation}: {type(exc).__name__}", original=exc) from exc
