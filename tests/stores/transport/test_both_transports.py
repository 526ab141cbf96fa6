"""What both transports must do alike, over the real wire (moto's server, dynalite in CI): the same
answers for any operation, the same botocore errors for ``translate_errors``, the same retries of
dropped, slow or corrupted answers, the same pool bound and endpoint resolution."""

from __future__ import annotations

from typing import Any

import anyio
import botocore.config
import botocore.exceptions
import pytest

from dynsession import DynamoDBStore, StoreUnavailable
from dynsession.stores.dynamodb_wire import ConditionFailed

from ...faults import Fault, FaultProxy
from ...support import FakeClock, TransportName

pytestmark = pytest.mark.anyio

BOTH: tuple[TransportName, TransportName] = ("boto3", "native")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def store_for(
    endpoint: str, table: str, prefix: str, clock: FakeClock, transport: TransportName, **options: Any
) -> DynamoDBStore:
    return DynamoDBStore(
        table, endpoint_url=endpoint, key_prefix=prefix, clock=clock, transport=transport, **options
    )


def without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    # ResponseMetadata is optional in the contract; capacity units are numbers either way.
    return {
        key: value for key, value in answer.items() if key not in ("ResponseMetadata", "ConsumedCapacity")
    }


ITEM: dict[str, Any] = {
    "data": {"B": b"\x00\x01\xffbinary"},
    "blobs": {"BS": [b"one", b"two"]},
    "nested": {"M": {"B": {"B": b"inner"}, "list": {"L": [{"B": b"x"}, {"N": "7"}]}}},
    "n": {"N": "3"},
}


