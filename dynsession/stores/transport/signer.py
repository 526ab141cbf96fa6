"""AWS Signature Version 4 for DynamoDB's JSON requests: the headers one POST needs, signed the
way botocore's ``SigV4Auth`` signs them (tests compare the two byte for byte)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import NamedTuple
from urllib.parse import quote, urlsplit, urlunsplit

CONTENT_TYPE = "application/x-amz-json-1.0"
TARGET_PREFIX = "DynamoDB_20120810."
_ALGORITHM = "AWS4-HMAC-SHA256"


class Credentials(NamedTuple):
    """One immutable set of credentials, as botocore's ``get_frozen_credentials`` returns them."""

    access_key: str
    secret_key: str
    token: str | None


def host_of(url: str) -> str:
    """The Host header botocore derives from an endpoint URL: lowercase, no userinfo, no default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != {"http": 80, "https": 443}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def request_path(url: str) -> str:
    """The path DynamoDB requests are POSTed to under an endpoint URL (``/`` unless it has one)."""
    path = urlsplit(url).path
    if not path or path == "/":
        return "/"
    return path if path.endswith("/") else path + "/"


def request_url(url: str) -> str:
    """The URL DynamoDB requests are POSTed to under an endpoint URL."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, request_path(url), parts.query, ""))


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.digest(key, message.encode("utf-8"), "sha256")


class Signer:
    """Builds the signed headers of a DynamoDB JSON request to ``host`` (and ``path``) in ``region``.

    The signing key is derived once per secret key and UTC day, and the timestamp formatted once
    per second, so a request costs two SHA-256 digests and one HMAC.
    """

    def __init__(self, region: str, host: str, path: str = "/", service: str = "dynamodb") -> None:
        self.region = region
        self.host = host
        self.service = service
        self._canonical_path = quote(path, safe="/~")
        self._key_for: tuple[str, str] = ("", "")
        self._key = b""
        self._second = -1
        self._stamp = ""

    def _signing_key(self, secret_key: str, day: str) -> bytes:
        if self._key_for != (secret_key, day):
            key = _hmac(("AWS4" + secret_key).encode("utf-8"), day)
            for part in (self.region, self.service, "aws4_request"):
                key = _hmac(key, part)
            self._key, self._key_for = key, (secret_key, day)
        return self._key

    def _timestamp(self, now: float) -> str:
        second = int(now)
        if second != self._second:
            self._stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._second = second
        return self._stamp

    def headers(
        self, credentials: Credentials, operation: str, body: bytes, now: float | None = None
    ) -> dict[str, str]:
        """The headers to send with ``body`` for ``operation`` (``"GetItem"``, …), signed at ``now``
        (epoch seconds; the current time by default): Host, Content-Type, X-Amz-Target, X-Amz-Date,
        X-Amz-Security-Token when the credentials carry a session token, and Authorization."""
        stamp = self._timestamp(time.time() if now is None else now)
        day = stamp[:8]
        target = TARGET_PREFIX + operation
        token = credentials.token
        if token:
            signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{self.host}\nx-amz-date:{stamp}\n"
                f"x-amz-security-token:{' '.join(token.split())}\nx-amz-target:{target}\n"
            )
        else:
            signed = "content-type;host;x-amz-date;x-amz-target"
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{self.host}\nx-amz-date:{stamp}\nx-amz-target:{target}\n"
            )
        payload_hash = hashlib.sha256(body).hexdigest()
        canonical_request = f"POST\n{self._canonical_path}\n\n{canonical_headers}\n{signed}\n{payload_hash}"
        scope = f"{day}/{self.region}/{self.service}/aws4_request"
        string_to_sign = (
            f"{_ALGORITHM}\n{stamp}\n{scope}\n{hashlib.sha256(canonical_request.encode('utf-8')).hexdigest()}"
        )
        key = self._signing_key(credentials.secret_key, day)
        signature = hmac.digest(key, string_to_sign.encode("utf-8"), "sha256").hex()
        headers = {
            "Host": self.host,
            "Content-Type": CONTENT_TYPE,
            "X-Amz-Target": target,
            "X-Amz-Date": stamp,
            "Authorization": (
                f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}"
            ),
        }
        if token:
            headers["X-Amz-Security-Token"] = token
        return headers
