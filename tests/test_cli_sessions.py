"""``dynsession sessions list|revoke`` against a table with the user index."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys

import anyio
import pytest

from dynsession import DynamoDBStore, SessionOwner, SessionRecord, list_user_sessions
from dynsession._operator.cli import main

from .conftest import IndexedStore
from .support import FakeClock

START = 1_800_000_000  # 2027-01-15T08:00:00Z


@pytest.fixture
def seeded(indexed_store: IndexedStore) -> DynamoDBStore:
    """Two sessions of alice and one of bob, stored as signed-in sessions would be."""
    store = indexed_store(clock=FakeClock(START))

    async def seed() -> None:
        for name, user, device in (
            ("a1", "alice", "Firefox on Linux"),
            ("a2", "alice", "Safari on iOS"),
            ("b", "bob", "curl"),
        ):
            record = SessionRecord(
                b"{}", 1, START, START + 1800, START + 3600, owner=SessionOwner(user, device, START)
            )
            await store.save(hashlib.sha256(name.encode()).hexdigest(), record, expected_version=None)

    anyio.run(seed)
    return store


def flags(store: DynamoDBStore, endpoint: str) -> list[str]:
    return ["--table", store.table_name, "--endpoint-url", endpoint, "--key-prefix", store.key_prefix]


def handles(store: DynamoDBStore, user: str) -> list[str]:
    return sorted(s.handle for s in anyio.run(list_user_sessions, store, user))


def test_list_prints_one_line_per_session(
    seeded: DynamoDBStore, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "list", "--user", "alice", *flags(seeded, dynamodb_endpoint)]) == 0
    lines = capsys.readouterr().out.splitlines()
    table = [re.split(r"\s{2,}", line) for line in lines[:3]]
    assert table[0] == ["HANDLE", "DEVICE", "SIGNED IN", "LAST ACTIVE", "IDLE DEADLINE", "ABSOLUTE DEADLINE"]
    times = ["2027-01-15T08:00:00Z", "2027-01-15T08:00:00Z", "2027-01-15T08:30:00Z", "2027-01-15T09:00:00Z"]
    assert sorted(row[1:] for row in table[1:]) == [["Firefox on Linux", *times], ["Safari on iOS", *times]]
    assert sorted(row[0] for row in table[1:]) == handles(seeded, "alice")
    assert lines[3:] == ["2 live sessions of user 'alice'"]


def test_list_of_a_user_without_sessions(
    seeded: DynamoDBStore, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sessions", "list", "--user", "carol", *flags(seeded, dynamodb_endpoint)]) == 0
    assert capsys.readouterr().out == "no live sessions of user 'carol'\n"


def test_revoke_one_by_handle(
    seeded: DynamoDBStore, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = handles(seeded, "alice")
    assert (
        main(["sessions", "revoke", "--user", "alice", "--handle", first, *flags(seeded, dynamodb_endpoint)])
        == 0
    )
    assert capsys.readouterr().out == f"ended session {first} of user 'alice'\n"
    assert handles(seeded, "alice") == [second]
    # A handle of another user's session, or of one already ended, ends nothing.
    (bobs,) = handles(seeded, "bob")
    for handle in (first, bobs):
        assert (
            main(
                [
                    "sessions",
                    "revoke",
                    "--user",
                    "alice",
                    "--handle",
                    handle,
                    *flags(seeded, dynamodb_endpoint),
                ]
            )
            == 1
        )
        assert capsys.readouterr().out == f"no live session of user 'alice' has handle {handle!r}\n"
    assert handles(seeded, "bob") == [bobs]


def test_revoke_all(
    seeded: DynamoDBStore, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "sessions",
        "revoke",
        "--user",
        "alice",
        "--recheck-after",
        "0",
        *flags(seeded, dynamodb_endpoint),
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out == "ended 2 sessions of user 'alice'\n"
    assert handles(seeded, "alice") == [] and len(handles(seeded, "bob")) == 1


def test_a_table_without_the_index_is_one_line_on_stderr(
    table_name: str, dynamodb_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sessions", "list", "--user", "alice", "--table", table_name, "--endpoint-url", dynamodb_endpoint]
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    # What check-table --user-index finds, with the command that adds the index where it looked.
    assert (
        captured.err.startswith(
            f"dynsession: error: cannot list the sessions of user 'alice': user index 'user-sessions' "
            f"does not exist (listing and ending a user's sessions need it); add it with: aws dynamodb "
            f"update-table --table-name {table_name} "
        )
        and captured.err.endswith(f" --endpoint-url {dynamodb_endpoint}\n")
        and captured.err.count("\n") == 1
    )


def test_the_command_runs_as_a_program(seeded: DynamoDBStore, dynamodb_endpoint: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "dynsession",
            "sessions",
            "list",
            "--user",
            "bob",
            *flags(seeded, dynamodb_endpoint),
        ],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "1 live session of user 'bob'"
    usage = subprocess.run(
        [sys.executable, "-m", "dynsession", "sessions", "revoke", "--table", "t"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert usage.returncode == 2 and "--user" in usage.stderr


def test_a_prefix_starting_with_another_lists_and_revokes_only_its_own_user(
    seeded: DynamoDBStore,
    indexed_store: IndexedStore,
    dynamodb_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A shop app shares the table under the seeded app's prefix + "shop:"; its user is "alice", the
    # seeded app's is "shop:alice".
    shop = indexed_store(clock=FakeClock(START), key_prefix=seeded.key_prefix + "shop:")
    record = SessionRecord(
        b"{}", 1, START, START + 1800, owner=SessionOwner("alice", "Edge on Windows", START)
    )
    anyio.run(lambda: shop.save(hashlib.sha256(b"shop").hexdigest(), record, expected_version=None))
    assert main(["sessions", "list", "--user", "shop:alice", *flags(seeded, dynamodb_endpoint)]) == 0
    assert capsys.readouterr().out == "no live sessions of user 'shop:alice'\n"
    assert main(["sessions", "revoke", "--user", "shop:alice", *flags(seeded, dynamodb_endpoint)]) == 0
    assert capsys.readouterr().out == "ended 0 sessions of user 'shop:alice'\n"
    assert len(handles(shop, "alice")) == 1
    assert len(handles(seeded, "alice")) == 2
    assert main(["sessions", "revoke", "--user", "alice", *flags(shop, dynamodb_endpoint)]) == 0
    assert capsys.readouterr().out == "ended 1 session of user 'alice'\n"
    assert handles(shop, "alice") == [] and len(handles(seeded, "alice")) == 2
