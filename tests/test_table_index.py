"""The user index: created with the table, checked when configured, added to an existing table with
the Operations page's ``aws dynamodb update-table`` line; ``dynsession create-table/check-table
--user-index``."""

from __future__ import annotations

import json
import re
import shlex
import time
from typing import TYPE_CHECKING, Any

import anyio
import botocore.exceptions
import pytest

from dynsession import DynamoDBStore, TableConfigError
from dynsession._operator.cli import main
from dynsession.tables import TableReport, check_table, create_table
from dynsession.tables.explain import is_aws_endpoint
from dynsession.tables.index import update_table_command

from .doc_examples import REPO, in_chapter

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

OPERATIONS = REPO / "docs" / "operations.md"


def errors(report: TableReport) -> list[str]:
    return [finding.message for finding in report.errors]


def warnings(report: TableReport) -> list[str]:
    return [f.message for f in report.warnings if "TTL" not in f.message]


def missing_index(table: str, client: DynamoDBClient) -> str:
    """The finding, with the command that adds the index where ``client`` looked."""
    where = f" --region {client.meta.region_name}"
    if not is_aws_endpoint(client.meta.endpoint_url):
        where += f" --endpoint-url {client.meta.endpoint_url}"
    return (
        "user index 'user-sessions' does not exist (listing and ending a user's sessions need it); add it "
        "with: aws dynamodb update-table --table-name " + table + " --attribute-definitions "
        "AttributeName=id,AttributeType=S AttributeName=uid,AttributeType=S "
        "--global-secondary-index-updates "
        """'[{"Create":{"IndexName":"user-sessions","KeySchema":[{"AttributeName":"uid","KeyType":"HASH"}],"""
        """"Projection":{"ProjectionType":"KEYS_ONLY"}}}]'"""
        f"{where}"
    )


