"""A session record as a DynamoDB item: the attributes, the item's size, write tokens, and reading
back items that dynsession did not write (or that were edited since)."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from ..tables.index import USER_ATTRIBUTE
from .base import MovedRecord, SessionOwner, SessionRecord
from .users import user_in_index_key, user_index_key

MAX_ITEM_BYTES = 400 * 1024

DATA, VERSION, CREATED, ABSOLUTE, TOKEN = "data", "ver", "created", "abs", "tok"
BINDING, ISSUED = "bind", "iss"
# A moved ID's marker: why it moved, after a renewal the masked new ID, and the store key of the
# session that replaced it (so a logout or revoke can follow); no data, no version.
MOVED, FORWARD, SUCCESSOR = "moved", "fwd", "next"
# A session bound to a user: the key prefix and the user ID (the user index's key, spelt by
# dynsession.stores.users.user_index_key so that no two prefixes' users collide), a device label,
# the sign-in time. Every write also notes its time in SEEN, the last activity a user's list shows.
USER, DEVICE, BOUND, SEEN = USER_ATTRIBUTE, "device", "bound", "seen"
# Random bytes stored with every write, so a write whose answer was lost and that was retried can
# recognise, when its condition then fails, that the item it collides with is its own.
TOKEN_BYTES = 8
# An unreadable stored version longer than this is matched by its type alone.
_MAX_RAW_VERSION = 256


def new_token() -> bytes:
    """Return a fresh write token."""
    return secrets.token_bytes(TOKEN_BYTES)


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


class ItemFormat:
    """The item layout of one table: ``partition_key`` holds ``key_prefix`` + the store key,
    ``ttl_attribute`` the idle deadline; ``data`` (Binary), ``ver``, ``created``, ``abs``, ``seen``
    (Numbers) and ``tok`` (Binary, the write token) the rest; a bound session also ``uid``,
    ``device`` (Strings) and ``bound`` (Number)."""

    def __init__(
        self, partition_key: str = "id", ttl_attribute: str = "ttl", key_prefix: str = "dc:"
    ) -> None:
        self.partition_key = partition_key
        self.ttl_attribute = ttl_attribute
        self.key_prefix = key_prefix

    def key(self, key: str) -> dict[str, Any]:
        return {self.partition_key: {"S": self.key_prefix + key}}

    def item(
        self, key: str, record: SessionRecord, token: bytes, written: int | None = None
    ) -> dict[str, Any]:
        """The item for ``record``; ``written`` is the time of this write (``seen``)."""
        item: dict[str, Any] = {
            self.partition_key: {"S": self.key_prefix + key},
            self.ttl_attribute: {"N": str(record.expires)},
            DATA: {"B": record.data},
            VERSION: {"N": str(record.version)},
            CREATED: {"N": str(record.created)},
            TOKEN: {"B": token},
        }
        if record.absolute_deadline is not None:
            item[ABSOLUTE] = {"N": str(record.absolute_deadline)}
        if record.binding is not None:
            item[BINDING] = {"B": record.binding}
        if record.issued is not None:
            item[ISSUED] = {"N": str(record.issued)}
        if written is not None:
            item[SEEN] = {"N": str(written)}
        if record.owner is not None:
            item[USER] = {"S": user_index_key(self.key_prefix, record.owner.user_id)}
            item[DEVICE] = {"S": record.owner.device}
            item[BOUND] = {"N": str(record.owner.since)}
        return item

    def marker_item(self, key: str, marker: MovedRecord, token: bytes) -> dict[str, Any]:
        item: dict[str, Any] = {
            self.partition_key: {"S": self.key_prefix + key},
            self.ttl_attribute: {"N": str(marker.expires)},
            MOVED: {"S": marker.reason},
            TOKEN: {"B": token},
        }
        if marker.forward is not None:
            item[FORWARD] = {"B": marker.forward}
        if marker.successor is not None:
            item[SUCCESSOR] = {"S": marker.successor}
        return item

    def marker(self, item: Mapping[str, Any]) -> MovedRecord | None:
        """The moved ID's marker an item holds, or None when it holds a session. A marker that
        cannot be read is returned as expired, so it reads as missing."""
        moved = item.get(MOVED)
        if moved is None:
            return None
        expires = _integer(item.get(self.ttl_attribute))
        reason = moved.get("S") if isinstance(moved, Mapping) else None
        if expires is None or reason not in ("renewed", "privilege"):
            return MovedRecord("privilege", 0)
        successor = item.get(SUCCESSOR)
        successor = successor.get("S") if isinstance(successor, Mapping) else None
        return MovedRecord(
            "renewed" if reason == "renewed" else "privilege",
            expires,
            _binary(item.get(FORWARD)),
            successor if isinstance(successor, str) else None,
        )

    def size(self, key: str, record: SessionRecord, written: int) -> int:
        """The size of the item that saving ``record`` under ``key`` at ``written`` writes."""
        return item_size(self.item(key, record, bytes(TOKEN_BYTES), written=written))

    def owner(self, item: Mapping[str, Any]) -> SessionOwner | None:
        """The user an item is bound to, or None (unbound, another key prefix, or unreadable)."""
        user = item.get(USER)
        if not isinstance(user, Mapping) or not isinstance(user.get("S"), str):
            return None
        user_id = user_in_index_key(self.key_prefix, user["S"])
        if user_id is None:
            return None
        device = item.get(DEVICE)
        label = device.get("S") if isinstance(device, Mapping) else None
        since = _integer(item.get(BOUND))
        return SessionOwner(
            user_id,
            label if isinstance(label, str) else "",
            0 if since is None else since,
        )

    def record(self, item: Mapping[str, Any], now: int) -> tuple[SessionRecord, list[str]]:
        """Read an item as a record, never raising: also ``(names of malformed attributes)``.

        A malformed item reads as a live record with an unreadable blob (``b""``), so the session
        starts empty and the next write replaces it: unreadable times become ``now + 1`` (idle
        deadline), ``now`` (creation) and ``None`` (absolute deadline); an unreadable version
        becomes a number of 0 or less that :meth:`condition` maps back to the stored value.
        """
        malformed: list[str] = []
        data = _binary(item.get(DATA))
        if data is None:
            malformed.append(DATA)
        version = _integer(item.get(VERSION))
        if version is None or version < 1:
            malformed.append(VERSION)
            version = _encode_version(item.get(VERSION))
        expires = _integer(item.get(self.ttl_attribute))
        if expires is None:
            malformed.append(self.ttl_attribute)
        created = _integer(item.get(CREATED))
        if created is None:
            malformed.append(CREATED)
        absolute = None
        if ABSOLUTE in item:
            absolute = _integer(item[ABSOLUTE])
            if absolute is None:
                malformed.append(ABSOLUTE)
        record = SessionRecord(
            data=b"" if malformed or data is None else data,
            version=version,
            created=now if created is None else created,
            expires=now + 1 if expires is None else expires,
            absolute_deadline=absolute,
            # Unreadable, these count as absent: an unbound session (refused under client binding)
            # and an ID issued at creation.
            binding=_binary(item.get(BINDING)),
            issued=_integer(item.get(ISSUED)),
            owner=self.owner(item),
        )
        return record, malformed

    def condition(self, expected_version: int | None) -> dict[str, Any]:
        """The ``ConditionExpression`` and its names and values for a write expecting a version.

        ``None``: the item must not exist. A positive version: ``ver`` must equal it. 0: the item
        exists without ``ver``. Below 0: ``ver`` still holds the unreadable value it was read with.
        """
        names = {"#k": self.partition_key, "#v": VERSION}
        if expected_version is None:
            return {
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": names["#k"]},
            }
        if expected_version > 0:
            value: dict[str, Any] = {"N": str(expected_version)}
            return _equals(value)
        if expected_version == 0:
            return {
                "ConditionExpression": "attribute_exists(#k) AND attribute_not_exists(#v)",
                "ExpressionAttributeNames": names,
            }
        kind, raw = _decode_version(expected_version)
        if raw is None:
            return {
                "ConditionExpression": "attribute_type(#v, :t)",
                "ExpressionAttributeNames": {"#v": VERSION},
                "ExpressionAttributeValues": {":t": {"S": kind}},
            }
        return _equals({kind: raw if kind == "B" else raw.decode("utf-8")})


def token_of(item: Mapping[str, Any] | None) -> bytes | None:
    """The write token of a stored item, if it has one."""
    return None if item is None else _binary(item.get(TOKEN))


def integer_of(attribute: Any) -> int | None:
    """An attribute's value as an integer, or None when it is not a readable Number."""
    return _integer(attribute)


