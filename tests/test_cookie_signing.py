"""CookieSigner reads exactly the values itsdangerous signs, under every key of a rotation."""

from __future__ import annotations

import hashlib

import itsdangerous

from dynsession._envelope.cookies import CookieSigner, new_session_id


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


def test_a_version_travels_signed_beside_the_id() -> None:
    signer = CookieSigner(["old-key", "new-key"])
    session_id = new_session_id()
    signed = signer.sign(session_id, 42)
    assert signed.startswith(f"{session_id}.42.")
    # The same bytes itsdangerous signs for the payload "<id>.<version>".
    assert signed == _itsdangerous("new-key", f"{session_id}.42")
    parsed = signer.unsign(signed)
    assert parsed is not None and (parsed.session_id, parsed.version) == (session_id, 42)
    rotated = signer.unsign(_itsdangerous("old-key", f"{session_id}.7"))
    assert rotated is not None and rotated.version == 7 and not rotated.signed_with_current_key


def test_cookies_without_a_version_keep_working() -> None:
    signer = CookieSigner("key")
    session_id = new_session_id()
    parsed = signer.unsign(_itsdangerous("key", session_id))
    assert parsed is not None and (parsed.session_id, parsed.version) == (session_id, None)
    assert signer.sign(session_id) == _itsdangerous("key", session_id)


def test_a_changed_version_breaks_the_signature() -> None:
    signer = CookieSigner("key")
    session_id = new_session_id()
    signed = signer.sign(session_id, 5)
    assert signer.unsign(signed.replace(".5.", ".6.")) is None
    assert signer.unsign(signed.replace(".5.", ".")) is None
    # Versions are canonical decimals: no leading zeros, no signs, no zero.
    for text in ("05", "+5", "0", "-1", "1" * 19):
        assert signer.unsign(_itsdangerous("key", f"{session_id}.{text}")) is None
