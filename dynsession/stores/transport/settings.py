"""What the native transport takes from botocore, once, in a worker thread: the endpoint and region
(``endpoint_url``, ``AWS_ENDPOINT_URL_DYNAMODB``/``AWS_ENDPOINT_URL``, config files, partitions and
FIPS as botocore resolves them), the credential chain, retries, timeouts, proxies, TLS trust and
the error classes, all from the same boto3 client and session the store builds for its tables.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore
import botocore.httpsession
import botocore.utils

from ..._version import __version__
from .boto3_client import Boto3Client
from .credentials import CredentialSource
from .pool import Route, route_for
from .retry import ModeledErrors, RetryPolicy
from .signer import Signer, host_of, request_path, request_url

# botocore's own default for DynamoDB when no max_attempts is configured anywhere.
DYNAMODB_DEFAULT_ATTEMPTS = 4


@dataclass(frozen=True, slots=True)
class NativeSettings:
    endpoint_url: str
    url: str  # what requests are POSTed to
    request_target: str  # the URL's path (and query), as the request line names it
    region: str
    signer: Signer
    credentials: CredentialSource
    policy: RetryPolicy
    connect_timeout: float | None
    read_timeout: float | None
    proxy: str | None
    ssl: ssl.SSLContext | None  # None for plain HTTP
    user_agent: str
    exceptions: Any  # the client's ``exceptions``: ``from_code(code)`` gives the modeled class
    route: Route  # where the connections go


def resolve(source: Boto3Client) -> NativeSettings:
    """Build the settings from ``source``'s client (built here if need be). Blocking: it reads
    AWS config files and trust stores. Raises botocore's exceptions (such as NoRegionError)."""
    client = source.get()
    meta = client.meta
    config: Any = meta.config  # botocore's stubs omit Config's option attributes
    endpoint_url: str = meta.endpoint_url
    region: str = meta.region_name
    session = source.botocore_session
    retries: Mapping[str, Any] = config.retries or {}
    attempts = retries.get("total_max_attempts") or DYNAMODB_DEFAULT_ATTEMPTS
    secure = endpoint_url.lower().startswith("https:")
    proxy = _proxy(endpoint_url, config.proxies)
    context = _ssl_context(session, config.client_cert) if secure else None
    connect_timeout, read_timeout = _seconds(config.connect_timeout), _seconds(config.read_timeout)
    return NativeSettings(
        endpoint_url=endpoint_url,
        url=request_url(endpoint_url),
        request_target=_target(request_url(endpoint_url)),
        region=region,
        signer=Signer(region, host_of(endpoint_url), request_path(endpoint_url)),
        credentials=CredentialSource(session.get_credentials if session is not None else lambda: None),
        policy=RetryPolicy(int(attempts), modeled_errors(meta.service_model)),
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        proxy=proxy,
        ssl=context,
        user_agent=_user_agent(config.user_agent_extra),
        exceptions=client.exceptions,
        route=route_for(
            endpoint_url,
            context,
            proxy,
            _proxy_context(session, config) if proxy and proxy.lower().startswith("https:") else None,
            connect_timeout,
            read_timeout,
        ),
    )


def _target(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def _seconds(value: Any) -> float | None:
    return None if value is None else float(value)


def modeled_errors(service_model: Any) -> ModeledErrors:
    """Every operation's declared error codes, and which of them the model marks retryable."""
    declared: dict[str, frozenset[str]] = {}
    retryable: dict[str, dict[str, bool]] = {}
    for name in service_model.operation_names:
        codes = set()
        for shape in service_model.operation_model(name).error_shapes:
            code = shape.metadata.get("error", {}).get("code") or shape.name
            codes.add(code)
            trait = shape.metadata.get("retryable")
            if trait is not None:
                retryable.setdefault(name, {})[code] = bool(trait.get("throttling"))
        declared[name] = frozenset(codes)
    return ModeledErrors(declared, retryable)


def _proxy(endpoint_url: str, proxies: Mapping[str, str] | None) -> str | None:
    """The proxy for the endpoint: the config's ``proxies``, else the environment's, as botocore."""
    chosen = proxies if proxies else botocore.utils.get_environ_proxies(endpoint_url)
    scheme = endpoint_url.split(":", 1)[0].lower()
    return chosen.get(scheme) if chosen else None


def _ssl_context(session: Any, client_cert: str | tuple[str, str] | None) -> ssl.SSLContext:
    """Trust what botocore trusts: ``AWS_CA_BUNDLE``/``ca_bundle``, else its default bundle."""
    bundle = session.get_config_variable("ca_bundle") if session is not None else None
    context = ssl.create_default_context(cafile=botocore.httpsession.get_cert_path(bundle or True))
    _load_client_cert(context, client_cert)
    return context


def _proxy_context(session: Any, config: Any) -> ssl.SSLContext | None:
    """Trust for an ``https://`` proxy: ``proxies_config``'s ``proxy_ca_bundle`` (and client
    certificate), else the endpoint's trust."""
    options: Mapping[str, Any] = config.proxies_config or {}
    bundle = options.get("proxy_ca_bundle")
    if bundle is None:
        return _ssl_context(session, options.get("proxy_client_cert"))
    context = ssl.create_default_context(cafile=bundle)
    _load_client_cert(context, options.get("proxy_client_cert"))
    return context


def _load_client_cert(context: ssl.SSLContext, client_cert: str | tuple[str, str] | None) -> None:
    if isinstance(client_cert, str):
        context.load_cert_chain(client_cert)
    elif client_cert is not None:
        context.load_cert_chain(*client_cert)


def _user_agent(extra: str | None) -> str:
    agent = f"dynsession/{__version__} botocore/{botocore.__version__}"
    return f"{agent} {extra}" if extra else agent