def _equals(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "ConditionExpression": "#v = :v",
        "ExpressionAttributeNames": {"#v": VERSION},
        "ExpressionAttributeValues": {":v": value},
    }


def _binary(attribute: Any) -> bytes | None:
    if isinstance(attribute, Mapping) and isinstance(attribute.get("B"), bytes | bytearray | memoryview):
        return bytes(attribute["B"])
    return None


def _integer(attribute: Any) -> int | None:
    if not isinstance(attribute, Mapping) or not isinstance(attribute.get("N"), str):
        return None
    try:
        return int(attribute["N"])
    except ValueError:  # "1.5", "1e3", or more digits than int() converts
        return None


# An unreadable version travels as a negative int: the attribute's type letter and, when short
# enough to compare, its value, as big-endian bytes behind a 0x01 byte that keeps leading zeros.
def _encode_version(attribute: Any) -> int:
    if not isinstance(attribute, Mapping) or len(attribute) != 1:
        return 0
    ((kind, value),) = attribute.items()
    payload = kind.encode("ascii", "replace")[:4]
    if kind in ("S", "N") and isinstance(value, str):
        raw = value.encode("utf-8")
    elif kind == "B" and isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
    else:
        raw = b""
    if raw and len(raw) <= _MAX_RAW_VERSION:
        payload += b":" + raw
    return -int.from_bytes(b"\x01" + payload, "big")


def _decode_version(version: int) -> tuple[str, bytes | None]:
    encoded = -version
    payload = encoded.to_bytes((encoded.bit_length() + 7) // 8, "big")[1:]
    kind, colon, raw = payload.partition(b":")
    return kind.decode("ascii"), raw if colon else None
