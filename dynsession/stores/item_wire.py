"""The session item's requests (GetItem, PutItem, UpdateItem, DeleteItem) as DynamoDB JSON, rendered
by template, and their answers read with Binary decoded only where the item layout has it.

The item layout (:mod:`.item_format`) is flat: each attribute a String, Number or Binary. So its
requests are a few text fields, attribute names, and attribute values whose JSON is a template to
fill: the key is the prefix and a hex ID, Numbers are digits, Binary is base64, and only Strings
(the prefix, a user ID, a device label) go through json's own string encoder. Answers are parsed by
``json.loads`` and only the item's top-level Binary attributes are decoded, instead of walking the
whole answer for Binary. A request holding anything else (another type, a nested value) is not
templated and travels as the generic codec (:mod:`.transport.wire_json`) encodes it.
"""

from __future__ import annotations

import binascii
import json
from collections.abc import Mapping
from json.encoder import encode_basestring as _quote  # json's C string encoder
from typing import Any

from .transport.wire_json import Rendered


class _NotFlat(Exception):
    pass


def _attribute(value: Mapping[str, Any]) -> str:
    """One attribute value's JSON: ``{"S": ...}``, ``{"N": ...}`` or ``{"B": base64}``."""
    if len(value) == 1:
        for kind, scalar in value.items():
            if kind == "B" and type(scalar) is bytes:
                return f'{{"B":"{binascii.b2a_base64(scalar, newline=False).decode("ascii")}"}}'
            if (kind == "S" or kind == "N") and type(scalar) is str:
                return f'{{"{kind}":{_quote(scalar)}}}'
    raise _NotFlat


def _attributes(values: Mapping[str, Any]) -> str:
    return "{" + ",".join([f"{_quote(name)}:{_attribute(value)}" for name, value in values.items()]) + "}"


def _field(name: str, value: Any) -> str:
    if type(value) is str:
        return f"{_quote(name)}:{_quote(value)}"
    if type(value) is bool:
        return f"{_quote(name)}:{'true' if value else 'false'}"
    if type(value) is dict:
        if name == "ExpressionAttributeNames":
            if all(type(text) is str for text in value.values()):
                names = ",".join([f"{_quote(k)}:{_quote(v)}" for k, v in value.items()])
                return f"{_quote(name)}:{{{names}}}"
        else:  # Key, Item, ExpressionAttributeValues: attribute values
            return f"{_quote(name)}:{_attributes(value)}"
    raise _NotFlat


def render(request: dict[str, Any]) -> dict[str, Any]:
    """``request`` with its JSON rendered by template and its answer's reader attached, or
    ``request`` itself when it holds what the template does not cover."""
    try:
        body = "{" + ",".join([_field(name, value) for name, value in request.items()]) + "}"
    except _NotFlat:
        return request
    return Rendered(request, body.encode("utf-8"), read_answer)


def read_answer(body: bytes) -> dict[str, Any]:
    """The answer as boto3 returns it for the parts the store reads: the item (``Item``, or
    ``Attributes``) with its top-level Binary attributes as bytes.

    Raises ValueError when ``body`` is not a JSON object or holds malformed base64.
    """
    if not body:
        return {}
    answer = json.loads(body)
    if type(answer) is not dict:
        raise ValueError("DynamoDB's answer is not a JSON object")
    for part in ("Item", "Attributes"):
        item = answer.get(part)
        if type(item) is dict:
            for value in item.values():
                if type(value) is dict and type(value.get("B")) is str:
                    try:
                        value["B"] = binascii.a2b_base64(value["B"])
                    except binascii.Error as exc:
                        raise ValueError(f"malformed Binary value in DynamoDB's answer: {exc}") from exc
    return answer
