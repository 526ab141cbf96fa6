"""TLS peers for section 6, each in a process of its own so their CPU is not the client's: Debian's
stunnel terminating TLS in front of the DynamoDB emulator, and redis-server's own TLS port. Both
present a certificate for 127.0.0.1 from a throwaway CA that the clients are given as their bundle.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..harness import servers
from .transport_calls import TLS, Endpoints

STUNNEL_INSTALL = "stunnel is not installed (`apt-get install stunnel4`)"
REDIS_TLS = "redis-server has no TLS support here (Debian's redis-server 6+ has it)"


@dataclass(frozen=True, slots=True)
class Certificates:
    bundle: Path  # the CA certificate clients trust (AWS_CA_BUNDLE, redis-py's ssl_ca_certs)
    certificate: Path  # the server's, for 127.0.0.1
    key: Path


def stunnel() -> str | None:
    """The stunnel executable, or None when it is not installed."""
    return shutil.which("stunnel4") or shutil.which("stunnel")


def unavailable_here() -> str | None:
    """Why the TLS rows cannot run here, or None when they can."""
    if stunnel() is None:
        return STUNNEL_INSTALL
    try:
        import cryptography  # noqa: F401
    except ImportError:
        return "the cryptography package is not installed (it makes the test CA)"
    return None


def make_certificates(directory: Path) -> Certificates:
    """A CA and a certificate it signed for 127.0.0.1, as PEM files in ``directory``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dynsession benchmark CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    found = Certificates(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    found.bundle.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    found.certificate.write_bytes(server.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return found


def client_context(certificates: Certificates) -> ssl.SSLContext:
    """The default client context (host name checked) trusting only the benchmark's CA."""
    return ssl.create_default_context(cafile=str(certificates.bundle))


def _handshakes(port: int, certificates: Certificates) -> bool:
    with (
        contextlib.suppress(OSError),
        socket.create_connection(("127.0.0.1", port), timeout=1) as sock,
        client_context(certificates).wrap_socket(sock, server_hostname="127.0.0.1"),
    ):
        return True
    return False


@contextmanager
def tls_proxy(upstream: str, certificates: Certificates, directory: Path) -> Iterator[str]:
    """stunnel on a free loopback port, terminating TLS for the ``http://host:port`` upstream;
    yields its ``https://127.0.0.1:PORT`` URL. Raises RuntimeError when stunnel is missing."""
    executable = stunnel()
    if executable is None:
        raise RuntimeError(STUNNEL_INSTALL)
    port = servers.free_port()
    target = upstream.split("://", 1)[-1].rstrip("/")
    config = directory / "stunnel.conf"
    config.write_text(
        "\n".join(
            [
                "foreground = yes",
                f"pid = {directory / 'stunnel.pid'}",
                "debug = 3",
                "[dynamodb]",
                f"accept = 127.0.0.1:{port}",
                f"connect = {target}",
                f"cert = {certificates.certificate}",
                f"key = {certificates.key}",
            ]
        )
        + "\n"
    )
    with servers.process([executable, str(config)], lambda: _handshakes(port, certificates), "stunnel"):
        yield f"https://127.0.0.1:{port}"


def redis_tls_supported() -> bool:
    """True when the installed redis-server accepts ``--tls-port``."""
    try:
        out = subprocess.run(
            ["redis-server", "--version"], capture_output=True, text=True, check=False
        ).stdout
    except OSError:
        return False
    version = out.split("v=", 1)[-1].split(".", 1)[0]
    return version.isdigit() and int(version) >= 6


@contextmanager
def redis_tls_server(certificates: Certificates) -> Iterator[str]:
    """redis-server (no persistence, no plain port) serving TLS on a free loopback port; yields its
    ``rediss://`` URL. Clients are not asked for certificates."""
    port = servers.free_port()
    command = [
        "redis-server",
        "--port",
        "0",
        "--tls-port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--tls-cert-file",
        str(certificates.certificate),
        "--tls-key-file",
        str(certificates.key),
        "--tls-ca-cert-file",
        str(certificates.bundle),
        "--tls-auth-clients",
        "no",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(certificates.bundle.parent),
    ]
    with servers.process(command, lambda: _handshakes(port, certificates), "redis-server (TLS)"):
        yield f"rediss://127.0.0.1:{port}/0"


def with_tls(
    stack: ExitStack, endpoints: Endpoints, unavailable: dict[str, str], *, redis_row: str
) -> Endpoints:
    """``endpoints`` with TLS ones added (stunnel in front of the emulator, redis-server's TLS port),
    each stopped when ``stack`` closes; ``AWS_CA_BUNDLE`` names the test CA until then. What cannot
    run here goes into ``unavailable`` with the reason (``redis_row`` for Redis over TLS)."""
    why = unavailable_here()
    if why is not None:
        unavailable[TLS.removeprefix(", ")] = why
        return endpoints
    directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="dynsession-tls-")))
    certificates = make_certificates(directory)
    # Both transports, like boto3, trust the CA bundle named here; plain-http endpoints ignore it.
    previous = os.environ.get("AWS_CA_BUNDLE")
    os.environ["AWS_CA_BUNDLE"] = str(certificates.bundle)
    stack.callback(_restore, "AWS_CA_BUNDLE", previous)
    tls_dynamodb = stack.enter_context(tls_proxy(endpoints.dynamodb, certificates, directory))
    tls_redis = None
    if endpoints.redis is not None and redis_tls_supported():
        tls_redis = stack.enter_context(redis_tls_server(certificates))
    elif endpoints.redis is not None:
        unavailable[redis_row] = REDIS_TLS
    return Endpoints(
        endpoints.dynamodb,
        endpoints.table,
        endpoints.redis,
        tls_dynamodb,
        tls_redis,
        str(certificates.bundle),
    )


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value
