"""Session IDs, store keys, signing with key rotation, and Set-Cookie rendering."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import pytest

from dynsession import ConfigurationError
from dynsession._envelope.cookies import (
    MAX_COOKIE_BYTES,
    CookieFormatter,
    CookieSigner,
    new_session_id,
    store_key,
)

FORMAT = re.compile(r"[A-Za-z0-9_-]{43}")


def formatter(**options: Any) -> CookieFormatter:
    defaults: dict[str, Any] = {
        "max_age": None,
        "path": "/",
        "same_site": "lax",
        "https_only": True,
        "domain": None,
        "partitioned": False,
    }
    defaults.update(options)
    name = defaults.pop("name", "session")
    return CookieFormatter(name, **defaults)


def test_new_session_ids_are_256_random_bits_in_url_safe_base64() -> None:
    ids = {new_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(FORMAT.fullmatch(session_id) for session_id in ids)
    # 43 base64 characters carry 258 bits; every position must vary across a thousand draws.
    assert all(len({session_id[i] for session_id in ids}) > 16 for i in range(42))


def test_store_key_is_the_sha256_hex_digest() -> None:
    session_id = new_session_id()
    assert store_key(session_id) == hashlib.sha256(session_id.encode()).hexdigest()
    assert len(store_key(session_id)) == 64
    assert session_id not in store_key(session_id)


def test_sign_and_unsign_round_trip() -> None:
    signer = CookieSigner("k")
    session_id = new_session_id()
    signed = signer.sign(session_id)
    assert signed.startswith(session_id + ".")
    parsed = signer.unsign(signed)
    assert parsed is not None
    assert (parsed.session_id, parsed.signed_with_current_key) == (session_id, True)


def test_rotation_signs_with_the_newest_key_and_accepts_every_listed_key() -> None:
    session_id = new_session_id()
    old, new = CookieSigner("old"), CookieSigner("new")
    rotating = CookieSigner(["old", "new"])
    assert rotating.sign(session_id) == new.sign(session_id)

    from_old = rotating.unsign(old.sign(session_id))
    assert from_old is not None and from_old.session_id == session_id
    assert from_old.signed_with_current_key is False
    from_new = rotating.unsign(new.sign(session_id))
    assert from_new is not None and from_new.signed_with_current_key is True

    assert CookieSigner(["new"]).unsign(old.sign(session_id)) is None
    assert CookieSigner(["a", "b", "old"]).unsign(old.sign(session_id)) is not None


def test_signatures_are_bound_to_dynsession() -> None:
    # A bare itsdangerous signature with the same key (another app's cookie) is not accepted.
    import itsdangerous

    session_id = new_session_id()
    foreign = itsdangerous.Signer("k", digest_method=hashlib.sha256).sign(session_id).decode()
    assert CookieSigner("k").unsign(foreign) is None


@pytest.mark.parametrize(
    "mangle",
    [
        lambda v: "",
        lambda v: v + "=",
        lambda v: " " + v,
        lambda v: v.replace(".", ":"),
        lambda v: v.split(".")[0],
        lambda v: v[:-1],
        lambda v: v[:10] + ("A" if v[10] != "A" else "B") + v[11:],
        lambda v: v[:-3] + ("AAA" if v[-3:] != "AAA" else "BBB"),
        lambda v: v + "." + v,
        lambda v: v * 60,
        lambda v: v[:-1] + "é",
    ],
)
def test_unsign_returns_none_for_anything_bad(mangle: Any) -> None:
    signer = CookieSigner("k")
    assert signer.unsign(mangle(signer.sign(new_session_id()))) is None


def test_unsign_rejects_oversize_values_before_verifying() -> None:
    assert MAX_COOKIE_BYTES == 4096
    assert CookieSigner("k").unsign("A" * (MAX_COOKIE_BYTES + 1)) is None


def test_unsign_rejects_a_valid_signature_over_a_non_id() -> None:
    signer = CookieSigner("k")
    assert signer.unsign(signer.sign("short")) is None
    assert signer.unsign(signer.sign("x" * 44)) is None


@pytest.mark.parametrize("secret_key", ["", [], ["ok", ""], [b"bytes"], None])
def test_bad_secret_keys(secret_key: Any) -> None:
    with pytest.raises(ConfigurationError):
        CookieSigner(secret_key)


def test_set_cookie_defaults() -> None:
    assert formatter().set_cookie("v.s") == "session=v.s; path=/; httponly; samesite=lax; secure"


def test_set_cookie_with_every_option() -> None:
    header = formatter(
        name="sid",
        max_age=3600,
        path="/app",
        same_site="none",
        domain="example.com",
        partitioned=True,
    ).set_cookie("v.s")
    assert header == (
        "sid=v.s; path=/app; Max-Age=3600; httponly; samesite=none; secure; domain=example.com; partitioned"
    )


def test_plain_http_cookie_has_no_secure_flag() -> None:
    header = formatter(https_only=False, same_site="strict").set_cookie("v.s")
    assert header == "session=v.s; path=/; httponly; samesite=strict"


def test_delete_cookie_expires_it_with_the_same_scope() -> None:
    header = formatter(max_age=60, domain="example.com", path="/app").delete_cookie()
    assert header == (
        "session=null; path=/app; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly; samesite=lax; "
        "secure; domain=example.com"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "bad name"}, "not a valid cookie name"),
        ({"name": "a;b"}, "not a valid cookie name"),
        ({"same_site": "sometimes"}, "same_site must be"),
        ({"same_site": "none", "https_only": False}, "requires https_only=True"),
        ({"partitioned": True, "https_only": False}, "requires https_only=True"),
        ({"max_age": -1}, "max_age"),
        ({"path": "/a;b"}, "path must not"),
        ({"domain": "x.com\r\nSet-Cookie: evil=1"}, "domain must not"),
    ],
)
def test_bad_cookie_options(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        formatter(**options)
