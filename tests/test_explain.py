"""The command a missing-table message prints, for every place a client can look."""

from __future__ import annotations

import pytest

from dynsession.explain import create_table_command
from dynsession.table_report import missing_table


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