def table_with_index(
    client: DynamoDBClient, name: str, attribute: tuple[str, str], index: dict[str, Any]
) -> None:
    client.create_table(
        TableName=name,
        AttributeDefinitions=[
            {"AttributeName": "id", "AttributeType": "S"},
            {"AttributeName": attribute[0], "AttributeType": attribute[1]},  # type: ignore[typeddict-item]
        ],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        BillingMode="PAY_PER_REQUEST",
        GlobalSecondaryIndexes=[{"IndexName": "user-sessions", **index}],  # type: ignore[list-item]
    )
    client.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def test_create_table_with_the_user_index_then_check_it(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    created = create_table(dynamodb_client, fresh_table, user_index=True, poll_interval=0.2)
    checked = check_table(dynamodb_client, fresh_table, user_index=True)
    assert created.created and created.healthy and checked.healthy
    assert warnings(checked) == []
    table = dynamodb_client.describe_table(TableName=fresh_table)["Table"]
    assert sorted(d["AttributeName"] for d in table["AttributeDefinitions"]) == ["id", "uid"]
    (index,) = table["GlobalSecondaryIndexes"]
    assert (index["IndexName"], index["KeySchema"], index["Projection"]) == (
        "user-sessions",
        [{"AttributeName": "uid", "KeyType": "HASH"}],
        {"ProjectionType": "KEYS_ONLY"},
    )


def test_a_table_without_the_index_fails_only_when_the_index_is_wanted(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    create_table(dynamodb_client, fresh_table, poll_interval=0.2)
    assert check_table(dynamodb_client, fresh_table).healthy
    report = check_table(dynamodb_client, fresh_table, user_index=True)
    assert errors(report) == [missing_index(fresh_table, dynamodb_client)]
    # create_table never changes an existing table: it reports the missing index the same way.
    assert errors(create_table(dynamodb_client, fresh_table, user_index=True)) == [
        missing_index(fresh_table, dynamodb_client)
    ]
    store = DynamoDBStore(fresh_table, client=dynamodb_client, user_index=True)
    with pytest.raises(TableConfigError, match="user index 'user-sessions' does not exist"):
        anyio.run(store.prepare)


def documented_update_table_line() -> str:
    """The ``aws dynamodb update-table`` line of the Operations page's user index section."""
    (command,) = [
        line
        for code in in_chapter(OPERATIONS, "The user index", "sh")
        for line in code.splitlines()
        if line.startswith("aws dynamodb update-table ")
    ]
    return command


def test_the_documented_update_table_line_adds_the_index(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    create_table(dynamodb_client, fresh_table, poll_interval=0.2)
    command = documented_update_table_line()
    assert command == update_table_command("sessions", "user-sessions")
    # Run what the AWS CLI would send for it, on this table.
    argv = shlex.split(command.replace("--table-name sessions", f"--table-name {fresh_table}"))
    assert argv[:3] == ["aws", "dynamodb", "update-table"]
    options: dict[str, list[str]] = {}
    for word in argv[3:]:
        if word.startswith("--"):
            values = options.setdefault(word, [])
        else:
            values.append(word)
    pattern = re.compile(r"AttributeName=(\w+),AttributeType=S")
    names = [match[1] for match in map(pattern.fullmatch, options["--attribute-definitions"]) if match]
    assert names == ["id", "uid"]
    updates = json.loads(options["--global-secondary-index-updates"][0])
    definitions: Any = [{"AttributeName": name, "AttributeType": "S"} for name in names]
    try:
        dynamodb_client.update_table(
            TableName=options["--table-name"][0],
            AttributeDefinitions=definitions,
            GlobalSecondaryIndexUpdates=updates,
        )
    except botocore.exceptions.ClientError as exc:
        # dynalite 4 demands a throughput even on an on-demand table, where DynamoDB refuses one.
        if "provisionedThroughput" not in str(exc):
            raise
        updates[0]["Create"]["ProvisionedThroughput"] = {"ReadCapacityUnits": 1, "WriteCapacityUnits": 1}
        answer = dynamodb_client.update_table(
            TableName=options["--table-name"][0],
            AttributeDefinitions=definitions,
            GlobalSecondaryIndexUpdates=updates,
        )
        if "GlobalSecondaryIndexes" not in answer["TableDescription"]:
            pytest.skip("dynalite 4 accepts GlobalSecondaryIndexUpdates but never creates the index")
    deadline = time.monotonic() + 60
    while True:  # DynamoDB builds the index in the background, then marks it ACTIVE
        report = check_table(dynamodb_client, fresh_table, user_index=True)
        if (report.healthy and not warnings(report)) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert report.healthy and warnings(report) == []


def test_an_index_on_the_wrong_key_is_an_error(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    keys_only = {"Projection": {"ProjectionType": "KEYS_ONLY"}}
    table_with_index(
        dynamodb_client,
        fresh_table,
        ("user", "S"),
        {"KeySchema": [{"AttributeName": "user", "KeyType": "HASH"}], **keys_only},
    )
    assert errors(check_table(dynamodb_client, fresh_table, user_index=True)) == [
        "user index 'user-sessions' is keyed on 'user' (HASH); dynsession needs a hash key 'uid' "
        "and no range key"
    ]


def test_an_index_key_of_the_wrong_type_is_an_error(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    index = {
        "KeySchema": [{"AttributeName": "uid", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "KEYS_ONLY"},
    }
    table_with_index(dynamodb_client, fresh_table, ("uid", "N"), index)
    assert errors(check_table(dynamodb_client, fresh_table, user_index=True)) == [
        "user index 'user-sessions' key 'uid' has type N, but dynsession needs S (String)"
    ]


def test_an_index_projecting_all_attributes_is_a_warning(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    index = {
        "KeySchema": [{"AttributeName": "uid", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "ALL"},
    }
    table_with_index(dynamodb_client, fresh_table, ("uid", "S"), index)
    report = check_table(dynamodb_client, fresh_table, user_index=True)
    assert report.healthy
    assert warnings(report) == [
        "user index 'user-sessions' projects ALL attributes: every save or deadline refresh of a signed-in "
        "session also writes the index; KEYS_ONLY is all dynsession needs"
    ]


def test_an_index_projecting_the_deadline_is_a_warning(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    index = {
        "KeySchema": [{"AttributeName": "uid", "KeyType": "HASH"}],
        "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["device", "ttl"]},
    }
    table_with_index(dynamodb_client, fresh_table, ("uid", "S"), index)
    assert warnings(check_table(dynamodb_client, fresh_table, user_index=True)) == [
        "user index 'user-sessions' projects 'ttl': every save or deadline refresh of a signed-in "
        "session also writes the index; KEYS_ONLY is all dynsession needs"
    ]


def test_the_commands_create_and_check_the_index(
    dynamodb_endpoint: str,
    dynamodb_client: DynamoDBClient,
    fresh_table: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    flags = ["--table", fresh_table, "--endpoint-url", dynamodb_endpoint]
    assert main(["create-table", *flags]) == 0
    capsys.readouterr()
    assert main(["check-table", *flags, "--user-index"]) == 1
    assert f"error: {missing_index(fresh_table, dynamodb_client)}" in capsys.readouterr().out.splitlines()

    other = fresh_table + "-i"
    try:
        assert (
            main(["create-table", "--table", other, "--endpoint-url", dynamodb_endpoint, "--user-index"]) == 0
        )
        assert (
            main(["check-table", "--table", other, "--endpoint-url", dynamodb_endpoint, "--user-index"]) == 0
        )
        assert f"table '{other}' is ready for dynsession" in capsys.readouterr().out
    finally:
        DynamoDBStore(other, endpoint_url=dynamodb_endpoint).client.delete_table(TableName=other)
