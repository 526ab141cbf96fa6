"""What a look at the sessions table found: findings with severities, gathered in a report.

Pure functions over DescribeTable and DescribeTimeToLive answers; :mod:`dynsession.tables` makes
the calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..exceptions import TableConfigError
from .explain import create_table_command

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
    """What :func:`dynsession.tables.check_table` or :func:`~dynsession.tables.create_table` found.

    ``created`` is True when the call created the table, ``ttl_enabled`` when it turned TTL on.
    """

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


TTL_DISABLED = (
    "TTL is disabled: enable it on {!r} so DynamoDB removes expired sessions "
    "(until then they only read as expired)"
)


def missing_table(
    table_name: str,
    *,
    region: str | None,
    endpoint_url: str | None,
    partition_key: str = "id",
    ttl_attribute: str = "ttl",
    index_flags: Sequence[str] = (),
) -> TableFinding:
    """The error for a table that does not exist where the client looked (``region`` at
    ``endpoint_url``; None for what is not known), with the command that creates it there (with
    the user index when ``index_flags`` ask for it)."""
    where = "".join((f" in region {region}" if region else "", f" at {endpoint_url}" if endpoint_url else ""))
    command = create_table_command(
        table_name,
        region=region,
        endpoint_url=endpoint_url,
        partition_key=partition_key,
        ttl_attribute=ttl_attribute,
        index_flags=index_flags,
    )
    return TableFinding(
        "error",
        f"table {table_name!r} does not exist{where}; create it there with `{command}` "
        "or pass create_table_if_missing=True",
    )


def blocking(findings: list[TableFinding]) -> bool:
    """True when any finding is an error."""
    return any(finding.severity == "error" for finding in findings)


def table_findings(description: Any, partition_key: str) -> list[TableFinding]:
    """Findings about a DescribeTable ``Table``: status, key schema, billing mode."""
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
    if mode == "PROVISIONED" and not blocking(findings):
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


def ttl_findings(ttl: tuple[str, str | None] | None, ttl_attribute: str) -> list[TableFinding]:
    """Findings about TTL, given ``(status, attribute)`` or ``None`` for an endpoint without the TTL API."""
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
        return [TableFinding("warning", TTL_DISABLED.format(ttl_attribute))]
    return []
