"""Why DynamoDB could not be asked, and where a missing table should be created, in words a person
can act on: what is missing, where boto3 looked, what to set.

One wording for the ``dynsession`` command and the middleware's startup check; ``Spelling`` says
how the reader sets a region or an endpoint (command-line flags, or ``DynamoDBStore`` arguments).
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import botocore.exceptions

from ..exceptions import StoreError

ENDPOINT_VARIABLES = ("AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL")


@dataclass(frozen=True, slots=True)
class Spelling:
    """How the reader passes a region and an endpoint, in the phrases the explanations use."""

    region_absent: str
    region_fix: str
    endpoint_name: str
    endpoint_fix: str


CLI = Spelling(
    region_absent="--region not given",
    region_fix="pass --region",
    endpoint_name="--endpoint-url",
    endpoint_fix="pass --endpoint-url",
)
STORE = Spelling(
    region_absent="no region_name given to DynamoDBStore",
    region_fix="pass region_name= to DynamoDBStore",
    endpoint_name="DynamoDBStore's endpoint_url",
    endpoint_fix="pass endpoint_url= to DynamoDBStore",
)

_CREDENTIAL_VARIABLES = "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"


def explain(error: BaseException, *, spelling: Spelling, endpoint_option: str | None = None) -> str:
    """One line saying why a DynamoDB call failed, for an error raised by boto3 or a
    :class:`~dynsession.StoreError` wrapping one. ``endpoint_option`` is the endpoint the reader
    passed explicitly (``--endpoint-url`` or ``endpoint_url=``), if any. Never raises."""
    original = error.original if isinstance(error, StoreError) and error.original is not None else error
    profile, config_file, credentials_file = _aws_files()
    if isinstance(original, botocore.exceptions.NoRegionError):
        return (
            f"no AWS region configured: {spelling.region_absent}, AWS_DEFAULT_REGION not set, and "
            f"profile {profile!r} in {config_file} names none; {spelling.region_fix} or set "
            "AWS_DEFAULT_REGION"
        )
    if isinstance(original, botocore.exceptions.NoCredentialsError):
        return (
            f"no AWS credentials found: {_CREDENTIAL_VARIABLES} not set, profile {profile!r} has none "
            f"in {credentials_file} or {config_file}, and no container or instance role answered; "
            f"set AWS_PROFILE, or {_CREDENTIAL_VARIABLES} (any values do for a local DynamoDB)"
        )
    if isinstance(original, botocore.exceptions.ProfileNotFound):
        return (
            f"AWS profile {profile!r} (from AWS_PROFILE) not found in {config_file} or {credentials_file}; "
            "add it there, or set AWS_PROFILE to a profile that exists"
        )
    if isinstance(original, botocore.exceptions.EndpointConnectionError):
        url = str(original.kwargs.get("endpoint_url", ""))
        source = endpoint_source(endpoint_option, spelling)
        if source is None:
            return f"cannot reach the DynamoDB endpoint {url} (AWS's own); check the network and the region"
        return (
            f"cannot reach the DynamoDB endpoint {url} (from {source}): start the server there "
            f"(`dynsession local` runs one on loopback), or {spelling.endpoint_fix} or set "
            f"{ENDPOINT_VARIABLES[0]} to one that runs"
        )
    if isinstance(original, botocore.exceptions.SSLError):
        return _tls_failure(original, endpoint_option, spelling)
    if isinstance(original, botocore.exceptions.ClientError) and _is_foreign(original):
        return _foreign_answer(original, endpoint_option, spelling)
    return " ".join(str(original).split())


def _where(url: str | None, endpoint_option: str | None, spelling: Spelling) -> str:
    """``the server at URL (from SOURCE)``: the endpoint and where boto3 took it from."""
    source = endpoint_source(endpoint_option, spelling)
    if source is None:
        return f"AWS's DynamoDB endpoint{f' {url}' if url else ''}"
    url = url or endpoint_option or next(filter(None, map(os.environ.get, ENDPOINT_VARIABLES)), "")
    return f"the server at {url} (from {source})"


def _tls_failure(error: botocore.exceptions.SSLError, endpoint_option: str | None, spelling: Spelling) -> str:
    url = str(error.kwargs.get("endpoint_url", ""))
    reason = " ".join(str(error.kwargs.get("error", "")).split())
    where = _where(url, endpoint_option, spelling)
    if "WRONG_VERSION_NUMBER" in reason:
        # The peer answered the TLS hello with plain text: an http server on that port.
        plain = urlsplit(url)._replace(scheme="http").geturl()
        return (
            f"{where} does not speak https: it answered in plain http (TLS: wrong version number); "
            f"use {plain}"
        )
    return f"no TLS connection to {where}: {reason}; check its certificate and {spelling.endpoint_name}"


def _is_foreign(error: botocore.exceptions.ClientError) -> bool:
    """True when the answer was no DynamoDB error: botocore then names the error by its HTTP status."""
    return str(error.response.get("Error", {}).get("Code", "")).isdigit()


def _foreign_answer(
    error: botocore.exceptions.ClientError, endpoint_option: str | None, spelling: Spelling
) -> str:
    """One line for an answer that did not come from DynamoDB (a web server or a proxy's page)."""
    metadata = error.response.get("ResponseMetadata", {})
    status = metadata.get("HTTPStatusCode") or error.response.get("Error", {}).get("Code")
    kind = str(metadata.get("HTTPHeaders", {}).get("content-type", "")).split(";")[0].strip()
    answer = f"HTTP {status} and {'a ' + kind if kind else 'a'} body to {error.operation_name}"
    failing = str(status).startswith("5")
    if endpoint_source(endpoint_option, spelling) is None:
        cause = "an outage, or a proxy in between" if failing else "a proxy or firewall in between"
        return (
            f"AWS's DynamoDB endpoint answered {answer}, not a DynamoDB answer: {cause}? "
            "check HTTPS_PROXY and the network"
        )
    cause = "it failed, or is not DynamoDB" if failing else "it is not DynamoDB"
    return (
        f"{_where(None, endpoint_option, spelling)} answered {answer}, not a DynamoDB answer: "
        f"{cause}; check the host and port of {spelling.endpoint_name} (`dynsession local` prints "
        "the URL of the server it runs)"
    )


def endpoint_source(endpoint_option: str | None, spelling: Spelling) -> str | None:
    """Where boto3 took a non-AWS endpoint from, or None when it uses AWS's own."""
    if endpoint_option:
        return spelling.endpoint_name
    for variable in ENDPOINT_VARIABLES:
        if os.environ.get(variable):
            return variable
    return None


def client_location(client: Any) -> tuple[str | None, str | None]:
    """The region and endpoint URL a boto3 client talks to; None for what it does not say."""
    meta = getattr(client, "meta", None)
    region, endpoint = getattr(meta, "region_name", None), getattr(meta, "endpoint_url", None)
    return (region if isinstance(region, str) else None, endpoint if isinstance(endpoint, str) else None)


def is_aws_endpoint(url: str) -> bool:
    """True for AWS's own DynamoDB endpoints, which the region alone selects."""
    host = urlsplit(url).hostname or ""
    return host.endswith((".amazonaws.com", ".amazonaws.com.cn", ".api.aws"))


def create_table_command(
    table_name: str,
    *,
    region: str | None,
    endpoint_url: str | None,
    partition_key: str = "id",
    ttl_attribute: str = "ttl",
    index_flags: Sequence[str] = (),
) -> str:
    """The ``dynsession create-table`` command line that creates this table where a client looks;
    ``index_flags`` ask for the user index (see :func:`dynsession.tables.index.index_flags`)."""
    words = ["dynsession", "create-table", "--table", table_name, *index_flags]
    if partition_key != "id":
        words += ["--partition-key", partition_key]
    if ttl_attribute != "ttl":
        words += ["--ttl-attribute", ttl_attribute]
    return shlex.join(words + location_flags(region, endpoint_url))


def location_flags(region: str | None, endpoint_url: str | None) -> list[str]:
    """``--region`` and ``--endpoint-url`` (not for AWS's own endpoints, which the region selects)
    as the ``dynsession`` and ``aws`` commands both spell them, for what is known."""
    flags = ["--region", region] if region else []
    if endpoint_url and not is_aws_endpoint(endpoint_url):
        flags += ["--endpoint-url", endpoint_url]
    return flags


def _aws_files() -> tuple[str, str, str]:
    profile = os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE") or "default"
    config_file = os.environ.get("AWS_CONFIG_FILE") or "~/.aws/config"
    credentials_file = os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or "~/.aws/credentials"
    return profile, config_file, credentials_file
