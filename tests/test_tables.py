"""Creating and checking the sessions table, over the real wire protocol."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio
import boto3
import botocore.config
import pytest

from dynsession import DynamoDBStore, StoreUnavailable, TableConfigError
from dynsession.tables import TTL_API_UNAVAILABLE, TableFinding, TableReport, check_table, create_table

from .clients import WrappingClient, client_error, free_port, make_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def ttl_of(client: DynamoDBClient, name: str) -> tuple[str, str | None]:
    ttl = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    return ttl.get("TimeToLiveStatus", "DISABLED"), ttl.get("AttributeName")


TTL_DISABLED = (
    "TTL is disabled: enable it on 'ttl' so DynamoDB removes expired sessions "
    "(until then they only read as expired)"
)


def messages(report: TableReport, severity: str) -> list[str]:
    return [finding.message for finding in report.findings if finding.severity == severity]


def test_create_table_then_check_table_is_healthy(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str, ttl_api: bool
) -> None:
    store = DynamoDBStore(fresh_table, endpoint_url=dynamodb_endpoint)

    created = anyio.run(store.create_table)
    checked = anyio.run(store.check_table)

    assert created.created and created.healthy and checked.healthy and not checked.created
    table = dynamodb_client.describe_table(TableName=fresh_table)["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "id", "AttributeType": "S"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    if ttl_api:
        assert created.ttl_enabled
        assert ttl_of(dynamodb_client, fresh_table) == ("ENABLED", "ttl")
        assert checked.findings == ()
    else:
        # dynalite describes TTL as DISABLED and has no UpdateTimeToLive to enable it.
        assert created.findings == (TableFinding("warning", TTL_API_UNAVAILABLE),)
        assert messages(checked, "warning") == [TTL_DISABLED]


def test_create_table_uses_the_configured_key_and_ttl_names(
    dynamodb_client: DynamoDBClient, fresh_table: str, ttl_api: bool
) -> None:
    report = create_table(dynamodb_client, fresh_table, partition_key="pk", ttl_attribute="expires_at")

    assert report.created and report.healthy
    table = dynamodb_client.describe_table(TableName=fresh_table)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    if ttl_api:
        assert ttl_of(dynamodb_client, fresh_table) == ("ENABLED", "expires_at")


def test_create_table_is_idempotent(dynamodb_client: DynamoDBClient, fresh_table: str, ttl_api: bool) -> None:
    first = create_table(dynamodb_client, fresh_table)
    counting = WrappingClient(dynamodb_client)

    second = create_table(counting.as_client(), fresh_table)

    assert first.created and not second.created
    assert second.healthy and not second.ttl_enabled
    assert counting.calls["create_table"] == 0
    # Without a TTL API (dynalite) TTL always reads DISABLED, so each call tries to enable it.
    assert counting.calls["update_time_to_live"] == (0 if ttl_api else 1)


def test_missing_table_is_an_error(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    report = check_table(dynamodb_client, fresh_table)

    assert not report.healthy
    region, endpoint = dynamodb_client.meta.region_name, dynamodb_client.meta.endpoint_url
    expected = (
        f"table '{fresh_table}' does not exist in region {region} at {endpoint}; create it there with "
        f"`dynsession create-table --table {fresh_table} --region {region} --endpoint-url {endpoint}` "
        "or pass create_table_if_missing=True"
    )
    assert messages(report, "error") == [expected]
    with pytest.raises(TableConfigError) as raised:
        report.raise_for_errors()
    assert str(raised.value) == f"DynamoDB table '{fresh_table}': error: {expected}"


def test_wrong_hash_key_type_is_an_error(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    make_table(dynamodb_client, fresh_table, hash_key=("id", "N"))

    report = check_table(dynamodb_client, fresh_table)

    assert messages(report, "error") == ["hash key 'id' has type N, but dynsession needs S (String)"]


def test_wrong_hash_key_name_is_an_error(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    make_table(dynamodb_client, fresh_table, hash_key=("pk", "S"))

    report = check_table(dynamodb_client, fresh_table)

    assert messages(report, "error") == [
        "hash key is 'pk', but dynsession is configured for 'id' (pass partition_key='pk' to use this table)"
    ]
    assert check_table(dynamodb_client, fresh_table, partition_key="pk").healthy


def test_range_key_is_an_error(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    make_table(dynamodb_client, fresh_table, range_key=("sk", "S"))

    report = check_table(dynamodb_client, fresh_table)

    assert messages(report, "error") == [
        "table has a range (sort) key 'sk'; dynsession needs a table with a hash key only"
    ]


def test_create_table_reports_but_never_changes_a_wrongly_shaped_table(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    make_table(dynamodb_client, fresh_table, range_key=("sk", "S"))
    counting = WrappingClient(dynamodb_client)

    report = create_table(counting.as_client(), fresh_table)

    assert not report.created and not report.healthy
    assert counting.calls["create_table"] == 0 and counting.calls["update_time_to_live"] == 0
    assert counting.calls["describe_time_to_live"] == 0


@pytest.mark.usefixtures("requires_ttl_api")
def test_ttl_off_is_a_warning_that_create_table_fixes(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    make_table(dynamodb_client, fresh_table)

    report = check_table(dynamodb_client, fresh_table)

    assert report.healthy
    assert messages(report, "warning") == [TTL_DISABLED]
    fixed = create_table(dynamodb_client, fresh_table)
    assert fixed.ttl_enabled and not fixed.created and fixed.findings == ()
    assert ttl_of(dynamodb_client, fresh_table) == ("ENABLED", "ttl")


@pytest.mark.usefixtures("requires_ttl_api")
def test_ttl_on_another_attribute_is_a_warning_left_alone(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    make_table(dynamodb_client, fresh_table)
    dynamodb_client.update_time_to_live(
        TableName=fresh_table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"}
    )

    report = create_table(dynamodb_client, fresh_table)

    assert report.healthy and not report.ttl_enabled
    assert messages(report, "warning") == [
        "TTL is enabled on 'expires_at', not 'ttl': DynamoDB will not remove expired sessions "
        "(they only read as expired)"
    ]
    assert ttl_of(dynamodb_client, fresh_table) == ("ENABLED", "expires_at")


def test_an_endpoint_without_the_ttl_api_is_a_warning_not_a_crash(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    # dynalite answers UnknownOperationException to the TTL API; make every endpoint do so.
    def no_ttl_api(**kwargs: Any) -> Any:
        raise client_error("UnknownOperationException", "DescribeTimeToLive", "")

    client = WrappingClient(dynamodb_client, {"describe_time_to_live": no_ttl_api}).as_client()

    created = create_table(client, fresh_table)
    checked = check_table(client, fresh_table)

    for report in (created, checked):
        assert report.healthy
        assert report.findings == (TableFinding("warning", "TTL API unavailable on this endpoint"),)
    assert created.created and not created.ttl_enabled


def test_the_wait_for_active_is_bounded(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    def forever_creating(**kwargs: Any) -> Any:
        response = dynamodb_client.describe_table(**kwargs)
        response["Table"]["TableStatus"] = "CREATING"
        return response

    client = WrappingClient(dynamodb_client, {"describe_table": forever_creating})
    started = time.monotonic()

    report = create_table(client.as_client(), fresh_table, wait_timeout=0.3, poll_interval=0.05)

    assert time.monotonic() - started < 10
    assert client.calls["describe_table"] >= 2
    assert messages(report, "error") == ["table is still CREATING after waiting 0.3 s for ACTIVE"]
    with pytest.raises(TableConfigError, match="still CREATING"):
        report.raise_for_errors()


@pytest.mark.parametrize(
    ("status", "errors"), [("UPDATING", []), ("DELETING", ["table is DELETING, not ACTIVE"])]
)
def test_only_a_table_being_created_is_waited_for(
    dynamodb_client: DynamoDBClient, fresh_table: str, status: str, errors: list[str]
) -> None:
    make_table(dynamodb_client, fresh_table)

    def in_status(**kwargs: Any) -> Any:
        response: Any = dynamodb_client.describe_table(**kwargs)
        response["Table"]["TableStatus"] = status
        return response

    client = WrappingClient(dynamodb_client, {"describe_table": in_status})

    report = create_table(client.as_client(), fresh_table, wait_timeout=30)

    assert client.calls["describe_table"] == 1
    assert messages(report, "error") == errors
    assert messages(check_table(client.as_client(), fresh_table), "error") == errors


def test_a_concurrently_created_table_is_waited_for(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    # Another process creates the table between our DescribeTable and CreateTable.
    def lost_race(**kwargs: Any) -> Any:
        make_table(dynamodb_client, fresh_table)
        return dynamodb_client.create_table(**kwargs)

    client = WrappingClient(dynamodb_client, {"create_table": lost_race})

    report = create_table(client.as_client(), fresh_table)

    assert not report.created and report.healthy


def test_provisioned_capacity_is_noted(dynamodb_client: DynamoDBClient, fresh_table: str) -> None:
    make_table(dynamodb_client, fresh_table, provisioned=True)

    report = check_table(dynamodb_client, fresh_table)

    assert report.healthy
    assert messages(report, "info") == [
        "provisioned capacity (5 RCU, 5 WCU): throttled requests past retries answer 503; "
        "on-demand suits bursty session traffic"
    ]


def test_report_message_lists_errors_first() -> None:
    report = TableReport(
        "sessions", (TableFinding("warning", "w"), TableFinding("info", "i"), TableFinding("error", "e"))
    )
    assert report.message == "DynamoDB table 'sessions': error: e; warning: w; info: i"
    assert TableReport("sessions").message == "DynamoDB table 'sessions': no findings"


def test_an_unreachable_endpoint_is_store_unavailable() -> None:
    store = DynamoDBStore(
        "sessions",
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        region_name="us-east-1",
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(StoreUnavailable, match="CheckTable: EndpointConnectionError"):
        anyio.run(store.check_table)


@pytest.mark.parametrize(
    ("status", "attribute", "finding"),
    [
        ("ENABLING", "ttl", TableFinding("info", "TTL on 'ttl' is being enabled")),
        (
            "DISABLING",
            "ttl",
            TableFinding("warning", "TTL is being disabled; enable it again once that completes"),
        ),
    ],
)
def test_ttl_in_transition(
    dynamodb_client: DynamoDBClient, fresh_table: str, status: str, attribute: str, finding: TableFinding
) -> None:
    make_table(dynamodb_client, fresh_table)

    def in_transition(**kwargs: Any) -> Any:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": status, "AttributeName": attribute}}

    client = WrappingClient(dynamodb_client, {"describe_time_to_live": in_transition})

    assert check_table(client.as_client(), fresh_table).findings == (finding,)


def test_ttl_enabled_by_someone_else_meanwhile_is_not_an_error(
    dynamodb_client: DynamoDBClient, fresh_table: str
) -> None:
    make_table(dynamodb_client, fresh_table)
    answers = iter(["DISABLED", "ENABLED"])

    def describe(**kwargs: Any) -> Any:
        return {"TimeToLiveDescription": {"TimeToLiveStatus": next(answers), "AttributeName": "ttl"}}

    def already_enabled(**kwargs: Any) -> Any:
        raise client_error("ValidationException", "UpdateTimeToLive", "TimeToLive is already enabled")

    client = WrappingClient(
        dynamodb_client, {"describe_time_to_live": describe, "update_time_to_live": already_enabled}
    )

    report = create_table(client.as_client(), fresh_table)

    assert report.healthy and not report.ttl_enabled and report.findings == ()


def test_access_denied_is_store_unavailable_naming_the_code(dynamodb_endpoint: str) -> None:
    def denied(**kwargs: Any) -> Any:
        raise client_error("AccessDeniedException", "DescribeTable", "not authorized")

    client = WrappingClient(
        boto3.client("dynamodb", endpoint_url=dynamodb_endpoint), {"describe_table": denied}
    )
    store = DynamoDBStore("sessions", client=client.as_client())

    with pytest.raises(StoreUnavailable, match="CheckTable: DynamoDB returned AccessDeniedException"):
        anyio.run(store.check_table)
    with pytest.raises(StoreUnavailable, match="CreateTable: DynamoDB returned AccessDeniedException"):
        anyio.run(store.create_table)
