"""Moved session IDs: the forwarding pointer a renewed ID leaves behind (readable only with the old
ID), and what a request carrying a moved ID is served from.

When a session gets a new ID, its old item becomes a :class:`~dynsession.stores.base.MovedRecord`
for a grace window. After a renewal it names the new ID, so requests still carrying the old cookie
can be served from the new session and handed the new cookie. The store must never hold a usable
session ID, so the new ID is stored masked with a pad derived from the old ID, which the store
never sees either (it sees only its SHA-256): a table reader learns nothing, a cookie holder
learns the new ID.
"""

from __future__ import annotations

import base64
import binascii
import hmac

from .._envelope.cookies import store_key
from ..exceptions import SessionConflict
from ..stores.base import MovedRecord, MovingStore, SessionRecord, SessionStore, strong_load
from .session import RequestSession

# How long an old session ID keeps forwarding (after a renewal) or stays marked as moved by a login.
DEFAULT_MOVE_GRACE = 30

_PAD_DOMAIN = b"dynsession.forward.v1"
_ID_BYTES = 32


def _pad(old_id: str) -> bytes:
    return hmac.digest(old_id.encode("ascii"), _PAD_DOMAIN, "sha256")


def forward_pointer(old_id: str, new_id: str) -> bytes:
    """The masked new ID to store under the old ID's key."""
    raw = base64.urlsafe_b64decode(new_id + "=")
    if len(raw) != _ID_BYTES:
        raise ValueError("not a dynsession session ID")
    return bytes(a ^ b for a, b in zip(raw, _pad(old_id), strict=True))


def follow(old_id: str, pointer: bytes | None) -> str | None:
    """The new session ID a stored pointer names, or None when the pointer is malformed."""
    if pointer is None or len(pointer) != _ID_BYTES:
        return None
    raw = bytes(a ^ b for a, b in zip(pointer, _pad(old_id), strict=True))
    try:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    except (binascii.Error, UnicodeDecodeError):  # pragma: no cover - 32 bytes always encode
        return None


MOVED_BY_LOGIN = (
    "the session moved to a new ID on a privilege change (a login) after this request loaded it; "
    "retry with the new cookie"
)


async def resolve(
    store: SessionStore, session_id: str, marker: MovedRecord, *, strong: bool = False
) -> tuple[str, str, SessionRecord] | MovedRecord | None:
    """Where a request carrying a moved ID goes.

    A renewal alias gives ``(new session ID, its store key, its record)``; a moved-by-login
    marker, found at the old key or at the alias's target, is returned as such (the request gets
    an empty, read-only session); a pointer that leads nowhere (the new session ended, or renewed
    again: chains are not followed) gives ``None``. ``strong`` reads the target strongly
    consistent whatever the store's default (a write that lost its conditional write goes on there).
    """
    if marker.reason != "renewed":
        return marker
    new_id = follow(session_id, marker.forward)
    if new_id is None:
        return None
    key = store_key(new_id)
    target = await (strong_load(store, key) if strong else store.load(key))
    if isinstance(target, MovedRecord):
        return target if target.reason == "privilege" else None
    if target is None:
        return None
    return new_id, key, target


MOVED_FIRST = "the session was moved by another request (a login or a renewal) before this login finished"


async def move(store: SessionStore, key: str, marker: MovedRecord, *, expected_version: int) -> None:
    """``store.move``, for a store known to have it (see :func:`~dynsession.stores.base.can_move`)."""
    assert isinstance(store, MovingStore)
    await store.move(key, marker, expected_version=expected_version)


async def follow_alias(
    store: SessionStore, state: RequestSession, found: SessionRecord | MovedRecord | None, key: str
) -> tuple[SessionRecord | None, str]:
    """What a write that lost a conditional write under ``key`` goes on with: ``(record, key)``.

    A renewal alias switches ``state`` to the new session (whose cookie the response will set);
    a moved-by-login marker raises SessionConflict: the change can be stored in neither session.
    """
    if not isinstance(found, MovedRecord):
        return found, key
    assert state.session_id is not None
    target = await resolve(store, state.session_id, found, strong=True)
    if isinstance(target, MovedRecord):
        raise SessionConflict(MOVED_BY_LOGIN)
    if target is None:
        return None, key
    state.session_id, state.key, state.record = target
    state.forwarded = True
    return target[2], target[1]
