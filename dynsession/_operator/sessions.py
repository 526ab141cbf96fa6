"""``dynsession sessions list|revoke``: a user's sessions, for operators (needs the user index).

Exit status: 0 on success, 1 when DynamoDB cannot be asked or ``--handle`` names no live session
of the user, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import math
import sys
from datetime import datetime, timezone
from typing import Any

import anyio

from .._users.user_sessions import UserSession, list_user_sessions, revoke_user_sessions
from ..exceptions import DynSessionError, StoreError
from ..stores.dynamodb import DynamoDBStore, translate_errors
from ..tables.explain import CLI, explain
from .flags import add_table_flags, command_line, table_store

DEFAULT_RECHECK_AFTER = 1.0


def add_commands(commands: Any) -> None:
    """Add the ``sessions`` command to the ``dynsession`` parser's subcommands."""
    sessions = commands.add_parser(
        "sessions",
        help="list or end a user's sessions (needs the user index)",
        description="List or end the sessions bound to a user, through the table's user index.",
    )
    actions = sessions.add_subparsers(dest="action", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list", help="list the user's live sessions", description="List the user's live sessions."
    )
    revoke = actions.add_parser(
        "revoke",
        help="end the user's sessions (all, or the one named by --handle)",
        description="End every live session of the user, or the one named by --handle. Its next "
        "request finds no session.",
    )
    for sub in (listing, revoke):
        sub.add_argument("--user", required=True, metavar="USER_ID", help="the user ID the app bound")
        add_table_flags(sub)
        sub.add_argument(
            "--key-prefix", default="dc:", metavar="PREFIX", help="the store's key prefix (default: dc:)"
        )
    revoke.add_argument("--handle", metavar="HANDLE", help="end only this session (a handle from `list`)")
    revoke.add_argument(
        "--recheck-after",
        type=float,
        default=DEFAULT_RECHECK_AFTER,
        metavar="SECONDS",
        help="when ending all sessions, look again after this long for one the index did not list "
        f"yet (default: {DEFAULT_RECHECK_AFTER:g}; 0 looks again at once)",
    )


def run(args: argparse.Namespace) -> int:
    """Run ``sessions list`` or ``sessions revoke``; return the exit status."""
    recheck = getattr(args, "recheck_after", 0.0)
    if not (math.isfinite(recheck) and recheck >= 0):
        problem = f"--recheck-after must be a number of seconds, 0 or more (got {recheck:g})"
        print(f"dynsession: error: {problem}", file=sys.stderr)
        return 2
    store = table_store(args, key_prefix=args.key_prefix, user_index=True)
    try:
        if args.action == "list":
            sessions = anyio.run(list_user_sessions, store, args.user)
            _print_sessions(args.user, sessions)
            return 0
        return anyio.run(_revoke, store, args)
    except StoreError as exc:
        reason = _table_problems(store, args) if _maybe_no_table(exc) else None
        if reason is None:
            reason = explain(exc, spelling=CLI, endpoint_option=args.endpoint_url)
            # The store's hint knows the table's name only; the operator's flags say where it is.
            reason = reason.replace(
                f"`dynsession check-table --table {args.table} --user-index`",
                f"`{command_line('check-table', args, '--user-index')}`",
            )
        action = "list" if args.action == "list" else "end"
        print(
            f"dynsession: error: cannot {action} the sessions of user {args.user!r}: {reason}",
            file=sys.stderr,
        )
    except DynSessionError as exc:
        print(f"dynsession: error: {exc}", file=sys.stderr)
    return 1


def _maybe_no_table(exc: StoreError) -> bool:
    """Whether the failure may be a missing table or index: DynamoDB answers a Query of a missing
    index with ValidationException, moto with ResourceNotFoundException, as for a missing table."""
    cause = exc.__cause__ if isinstance(exc.__cause__, StoreError) else exc
    code = getattr(cause.original, "response", {}).get("Error", {}).get("Code")
    return code in ("ResourceNotFoundException", "ValidationException")


def _table_problems(store: DynamoDBStore, args: argparse.Namespace) -> str | None:
    """What is wrong with the table or its user index, as ``check-table --user-index`` finds it
    (no such table in that region at that endpoint, no index, ...), or None if nothing is."""
    try:
        with translate_errors("CheckTable", args.table):
            report = store.table_report()
    except StoreError:
        return None
    return "; ".join(finding.message for finding in report.errors) or None


async def _revoke(store: DynamoDBStore, args: argparse.Namespace) -> int:
    if args.handle is not None:
        ended = await revoke_user_sessions(store, args.user, handles=[args.handle])
        if not ended:
            print(f"no live session of user {args.user!r} has handle {args.handle!r}")
            return 1
        print(f"ended session {args.handle} of user {args.user!r}")
        return 0
    ended = await revoke_user_sessions(store, args.user, recheck_after=args.recheck_after)
    print(f"ended {ended} session{'' if ended == 1 else 's'} of user {args.user!r}")
    return 0


def _print_sessions(user_id: str, sessions: list[UserSession]) -> None:
    if not sessions:
        print(f"no live sessions of user {user_id!r}")
        return
    rows = [("HANDLE", "DEVICE", "SIGNED IN", "LAST ACTIVE", "IDLE DEADLINE", "ABSOLUTE DEADLINE")]
    for session in sessions:
        absolute = "-" if session.absolute_deadline is None else _time(session.absolute_deadline)
        times = (_time(session.signed_in), _time(session.last_active), _time(session.expires), absolute)
        rows.append((session.handle, session.device, *times))
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    print(f"{len(sessions)} live session{'' if len(sessions) == 1 else 's'} of user {user_id!r}")


def _time(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