async def test_any_operation_answers_as_boto3_does(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    answers: dict[str, list[dict[str, Any]]] = {}
    for transport in BOTH:
        store = store_for(dynamodb_endpoint, table_name, key_prefix, clock, transport)
        call = store.transport.call
        key = f"{key_prefix}agnostic"
        seen = answers[transport] = []
        seen.append(
            await call(
                "BatchWriteItem",
                {
                    "RequestItems": {
                        table_name: [
                            {"PutRequest": {"Item": {"id": {"S": f"{key}-{n}"}, **ITEM}}} for n in range(3)
                        ]
                    }
                },
            )
        )
        seen.append(
            await call(
                "BatchGetItem",
                {"RequestItems": {table_name: {"Keys": [{"id": {"S": f"{key}-0"}}], "ConsistentRead": True}}},
            )
        )
        seen.append(
            await call(
                "Query",
                {
                    "TableName": table_name,
                    "KeyConditionExpression": "id = :k",
                    "ExpressionAttributeValues": {":k": {"S": f"{key}-1"}},
                    "ConsistentRead": True,
                },
            )
        )
        seen.append(
            await call(
                "UpdateItem",
                {
                    "TableName": table_name,
                    "Key": {"id": {"S": f"{key}-2"}},
                    "UpdateExpression": "SET extra = :b",
                    "ExpressionAttributeValues": {":b": {"B": b"\x07"}},
                    "ReturnValues": "ALL_NEW",
                },
            )
        )
        seen.append(await call("DeleteItem", {"TableName": table_name, "Key": {"id": {"S": f"{key}-2"}}}))
        await store.aclose()
    assert [without_metadata(a) for a in answers["native"]] == [without_metadata(a) for a in answers["boto3"]]
    fetched = answers["native"][1]["Responses"][table_name][0]
    assert fetched["nested"]["M"]["list"]["L"][0] == {"B": b"x"} and fetched["blobs"] == {
        "BS": [b"one", b"two"]
    }


async def test_failures_are_the_same_botocore_errors(
    dynamodb_endpoint: str, table_name: str, key_prefix: str, clock: FakeClock
) -> None:
    originals: dict[str, list[BaseException | None]] = {}
    for transport in BOTH:
        store = store_for(dynamodb_endpoint, table_name, key_prefix, clock, transport)
        key = {"id": {"S": f"{key_prefix}{transport}"}}
        await store.transport.call("PutItem", {"TableName": table_name, "Item": {**key, **ITEM}})
        with pytest.raises(ConditionFailed) as failed:
            await store.transport.call(
                "PutItem",
                {
                    "TableName": table_name,
                    "Item": key,
                    "ConditionExpression": "attribute_not_exists(id)",
                    "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                },
            )
        missing = store_for(dynamodb_endpoint, "no-such-table", key_prefix, clock, transport)
        with pytest.raises(StoreUnavailable, match="GetItem: DynamoDB table 'no-such-table' does not exist"):
            await missing.load("k")
        with pytest.raises(StoreUnavailable) as invalid:
            await store.transport.call("GetItem", {"TableName": table_name, "Key": {"nope": {"S": "x"}}})
        originals[transport] = [failed.value.original, invalid.value.original]
        await store.aclose()
    for boto3_error, native_error in zip(originals["boto3"], originals["native"], strict=True):
        assert isinstance(boto3_error, botocore.exceptions.ClientError)
        assert isinstance(native_error, botocore.exceptions.ClientError)
        assert type(native_error).__name__ == type(boto3_error).__name__  # each client has its own classes
        assert native_error.response["Error"]["Code"] == boto3_error.response["Error"]["Code"]
        assert native_error.operation_name == boto3_error.operation_name
    # The item that failed the condition comes back where the server sends it (moto, DynamoDB;
    # dynalite does not), decoded alike.
    native_item = getattr(originals["native"][0], "response", {}).get("Item")
    boto3_item = getattr(originals["boto3"][0], "response", {}).get("Item")
    assert (native_item is None) == (boto3_item is None)
    if native_item is not None and boto3_item is not None:
        assert native_item["data"] == {"B": b"\x00\x01\xffbinary"}
        assert native_item | {"id": None} == boto3_item | {"id": None}


@pytest.mark.parametrize(
    "fault_options",
    [
        {"action": "drop", "times": 1},
        {"action": "bad_checksum", "times": 1},
        {"code": "InternalServerError", "status": 500, "times": 2},
        {"code": "ThrottlingException", "times": 1},
    ],
    ids=["dropped-connection", "crc32-mismatch", "5xx-twice", "throttled"],
)
async def test_transient_failures_are_retried(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    transport: TransportName,
    fault_options: dict[str, Any],
) -> None:
    store = store_for(faults.url, table_name, key_prefix, clock, transport)
    await store.transport.call(
        "PutItem", {"TableName": table_name, "Item": {"id": {"S": f"{key_prefix}r"}, **ITEM}}
    )
    fault = faults.inject("GetItem", Fault(**fault_options))
    answer = await store.transport.call(
        "GetItem", {"TableName": table_name, "Key": {"id": {"S": f"{key_prefix}r"}}, "ConsistentRead": True}
    )
    assert answer["Item"]["data"] == ITEM["data"]
    assert fault.sent == (fault.times or 0) + 1
    await store.aclose()


async def test_an_answer_slower_than_the_read_timeout_is_retried(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    config = botocore.config.Config(read_timeout=0.3)
    store = store_for(faults.url, table_name, key_prefix, clock, transport, config=config)
    fault = faults.inject("GetItem", Fault(action="delay", seconds=1.5, times=1))
    assert await store.load("absent") is None
    assert fault.sent == 2
    await store.aclose()


async def test_connection_failures_are_botocores_exceptions(
    table_name: str, clock: FakeClock, transport: TransportName
) -> None:
    from ...clients import free_port

    store = DynamoDBStore(
        table_name,
        endpoint_url=f"http://127.0.0.1:{free_port()}",
        config=botocore.config.Config(retries={"mode": "standard", "total_max_attempts": 2}),
        clock=clock,
        transport=transport,
    )
    with pytest.raises(StoreUnavailable, match="GetItem: EndpointConnectionError") as failed:
        await store.load("k")
    assert isinstance(failed.value.original, botocore.exceptions.EndpointConnectionError)
    await store.aclose()


async def test_at_most_max_concurrency_requests_are_in_flight(
    faults: FaultProxy, table_name: str, key_prefix: str, clock: FakeClock, transport: TransportName
) -> None:
    store = store_for(faults.url, table_name, key_prefix, clock, transport, max_concurrency=3)
    faults.inject("GetItem", Fault(action="delay", seconds=0.3))
    async with anyio.create_task_group() as tg:
        for n in range(12):
            tg.start_soon(store.load, f"k{n}")
    assert faults.sends["GetItem"] == 12
    assert faults.most_in_flight == 3
    await store.aclose()


async def test_the_endpoint_can_come_from_aws_endpoint_url_dynamodb(
    faults: FaultProxy,
    table_name: str,
    key_prefix: str,
    clock: FakeClock,
    transport: TransportName,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", faults.url)
    store = DynamoDBStore(table_name, key_prefix=key_prefix, clock=clock, transport=transport)
    assert await store.load("k") is None
    assert faults.sends["GetItem"] == 1
    await store.aclose()


async def test_missing_credentials_are_store_unavailable(
    dynamodb_endpoint: str,
    table_name: str,
    clock: FakeClock,
    transport: TransportName,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Any,
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    store = DynamoDBStore(table_name, endpoint_url=dynamodb_endpoint, clock=clock, transport=transport)
    with pytest.raises(StoreUnavailable, match="GetItem: NoCredentialsError") as failed:
        await store.load("k")
    assert isinstance(failed.value.original, botocore.exceptions.NoCredentialsError)
    await store.aclose()
