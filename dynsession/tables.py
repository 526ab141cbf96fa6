"""Create and check the DynamoDB sessions table: one implementation for the store, startup and the CLI.

The functions here are blocking (they call a boto3 client and sleep while a table is created):
:class:`~dynsession.DynamoDBStore` runs them in a worker thread, the ``dynsession`` command calls
them directly. Client errors other than the expected ones (a missing table, a missing TTL API)
propagate as botocore exceptions for the caller to translate.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import botocore.exceptions

from .exceptions import TableConfigError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

Severity = Literal["error", "warning", "info"]
"""``error``: sessions cannot work with this table; ``warning``: they work, with a caveat; ``info``."""

TTL_API_UNAVAILABLE = "TTL API unavailable on this endpoint"

# A table still serves reads and writes while UPDATING; every other status but ACTIVE does not.
_SERVING = {"ACTIVE", "UPDATING"}


@dataclass(frozen=True, slots=True)
class TableFinding:
    """One observation about the table, with its severity."""

    severity: Severity
    message: str

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class TableReport:
    """What :func:`check_table` or :func:`create_table` found; ``created`` is True when this call
    created the table, ``ttl_enabled`` when it turned TTL on."""

    table_name: str
    findings: tuple[TableFinding, ...] = ()
    created: bool = False
    ttl_enabled: bool = False

    @property
    def errors(self) -> list[TableFinding]:
        """The findings that make the table unusable for sessions."""
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[TableFinding]:
        """The findings sessions survive, such as TTL being off (expired sessions still read as gone)."""
        return [finding for finding in self.findings if finding.severity == "warning"]

    @property
    def healthy(self) -> bool:
        """True when no finding is an error."""
        return not self.errors

    @property
    def message(self) -> str:
        """Every finding on one line, errors first."""
        order = {"error": 0, "warning": 1, "info": 2}
        ranked = sorted(self.findings, key=lambda finding: order[finding.severity])
        details = "; ".join(str(finding) for finding in ranked) or "no findings"
        return f"DynamoDB table {self.table_name!r}: {details}"

    def raise_for_errors(self) -> None:
        """Raise :class:`~dynsession.TableConfigError` with :attr:`message` if any finding is an error."""
        if self.errors:
            raise TableConfigError(self.message)


def check_table(
    client: DynamoDBClient, table_name: str, *, partition_key: str = "id", ttl_attribute: str = "ttl"
) -> TableReport:
    """Describe the table and its TTL setting and report every problem found; changes nothing.

    Raises botocore's exceptions for anything but a missing table or a missing TTL API.
    """
    description = _describe(client, table_name)
    if description is None:
        return TableReport(table_name, (_missing(table_name),))
    findings = _table_findings(description, partition_key)
    if not _blocking(findings):
        findings += _ttl_findings(_describe_ttl(client, table_name), ttl_attribute)
    return TableReport(table_name, tuple(findings))


def create_table(
    client: DynamoDBClient,
    table_name: str,
    *,
    partition_key: str = "id",
    ttl_attribute: str = "ttl",
    wait_timeout: float = 60.0,
    poll_interval: float = 1.0,
) -> TableReport:
    """Create the table (on-demand, String hash key ``partition_key``) unless it exists, wait at
    most ``wait_timeout`` seconds for it to be ACTIVE, enable TTL on ``ttl_attribute`` if TTL is off,
    and report as :func:`check_table` does. An existing valid table is left as it is; an existing
    table of the wrong shape is reported, never changed.

    Raises botocore's exceptions for anything but a missing table or a missing TTL API.
    """
    created = False
    description = _describe(client, table_name)
    if description is None:
        try:
            client.create_table(
                TableName=table_name,
                AttributeDefinitions=[{"AttributeName": partition_key, "AttributeType": "S"}],
                KeySchema=[{"AttributeName": partition_key, "KeyType": "HASH"}],
                BillingMode="PAY_PER_REQUEST",
            )
            created = True
        except botocore.exceptions.ClientError as exc:
            # Another process created it between our describe and create: wait for theirs.
            if _code(exc) != "ResourceInUseException":
                raise
    if description is None or description["TableStatus"] != "ACTIVE":
        description = _wait_active(client, table_name, wait_timeout, poll_interval)
    if description is None:
        return TableReport(table_name, (_missing(table_name),), created=created)
    findings = _table_findings(description, partition_key)
    if description["TableStatus"] not in _SERVING:
        findings = [
            TableFinding(
                "error",
                f"table is still {description['TableStatus']} after waiting {wait_timeout:g} s for ACTIVE",
            )
        ]
    ttl_enabled = False
    if not _blocking(findings):
        ttl = _describe_ttl(client, table_name)
        if ttl is not None and ttl[0] == "DISABLED":
            outcome = _enable_ttl(client, table_name, ttl_attribute)
            ttl_enabled = outcome is True
            # dynalite describes TTL as DISABLED but has no UpdateTimeToLive.
            ttl = None if outcome is None else _describe_ttl(client, table_name)
        findings += _ttl_findings(ttl, ttl_attribute)
    return TableReport(table_name, tuple(findings), created=created, ttl_enabled=ttl_enabled)


# -- the pieces ----------------------------------------------------------------------------------

_TTL_DISABLED = (
    "TTL is disabled: enable it on {!r} so DynamoDB removes expired sessions "
    "(until then they only read as expired)"
)


def _code(exc: botocore.exceptions.ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _missing(table_name: str) -> TableFinding:
    return TableFinding(
        "error",
        f"table does not exist; create it with `dynsession create-table --table {table_name}` "
        "or pass create_table_if_missing=True",
    )


def _blocking(findings: list[TableFinding]) -> bool:
    return any(finding.severity == "error" for finding in findings)


def _describe(client: DynamoDBClient, table_name: str) -> Any | None:
    try:
        return client.describe_table(TableName=table_name)["Table"]
    except botocore.exceptions.ClientError as exc:
        if _code(exc) == "ResourceNotFoundException":
            return None
        raise


def _wait_active(client: DynamoDBClient, table_name: str, timeout: float, interval: float) -> Any | None:
    """Poll until the table is ACTIVE or ``timeout`` seconds have passed; return the last description."""
    deadline = time.monotonic() + timeout
    while True:
        description = _describe(client, table_name)
        remaining = deadline - time.monotonic()
        if (description is not None and description["TableStatus"] == "ACTIVE") or remaining <= 0:
            return description
        time.sleep(min(interval, remaining))


def _table_findings(description: Any, partition_key: str) -> list[TableFinding]:
    findings: list[TableFinding] = []
    status = description.get("TableStatus", "ACTIVE")
    if status not in _SERVING:
        findings.append(TableFinding("error", f"table is {status}, not ACTIVE"))
    types = {
        item["AttributeName"]: item["AttributeType"] for item in description.get("AttributeDefinitions", [])
    }
    for element in description.get("KeySchema", []):
        name, kind = element["AttributeName"], element["KeyType"]
        if kind == "HASH" and name != partition_key:
            findings.append(
                TableFinding(
                    "error",
                    f"hash key is {name!r}, but dynsession is configured for {partition_key!r} "
                    f"(pass partition_key={name!r} to use this table)",
                )
            )
        elif kind == "HASH" and types.get(name) != "S":
            findings.append(
                TableFinding(
                    "error",
                    f"hash key {name!r} has type {types.get(name, '?')}, but dynsession needs S (String)",
                )
            )
        elif kind == "RANGE":
            findings.append(
                TableFinding(
                    "error",
                    f"table has a range (sort) key {name!r}; dynsession needs a table with a hash key only",
                )
            )
    mode = description.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    if mode == "PROVISIONED" and not _blocking(findings):
        throughput = description.get("ProvisionedThroughput", {})
        findings.append(
            TableFinding(
                "info",
                f"provisioned capacity ({throughput.get('ReadCapacityUnits', '?')} RCU, "
                f"{throughput.get('WriteCapacityUnits', '?')} WCU): throttled requests past retries "
                "answer 503; on-demand suits bursty session traffic",
            )
        )
    return findings


def _describe_ttl(client: DynamoDBClient, table_name: str) -> tuple[str, str | None] | None:
    """The TTL status and attribute, or ``None`` when the endpoint has no TTL API."""
    try:
        ttl = client.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    except botocore.exceptions.ClientError as exc:
        if _code(exc) == "UnknownOperationException":
            return None
        raise
    return ttl.get("TimeToLiveStatus", "DISABLED"), ttl.get("AttributeName")


def _ttl_findings(ttl: tuple[str, str | None] | None, ttl_attribute: str) -> list[TableFinding]:
    if ttl is None:
        return [TableFinding("warning", TTL_API_UNAVAILABLE)]
    status, attribute = ttl
    if status in ("ENABLED", "ENABLING") and attribute != ttl_attribute:
        return [
            TableFinding(
                "warning",
                f"TTL is {status.lower()} on {attribute!r}, not {ttl_attribute!r}: DynamoDB will not "
                "remove expired sessions (they only read as expired)",
            )
        ]
    if status == "ENABLING":
        return [TableFinding("info", f"TTL on {ttl_attribute!r} is being enabled")]
    if status == "DISABLING":
        return [TableFinding("warning", "TTL is being disabled; enable it again once that completes")]
    if status != "ENABLED":
        return [TableFinding("warning", _TTL_DISABLED.format(ttl_attribute))]
    return []


def _enable_ttl(client: DynamoDBClient, table_name: str, ttl_attribute: str) -> bool | None:
    """True once enabled, False if someone else enabled TTL first, None without a TTL API."""
    try:
        client.update_time_to_live(
            TableName=table_name, TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute}
        )
    except botocore.exceptions.ClientError as exc:
        # Enabled meanwhile by someone else: the report that follows says on which attribute.
        if _code(exc) == "ValidationException":
            return False
        if _code(exc) == "UnknownOperationException":
            return None
        raise
    return True
