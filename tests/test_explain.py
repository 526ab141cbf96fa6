"""The explanations of DynamoDB access problems, and the command a missing-table message prints."""

from __future__ import annotations

from typing import Any

import botocore.exceptions
import pytest

from dynsession import StoreUnavailable
from dynsession.tables.explain import CLI, ENDPOINT_VARIABLES, STORE, create_table_command, explain
from dynsession.tables.report import missing_table

from .clients import client_error


@pytest.mark.parametrize(
    ("options", "command"),
    [
        (
            {"region": "eu-west-1", "endpoint_url": "https://dynamodb.eu-west-1.amazonaws.com"},
            "dynsession create-table --table sessions --region eu-west-1",
        ),
        (
            {"region": "cn-north-1", "endpoint_url": "https://dynamodb.cn-north-1.amazonaws.com.cn"},
            "dynsession create-table --table sessions --region cn-north-1",
        ),
        (
            {"region": "us-east-1", "endpoint_url": "http://127.0.0.1:4567"},
            "dynsession create-table --table sessions --region us-east-1 --endpoint-url http://127.0.0.1:4567",
        ),
        (
            {"region": "us-east-1", "endpoint_url": None, "partition_key": "pk", "ttl_attribute": "exp"},
            "dynsession create-table --table sessions --partition-key pk --ttl-attribute exp "
            "--region us-east-1",
        ),
        ({"region": None, "endpoint_url": None}, "dynsession create-table --table sessions"),
    ],
    ids=["aws", "aws-china", "local", "key-names", "unknown"],
)
def test_create_table_command_has_the_flags_for_where_the_client_looked(
    options: dict[str, str | None], command: str
) -> None:
    assert create_table_command("sessions", **options) == command  # type: ignore[arg-type]


def test_odd_names_are_quoted_for_the_shell() -> None:
    command = create_table_command("it's", region="us-east-1", endpoint_url="http://h:1/a b")

    assert (
        command
        == "dynsession create-table --table 'it'\"'\"'s' --region us-east-1 --endpoint-url 'http://h:1/a b'"
    )


def test_a_client_that_does_not_say_where_it_looks_gets_the_bare_command() -> None:
    finding = missing_table("sessions", region=None, endpoint_url=None)

    assert finding.message == (
        "table 'sessions' does not exist; create it there with `dynsession create-table --table sessions` "
        "or pass create_table_if_missing=True"
    )


def test_an_unreachable_aws_endpoint_points_at_the_network(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    error = botocore.exceptions.EndpointConnectionError(
        endpoint_url="https://dynamodb.eu-west-1.amazonaws.com/"
    )

    assert explain(StoreUnavailable("GetItem", original=error), spelling=STORE) == (
        "cannot reach the DynamoDB endpoint https://dynamodb.eu-west-1.amazonaws.com/ (AWS's own); "
        "check the network and the region"
    )


def test_other_errors_keep_boto3s_words_on_one_line() -> None:
    error = client_error(
        "AccessDeniedException", "DescribeTable", "User: arn:aws:iam::1:user/x\nis not authorized"
    )

    assert explain(StoreUnavailable("CheckTable", original=error), spelling=CLI) == (
        "An error occurred (AccessDeniedException) when calling the DescribeTable operation: "
        "User: arn:aws:iam::1:user/x is not authorized"
    )


@pytest.mark.parametrize(
    ("status", "cause"),
    [(403, "a proxy or firewall in between?"), (503, "an outage, or a proxy in between?")],
)
def test_a_foreign_answer_on_aws_endpoint_suspects_what_is_in_between(
    monkeypatch: pytest.MonkeyPatch, status: int, cause: str
) -> None:
    """botocore names an answer without a DynamoDB error by its HTTP status; on AWS's own endpoint
    that points at a proxy (or an outage), never at the user's settings."""
    for variable in ENDPOINT_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    response: Any = {
        "Error": {"Code": str(status), "Message": "<html><body>Access denied</body></html>"},
        "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": {"content-type": "text/html"}},
    }
    error = botocore.exceptions.ClientError(response, "DescribeTable")
    said = explain(StoreUnavailable("DescribeTable", original=error), spelling=STORE)
    assert said == (
        f"AWS's DynamoDB endpoint answered HTTP {status} and a text/html body to DescribeTable, not a "
        f"DynamoDB answer: {cause} check HTTPS_PROXY and the network"
    )
    assert "<html" not in said
