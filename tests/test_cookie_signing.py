"""CookieSigner reads exactly the values itsdangerous signs, under every key of a rotation."""

from __future__ import annotations

import hashlib

import itsdangerous

from dynsession.cookies import CookieSigner, new_session_id


def _itsdangerous(key: str, session_id: str) -> str:
    signer = itsdangerous.Signer(key, salt="dynsession.cookie", digest_method=hashlib.sha256)
    return signer.sign(session_id).decode("ascii")


def test_reads_values_signed_by_itsdangerous_with_each_key() -> None:
    signer = CookieSigner(["old-key", "new-key"])
    session_id = new_session_id()
    current = signer.unsign(_itsdangerous("new-key", session_id))
    rotated = signer.unsign(_itsdangerous("old-key", session_id))
    assert current is not None and current.session_id == session_id and current.signed_with_current_key
    assert rotated is not None and rotated.session_id == session_id and not rotated.signed_with_current_key
    assert signer.sign(session_id) == _itsdangerous("new-key", session_id)


def test_rejects_other_keys_and_tampering() -> None:
    signer = CookieSigner("key")
    session_id = new_session_id()
    good = _itsdangerous("key", session_id)
    assert signer.unsign(_itsdangerous("other-key", session_id)) is None
    flipped = good[:-1] + ("A" if good[-1] != "A" else "B")
    assert signer.unsign(flipped) is None
    other_id = new_session_id()
    assert signer.unsign(other_id + good[43:]) is None
    assert signer.unsign(good + "=") is None
    assert signer.unsign(good.replace(".", "-")) is None
