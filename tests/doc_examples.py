"""The code blocks of README.md and docs/*.md, and a way to run the Python ones against DynamoDB.

A ```python block is an example and runs as written. A block that is only a fragment says so on
the line before it, ``<!-- not-run: why -->``; that list is kept small (tests/test_doc_examples.py).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3

from dynsession import tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
DOCUMENTS = (*sorted((REPO / "docs").glob("**/*.md")), README)

_FENCE = re.compile(
    r"^(?P<indent> *)```(?P<language>[\w+-]*)[^\n]*\n(?P<code>.*?)^(?P=indent)```", re.M | re.S
)
_NOT_RUN = re.compile(r"<!--\s*not-run:\s*(?P<reason>.*?)\s*-->\s*$")
_HEADING = re.compile(r"^(?P<level>#{1,6}) +(?P<title>.+?) *$", re.M)
# A table the examples name, and the region they pass, if any: both rewritten per run.
_TABLE = re.compile(r'DynamoDB(?:Store|Cache)\(\s*"(?P<name>[^"]+)"')
_REGION = re.compile(r'region_name="(?P<region>[^"]+)"')


@dataclass(frozen=True)
class Block:
    """One fenced code block of a document."""

    path: Path
    line: int
    language: str
    code: str
    section: str
    """The title of the nearest heading above the block."""
    chapter: str
    """The title of the nearest ``## `` heading above the block."""
    not_run: str | None

    @property
    def id(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"


def blocks(path: Path) -> Iterator[Block]:
    """Every fenced block of a Markdown file, in order; blocks indented under a list item dedented."""
    text = path.read_text(encoding="utf-8")
    for match in _FENCE.finditer(text):
        before = text[: match.start()]
        previous = before.rstrip("\n").rsplit("\n", 1)[-1]
        marker = _NOT_RUN.search(previous)
        headings = [(len(level), title) for level, title in _HEADING.findall(_outside_fences(before))]
        chapters = [title for level, title in headings if level == 2]
        yield Block(
            path=path,
            line=before.count("\n") + 1,
            language=match["language"],
            code=textwrap.dedent(match["code"]),
            section=headings[-1][1] if headings else "",
            chapter=chapters[-1] if chapters else "",
            not_run=marker["reason"] if marker else None,
        )


def in_chapter(path: Path, chapter: str, language: str | None = None) -> list[str]:
    """The code of the blocks under one ``## `` heading of a document, in order (of one language)."""
    return [
        block.code
        for block in blocks(path)
        if block.chapter == chapter and (language is None or block.language == language)
    ]


def _outside_fences(text: str) -> str:
    """``text`` without its fenced blocks, so a ``# comment`` in a code block is no heading."""
    return _FENCE.sub("", text)


def python_blocks(*paths: Path) -> list[Block]:
    """The ```python blocks of the given documents (default: README.md and every docs page)."""
    return [block for path in paths or DOCUMENTS for block in blocks(path) if block.language == "python"]


def distinct(examples: list[Block]) -> list[Block]:
    """The first of each set of blocks with the same code (the README repeats examples of the docs)."""
    seen: dict[str, Block] = {}
    for block in examples:
        seen.setdefault(block.code, block)
    return list(seen.values())


def is_test_module(block: Block) -> bool:
    """Whether the example is a pytest test module (it defines ``test_`` functions)."""
    return re.search(r"^def test_", block.code, flags=re.MULTILINE) is not None


def run_test_module(block: Block, directory: Path) -> subprocess.CompletedProcess[str]:
    """Run an example test module with pytest in a process of its own, as an app's project would:
    no plugins of this repository, no AWS settings, warnings as errors."""
    (directory / "test_example.py").write_text(block.code, encoding="utf-8")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "DYNSESSION_"))}
    env.update(PYTHONPATH=str(REPO), HOME=str(directory), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error", "test_example.py"],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


class ExampleRunner:
    """Executes examples against one DynamoDB endpoint; deletes the tables it made on ``close()``.

    Each table an example names in ``DynamoDBStore("name"`` or ``DynamoDBCache("name"`` is created
    fresh under a unique name (in the region the example passes, if any; with the user index when
    the example passes ``user_index=True``), and the example runs with that name instead.
    """

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.created: list[tuple[DynamoDBClient, str]] = []

    def __call__(self, block: Block) -> dict[str, Any]:
        """Run one example; return the module namespace it built."""
        return self.run_code(block.code, block.id)

    def run_code(self, code: str, name: str = "example") -> dict[str, Any]:
        """Run example code; ``name`` is the file name its tracebacks show."""
        region = _REGION.search(code)
        client = boto3.client(
            "dynamodb", endpoint_url=self.endpoint, region_name=region["region"] if region else None
        )
        renamed: dict[str, str] = {}
        user_index = "user_index=True" in code
        for table in sorted({match["name"] for match in _TABLE.finditer(code)}):
            renamed[table] = f"docs-{uuid.uuid4().hex[:10]}"
            tables.create_table(
                client, renamed[table], user_index=user_index, wait_timeout=30, poll_interval=0.2
            ).raise_for_errors()
            self.created.append((client, renamed[table]))
        code = _TABLE.sub(lambda m: m[0].replace(f'"{m["name"]}"', f'"{renamed[m["name"]]}"'), code)
        namespace: dict[str, Any] = {"__name__": "doc_example"}
        exec(compile(code, name, "exec"), namespace)
        return namespace

    def close(self) -> None:
        for client, name in self.created:
            client.delete_table(TableName=name)
        self.created.clear()
