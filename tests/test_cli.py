"""The ``dynsession`` command, run as a real subprocess against a real endpoint."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest

from dynsession._operator.cli import main

from .clients import free_port, make_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

TTL_DISABLED = (
    "warning: TTL is disabled: enable it on 'ttl' so DynamoDB removes expired sessions "
    "(until then they only read as expired)"
)


# Where AWS would look for credentials or a region besides the variables a test removes.
NO_AWS_FILES = {
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_PROFILE": None,
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": None,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI": None,
    "AWS_WEB_IDENTITY_TOKEN_FILE": None,
}


def run(*args: str, env: dict[str, str | None] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m dynsession ARGS`` with this process's environment (its AWS settings, as conftest
    completed them), changed by ``env``: a value of None removes the variable."""
    base = dict(os.environ)
    for key, value in (env or {}).items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return subprocess.run(
        [sys.executable, "-m", "dynsession", *args], capture_output=True, text=True, env=base, timeout=60
    )


def test_create_table_then_check_table_exit_0(
    dynamodb_endpoint: str, fresh_table: str, ttl_api: bool
) -> None:
    created = run("create-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)
    again = run("create-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)
    checked = run("check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)

    assert (created.returncode, again.returncode, checked.returncode) == (0, 0, 0), created.stderr
    ready = f"table '{fresh_table}' is ready for dynsession"
    if ttl_api:
        assert created.stdout.splitlines() == [
            f"created table '{fresh_table}' (on-demand)",
            f"enabled TTL on table '{fresh_table}'",
            ready,
        ]
        assert again.stdout.splitlines() == checked.stdout.splitlines() == [ready]
    else:
        assert created.stdout.splitlines() == [
            f"created table '{fresh_table}' (on-demand)",
            "warning: TTL API unavailable on this endpoint",
            ready,
        ]
        assert checked.stdout.splitlines() == [TTL_DISABLED, ready]
    assert created.stderr == again.stderr == checked.stderr == ""


def test_the_partition_key_and_ttl_attribute_options(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str
) -> None:
    options = ("--table", fresh_table, "--endpoint-url", dynamodb_endpoint, "--partition-key", "pk")

    created = run("create-table", *options, "--ttl-attribute", "expires_at")
    default_key = run("check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)

    assert created.returncode == 0, created.stdout
    assert dynamodb_client.describe_table(TableName=fresh_table)["Table"]["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"}
    ]
    assert default_key.returncode == 1
    assert "error: hash key is 'pk', but dynsession is configured for 'id'" in default_key.stdout


def test_check_table_on_a_missing_table_exits_1(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str
) -> None:
    result = run("check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)

    region = dynamodb_client.meta.region_name
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"error: table '{fresh_table}' does not exist in region {region} at {dynamodb_endpoint}; create it "
        f"there with `dynsession create-table --table {fresh_table} --region {region} --endpoint-url "
        f"{dynamodb_endpoint}` or pass create_table_if_missing=True",
        f"table '{fresh_table}' cannot hold dynsession sessions (1 error)",
    ]


def test_the_command_a_missing_table_message_prints_creates_it_there(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str
) -> None:
    # The region comes from the environment, the key names from the options: the printed command
    # carries all of them, so running it creates the table the check looked for.
    options = ("--table", fresh_table, "--partition-key", "pk", "--ttl-attribute", "expires_at")
    env: dict[str, str | None] = {
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
    }
    missing = run("check-table", *options, env=env)
    printed = re.search(r"`(dynsession create-table [^`]*)`", missing.stdout)
    assert printed is not None, missing.stdout
    assert printed[1] == (
        f"dynsession create-table --table {fresh_table} --partition-key pk --ttl-attribute expires_at "
        f"--region eu-west-1 --endpoint-url {dynamodb_endpoint}"
    )

    created = run(*shlex.split(printed[1])[1:], env={"AWS_ENDPOINT_URL_DYNAMODB": None})
    checked = run("check-table", *options, env=env)

    assert (missing.returncode, created.returncode, checked.returncode) == (1, 0, 0), created.stderr
    assert checked.stdout.splitlines()[-1] == f"table '{fresh_table}' is ready for dynsession"
    assert dynamodb_client.meta.region_name != "eu-west-1"  # fresh_table's cleanup looks elsewhere
    boto3.client("dynamodb", region_name="eu-west-1", endpoint_url=dynamodb_endpoint).delete_table(
        TableName=fresh_table
    )


def test_check_table_on_a_wrongly_shaped_table_exits_1(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str
) -> None:
    make_table(dynamodb_client, fresh_table, hash_key=("id", "N"), range_key=("sk", "S"))

    result = run("check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)

    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "error: hash key 'id' has type N, but dynsession needs S (String)",
        "error: table has a range (sort) key 'sk'; dynsession needs a table with a hash key only",
        f"table '{fresh_table}' cannot hold dynsession sessions (2 errors)",
    ]


def test_warnings_fail_only_with_strict(
    dynamodb_client: DynamoDBClient, dynamodb_endpoint: str, fresh_table: str
) -> None:
    make_table(dynamodb_client, fresh_table)  # TTL left off

    lenient = run("check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint)
    strict = run("check-table", "--table", fresh_table, "--endpoint-url", dynamodb_endpoint, "--strict")

    assert (lenient.returncode, strict.returncode) == (0, 1)
    assert lenient.stdout == strict.stdout
    assert lenient.stdout.splitlines()[0] == TTL_DISABLED


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("create-table",),
        ("check-table", "--endpoint-url", "http://127.0.0.1:1"),
        ("drop-table", "--table", "t"),
    ],
    ids=["no-command", "no-table", "no-table-check", "unknown-command"],
)
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    result = run(*args)

    assert result.returncode == 2
    assert result.stdout == ""
    assert "usage: dynsession" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["create-table", "check-table"])
def test_help_for_each_command(command: str) -> None:
    result = run(command, "--help")

    assert result.returncode == 0
    assert result.stdout.startswith(f"usage: dynsession {command} [-h] --table NAME")
    assert "--endpoint-url URL" in result.stdout and "--region REGION" in result.stdout


UNREACHABLE = (
    "dynsession: error: cannot reach the DynamoDB endpoint {endpoint}/ (from {source}): start the "
    "server there (`dynsession local` runs one on loopback), or pass --endpoint-url or set "
    "AWS_ENDPOINT_URL_DYNAMODB to one that runs\n"
)


def test_an_unreachable_endpoint_is_one_line_exit_1() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"

    result = run("check-table", "--table", "sessions", "--endpoint-url", endpoint)

    assert result.returncode == 1
    assert result.stderr == UNREACHABLE.format(endpoint=endpoint, source="--endpoint-url")
    assert result.stdout == ""


def test_an_unreachable_endpoint_from_the_environment_names_the_variable() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"

    result = run("create-table", "--table", "sessions", env={"AWS_ENDPOINT_URL_DYNAMODB": endpoint})

    assert result.returncode == 1
    assert result.stderr == UNREACHABLE.format(endpoint=endpoint, source="AWS_ENDPOINT_URL_DYNAMODB")


def test_missing_credentials_are_one_line_exit_1() -> None:
    env = {
        **NO_AWS_FILES,
        "AWS_ACCESS_KEY_ID": None,
        "AWS_SECRET_ACCESS_KEY": None,
        "AWS_SESSION_TOKEN": None,
    }

    result = run(
        "check-table", "--table", "sessions", "--endpoint-url", f"http://127.0.0.1:{free_port()}", env=env
    )

    assert result.returncode == 1
    assert result.stderr == (
        "dynsession: error: no AWS credentials found: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not "
        f"set, profile 'default' has none in {os.devnull} or {os.devnull}, and no container or "
        "instance role answered; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (any "
        "values do for a local DynamoDB)\n"
    )


def test_a_missing_region_is_one_line_exit_1(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[profile dev]\noutput = json\n")
    env = {**NO_AWS_FILES, "AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "dev"}

    result = run("check-table", "--table", "sessions", env={**env, "AWS_DEFAULT_REGION": None})

    assert result.returncode == 1
    assert result.stderr == (
        "dynsession: error: no AWS region configured: --region not given, AWS_DEFAULT_REGION not set, "
        f"and profile 'dev' in {config} names none; pass --region or set AWS_DEFAULT_REGION\n"
    )


def test_an_unknown_profile_is_one_line_exit_1() -> None:
    result = run("check-table", "--table", "sessions", env={**NO_AWS_FILES, "AWS_PROFILE": "nobody"})

    assert result.returncode == 1
    assert result.stderr == (
        f"dynsession: error: AWS profile 'nobody' (from AWS_PROFILE) not found in {os.devnull} or "
        f"{os.devnull}; add it there, or set AWS_PROFILE to a profile that exists\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("create-table", "--wait", "-5"), "--wait must be a number of seconds, 0 or more (got -5)"),
        (("create-table", "--wait", "nan"), "--wait must be a number of seconds, 0 or more (got nan)"),
        (
            ("create-table", "--endpoint-url", "not-a-url"),
            "--endpoint-url must be an http:// or https:// URL with a host (got 'not-a-url')",
        ),
        (
            ("check-table", "--endpoint-url", "ftp://127.0.0.1:21"),
            "--endpoint-url must be an http:// or https:// URL with a host (got 'ftp://127.0.0.1:21')",
        ),
        (
            ("check-table", "--endpoint-url", "http://[::1"),
            "--endpoint-url must be an http:// or https:// URL with a host (got 'http://[::1')",
        ),
        (("local", "--port", "70000"), "--port must be between 1 and 65535, or 0 for a free one (got 70000)"),
    ],
    ids=["negative-wait", "nan-wait", "not-a-url", "not-http", "unclosed-bracket", "port-too-big"],
)
def test_bad_option_values_are_one_line_exit_2(args: tuple[str, ...], message: str) -> None:
    command, *options = args
    result = run(command, "--table", "sessions", *options)

    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"dynsession: error: {message}\n"


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "dynsession"

    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)

    assert result.returncode == 0
    assert result.stdout.startswith("dynsession ")


def test_main_in_process(
    dynamodb_endpoint: str, fresh_table: str, capsys: pytest.CaptureFixture[str]
) -> None:
    options = ["--table", fresh_table, "--endpoint-url", dynamodb_endpoint]

    assert main(["check-table", *options]) == 1
    assert main(["create-table", *options, "--wait", "5"]) == 0
    assert main(["check-table", *options]) == 0

    out, err = capsys.readouterr()
    assert f"table '{fresh_table}' cannot hold dynsession sessions (1 error)" in out
    assert f"created table '{fresh_table}' (on-demand)" in out
    assert out.endswith(f"table '{fresh_table}' is ready for dynsession\n")
    assert err == ""


def test_main_in_process_unreachable(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"

    assert (
        main(["create-table", "--table", "sessions", "--endpoint-url", endpoint, "--region", "us-east-1"])
        == 1
    )

    assert capsys.readouterr() == ("", UNREACHABLE.format(endpoint=endpoint, source="--endpoint-url"))
