"""The user index of the sessions table: its definition, and what a look at an existing one found.

A sparse global secondary index on ``uid`` (String), no range key, projection KEYS_ONLY: only
sessions bound to a user carry ``uid``, so only they are in the index, and since nothing but the
keys is projected, saves and deadline refreshes of a bound session never write to it.
"""

from __future__ import annotations

import json
import shlex
from typing import Any

from .explain import location_flags
from .report import TableFinding

USER_ATTRIBUTE = "uid"
DEFAULT_USER_INDEX = "user-sessions"
# Attributes that change on saves or refreshes: projecting one makes those writes index writes too.
_CHURNING = ("ttl", "seen", "data", "ver")


def index_definition(name: str) -> dict[str, Any]:
    """The ``GlobalSecondaryIndexes`` entry of CreateTable (and ``Create`` of UpdateTable)."""
    return {
        "IndexName": name,
        "KeySchema": [{"AttributeName": USER_ATTRIBUTE, "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }


def index_flags(name: str) -> list[str]:
    """The ``dynsession create-table`` flags that create the user index ``name``."""
    return ["--user-index"] + ([] if name == DEFAULT_USER_INDEX else ["--user-index-name", name])


def update_table_command(
    table_name: str,
    name: str,
    partition_key: str = "id",
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> str:
    """The AWS CLI command that adds the index to an existing on-demand table (in ``region``, at
    ``endpoint_url`` when they are given). It repeats the hash key's definition, which DynamoDB
    accepts and some local implementations need to keep it."""
    create = json.dumps([{"Create": index_definition(name)}], separators=(",", ":"))
    where = "".join(" " + shlex.quote(word) for word in location_flags(region, endpoint_url))
    return (
        f"aws dynamodb update-table --table-name {table_name} --attribute-definitions "
        f"AttributeName={partition_key},AttributeType=S AttributeName={USER_ATTRIBUTE},AttributeType=S "
        f"--global-secondary-index-updates '{create}'{where}"
    )


def index_findings(
    description: Any,
    name: str,
    ttl_attribute: str = "ttl",
    partition_key: str = "id",
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> list[TableFinding]:
    """Findings about the user index ``name`` in a DescribeTable ``Table`` (of a table in
    ``region`` at ``endpoint_url``, which the suggested command repeats)."""
    table_name = description.get("TableName", "?")
    index = next((i for i in description.get("GlobalSecondaryIndexes", ()) if i["IndexName"] == name), None)
    if index is None:
        add = update_table_command(table_name, name, partition_key, region=region, endpoint_url=endpoint_url)
        return [
            TableFinding(
                "error",
                f"user index {name!r} does not exist (listing and ending a user's sessions need it); "
                f"add it with: {add}",
            )
        ]
    findings = _key_findings(description, index, name)
    status = index.get("IndexStatus", "ACTIVE")
    if status == "CREATING":
        message = f"user index {name!r} is being built: listings miss sessions until it is ACTIVE"
        findings.append(TableFinding("warning", message))
    elif status == "DELETING":
        findings.append(TableFinding("error", f"user index {name!r} is being deleted"))
    projection = index.get("Projection", {})
    kind = projection.get("ProjectionType", "KEYS_ONLY")
    churning = {ttl_attribute, *_CHURNING}
    projected = [a for a in projection.get("NonKeyAttributes", ()) if a in churning]
    if kind == "ALL" or projected:
        what = "ALL attributes" if kind == "ALL" else ", ".join(repr(a) for a in projected)
        findings.append(
            TableFinding(
                "warning",
                f"user index {name!r} projects {what}: every save or deadline refresh of a signed-in "
                "session also writes the index; KEYS_ONLY is all dynsession needs",
            )
        )
    return findings


def _key_findings(description: Any, index: Any, name: str) -> list[TableFinding]:
    types = {
        item["AttributeName"]: item["AttributeType"] for item in description.get("AttributeDefinitions", [])
    }
    schema = [(element["AttributeName"], element["KeyType"]) for element in index.get("KeySchema", [])]
    if schema != [(USER_ATTRIBUTE, "HASH")]:
        found = ", ".join(f"{attribute!r} ({kind})" for attribute, kind in schema) or "nothing"
        return [
            TableFinding(
                "error",
                f"user index {name!r} is keyed on {found}; dynsession needs a hash key "
                f"{USER_ATTRIBUTE!r} and no range key",
            )
        ]
    if types.get(USER_ATTRIBUTE) != "S":
        return [
            TableFinding(
                "error",
                f"user index {name!r} key {USER_ATTRIBUTE!r} has type {types.get(USER_ATTRIBUTE, '?')}, "
                "but dynsession needs S (String)",
            )
        ]
    return []
