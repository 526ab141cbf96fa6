"""DynamoDB's JSON 1.0 wire format, for any operation: requests shaped as boto3's low-level client
takes them become the JSON body DynamoDB expects, and answers become what boto3 returns.

The only translation boto3 does for item operations is Binary: ``bytes`` on the Python side,
base64 text on the wire. Binary appears only inside attribute values, as ``{"B": ...}`` or
``{"BS": [...]}``, and no other object in DynamoDB's answers is a single-member ``B``/``BS``
object holding text, so answers are decoded without knowing the operation's shape.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, default=lambda value: _default(value))


def _default(value: object) -> object:
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a DynamoDB request value")


def encode(request: object) -> bytes:
    """The JSON body for ``request``: bytes-like values as base64 (Binary), sets as lists.

    Raises TypeError for values boto3 would not send either.
    """
    return _encoder.encode(request).encode("utf-8")


def with_bytes(value: Any) -> Any:
    """``value`` with every Binary attribute value's base64 text decoded, in place where it can."""
    if type(value) is dict:
        if len(value) == 1:
            text = value.get("B")
            if type(text) is str:
                return {"B": binascii.a2b_base64(text)}
            texts = value.get("BS")
            if type(texts) is list and all(type(t) is str for t in texts):
                return {"BS": [binascii.a2b_base64(t) for t in texts]}
        for name, member in value.items():
            if type(member) is dict or type(member) is list:
                value[name] = with_bytes(member)
        return value
    if type(value) is list:
        return [
            with_bytes(member) if type(member) is dict or type(member) is list else member for member in value
        ]
    return value


def decode(body: bytes) -> dict[str, Any]:
    """The answer in ``body`` as boto3 returns it, Binary attribute values as ``bytes``.

    Raises ValueError when ``body`` is not a JSON object or holds malformed base64.
    """
    if not body:
        return {}
    result = json.loads(body)
    if not isinstance(result, dict):
        raise ValueError("DynamoDB's answer is not a JSON object")
    # Most answers hold no Binary at all: walk only those that may.
    if b'"B' in body:
        try:
            result = with_bytes(result)
        except binascii.Error as exc:
            raise ValueError(f"malformed Binary value in DynamoDB's answer: {exc}") from exc
    return result  # type: ignore[no-any-return]


class Rendered(dict[str, Any]):
    """A request as boto3 takes it that also carries its JSON ``body``, rendered beforehand (by
    template, see :mod:`dynsession.stores.item_wire`), and ``read``, which turns its answer's JSON
    into what boto3 would return for the parts the caller reads. The native transport sends
    ``body`` and answers with ``read(...)``; other transports see a plain dict."""

    __slots__ = ("body", "read")

    def __init__(self, request: dict[str, Any], body: bytes, read: Callable[[bytes], dict[str, Any]]) -> None:
        super().__init__(request)
        self.body = body
        self.read = read
