"""Known answers for what dynsession writes to browsers and tables: the bytes that a rolling
deployment's two versions, and sessions older than the running version, must agree on
(docs/versioning.md). Each value below was computed once by dynsession's code and is pinned here:
a change that alters one (a hash domain renamed with its module, a new KDF label) would sign out
every live session, or leave encrypted ones unreadable, and must fail here first."""

from __future__ import annotations

from dynsession._envelope.binding import fingerprint
from dynsession._envelope.cookies import CookieSigner, store_key
from dynsession._envelope.encryption import SessionCipher
from dynsession._request.markers import forward_pointer
from dynsession.stores.users import user_index_key

SESSION_ID = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8"  # bytes 0..31
NEW_ID = "ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8"  # bytes 32..63
SECRET = "s" * 32


def test_the_cookie_signature() -> None:
    signer = CookieSigner(SECRET)
    assert signer.sign(SESSION_ID) == f"{SESSION_ID}.RnFnGJHT0WJwPE710dwcKctin3X7347aIVrnHqAO4ic"
    assert signer.sign(SESSION_ID, 7) == f"{SESSION_ID}.7.8Tk_R-nLjFEKp1tguY1MkaD1uEQ0DjWcO8oVHKeMrPI"


def test_the_store_key() -> None:
    assert store_key(SESSION_ID) == "ea866a757e4c38babfa8127cbe9a409d3e1f93a00ff1488ff735fcf917afffd0"


def test_the_renewal_forward_pointer() -> None:
    expected = "7a2515cb95afd8c7262e80dee91b93113c242b7e1f9fb427d0ba4f25593cc596"
    assert forward_pointer(SESSION_ID, NEW_ID).hex() == expected


def test_the_user_index_key() -> None:
    assert user_index_key("dc:", "alice#1") == "dc:#alice%231"


def test_the_client_binding_fingerprint() -> None:
    expected = "b802632d5b5a9bb9a692ae83fdb07f278ac353da265b52666570b8dcd1ebc2a4"
    assert fingerprint(SESSION_ID, b"Firefox\x00192.0.2.0/24").hex() == expected


def test_a_blob_encrypted_by_the_previous_release_opens() -> None:
    sealed = bytes.fromhex(
        "02e62788c883230d0f5b5aed334cee38274456fb1ee8f1a438d30d0a8626818b62e292b4d1b8b0cb1a3e037c3cd624"
    )
    cipher = SessionCipher("k" * 32)
    assert cipher.open(sealed, store_key(SESSION_ID)) == b'{"cart":[1,2]}'
    assert cipher.open(cipher.seal(b"{}", store_key(SESSION_ID)), store_key(SESSION_ID)) == b"{}"
