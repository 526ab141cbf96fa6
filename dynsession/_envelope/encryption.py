"""Encryption at rest: an AES-256-GCM envelope around the stored blob, bound to its store key.

The envelope is ``0x02 | key id (4) | nonce (12) | ciphertext | tag (16)``: 33 bytes over the
(already compressed) blob. The associated data is the store key, so a blob copied into another
item, or altered in any bit, fails authentication and reads as a corrupt session.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Sequence

from .._serialization import ENCRYPTED_MARKER, BlobDecodeError
from ..exceptions import ConfigurationError

MIN_KEY_BYTES = 32
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER_BYTES = len(ENCRYPTED_MARKER) + _KEY_ID_BYTES + _NONCE_BYTES
_TAG_BYTES = 16
_KDF_INFO = b"dynsession.encryption.v1"
_AAD_PREFIX = b"dynsession.session.v1\x00"


class SessionCipher:
    """Encrypts stored session blobs with the newest key and decrypts them with any key.

    ``keys`` is one secret or a sequence ordered oldest first, as for ``secret_key``; each must be
    at least 32 bytes (``secrets.token_urlsafe(32)`` makes a good one). Raises ConfigurationError
    naming ``encryption_key`` when a key is too short or the ``cryptography`` package is missing.
    """

    def __init__(self, keys: str | bytes | Sequence[str | bytes]) -> None:
        try:
            from cryptography.exceptions import InvalidTag
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM
            from cryptography.hazmat.primitives.kdf.hkdf import HKDF
        except ImportError as exc:  # pragma: no cover - the test environment has the extra
            raise ConfigurationError(
                "encryption_key needs the cryptography package: pip install 'dynsession[encryption]'"
            ) from exc
        listed = [keys] if isinstance(keys, str | bytes) else list(keys or ())
        if not listed:
            raise ConfigurationError("encryption_key must be a secret or a non-empty list of them")
        secrets: list[bytes] = []
        for key in listed:
            if not isinstance(key, str | bytes):
                raise ConfigurationError("encryption_key must hold strings or bytes")
            raw = key.encode("utf-8") if isinstance(key, str) else bytes(key)
            if len(raw) < MIN_KEY_BYTES:
                raise ConfigurationError(
                    f"encryption_key must be at least {MIN_KEY_BYTES} bytes of secret "
                    "(for example secrets.token_urlsafe(32))"
                )
            secrets.append(raw)
        # HKDF-SHA256: the configured secret need not be exactly 32 bytes, and the encryption key
        # stays independent of any other use the app makes of the same secret.
        derived = [
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KDF_INFO).derive(secret)
            for secret in reversed(secrets)  # newest first
        ]
        self._ciphers = {
            hmac.digest(key, b"dynsession.key-id", "sha256")[:_KEY_ID_BYTES]: AESGCM(key) for key in derived
        }
        self._current_id = next(iter(self._ciphers))
        self._invalid_tag: type[Exception] = InvalidTag

    def seal(self, blob: bytes, key: str) -> bytes:
        """Encrypt ``blob`` for the item stored under ``key`` with the newest key."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._ciphers[self._current_id].encrypt(nonce, blob, _aad(key))
        return ENCRYPTED_MARKER + self._current_id + nonce + sealed

    def open(self, blob: bytes, key: str) -> bytes:
        """Decrypt a blob read from the item under ``key``.

        Raises BlobDecodeError when it is not encrypted, was encrypted with a key no longer
        configured, or fails authentication (altered, or copied from another item).
        """
        if blob[:1] != ENCRYPTED_MARKER:
            raise BlobDecodeError("stored session is not encrypted, but encryption_key is set")
        if len(blob) < _HEADER_BYTES + _TAG_BYTES:
            raise BlobDecodeError("stored session is an encrypted blob too short to be one")
        key_id = blob[1 : 1 + _KEY_ID_BYTES]
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise BlobDecodeError("stored session was encrypted with a key not in encryption_key")
        nonce = blob[1 + _KEY_ID_BYTES : _HEADER_BYTES]
        try:
            return cipher.decrypt(nonce, blob[_HEADER_BYTES:], _aad(key))
        except self._invalid_tag:
            raise BlobDecodeError(
                "stored session failed authentication (altered, or copied from another item)"
            ) from None


def _aad(key: str) -> bytes:
    return _AAD_PREFIX + key.encode("utf-8")
