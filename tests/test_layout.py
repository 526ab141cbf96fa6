"""The package's shape: every documented import path works, and the package root holds only the
entry points, the public helpers and the foundations; everything else lives in a folder or in a
module whose name says it is internal (docs/architecture.md)."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import subprocess
import sys
from pathlib import Path

import pytest

import dynsession

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "dynsession"

# The public modules, each with the names users import from it (docs/api.md documents them).
PUBLIC_MODULES = {
    "dynsession": None,  # its own test (test_public_api.py) checks the names
    "dynsession.cache": None,  # the same (cache/test_public_api_cache.py)
    "dynsession.fastapi": {"Session", "get_session"},
    "dynsession.testing": {"FakeClock", "local_dynamodb"},
    "dynsession.tables": {
        "TTL_API_UNAVAILABLE",
        "TableFinding",
        "TableReport",
        "check_table",
        "create_table",
    },
    "dynsession.stores": None,
    "dynsession.middleware": {"SessionMiddleware"},
    "dynsession.exceptions": {"DynSessionError", "SessionConflict", "StoreUnavailable"},
    "dynsession.clock": {"Clock", "system_clock"},
}

# What the package root shows a reader: entry points, public helpers, foundations, public folders.
ROOT_ENTRIES = {
    "__init__.py",
    "__main__.py",
    "middleware.py",
    "fastapi.py",
    "testing.py",
    "exceptions.py",
    "clock.py",
    "py.typed",
    "cache",
    "stores",
    "tables",
}


def _documented_imports() -> list[str]:
    """Every ``from dynsession… import …`` statement in README.md and the docs' code blocks."""
    found = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = page.read_text(encoding="utf-8")
        for match in re.finditer(r"^[ \t]*from (dynsession[\w.]*) import (\([^)]*\)|[^\n]+)", text, re.M):
            found.append(f"from {match[1]} import {match[2]}")
    return found


def test_the_docs_import_from_public_modules_only() -> None:
    statements = _documented_imports()
    assert len(statements) >= 10
    for statement in statements:
        (node,) = ast.parse(statement).body
        assert isinstance(node, ast.ImportFrom) and node.module is not None
        assert node.module in PUBLIC_MODULES, statement
        namespace: dict[str, object] = {}
        exec(statement, namespace)  # raises ImportError for a name the module lacks


@pytest.mark.parametrize("module", sorted(PUBLIC_MODULES))
def test_public_module_paths_import(module: str) -> None:
    imported = importlib.import_module(module)
    names = PUBLIC_MODULES[module]
    if names is None:
        names = set(imported.__all__)
        assert names
    for name in names:
        assert getattr(imported, name) is not None, f"{module}.{name}"
    if hasattr(imported, "__all__"):
        assert names <= set(imported.__all__)


def test_tables_is_both_a_module_path_and_an_attribute() -> None:
    from dynsession import tables
    from dynsession.tables import create_table

    assert dynsession.tables is tables
    assert tables.create_table is create_table


def test_the_package_root_reads_like_a_table_of_contents() -> None:
    entries = {
        path.name
        for path in PACKAGE.iterdir()
        if path.name != "__pycache__"
        and not path.name.startswith("_")
        or path.name in {"__init__.py", "__main__.py"}
    }
    assert entries == ROOT_ENTRIES, (
        "a new public-looking module at the root: put it in a folder, or name it _x.py"
    )
    for path in PACKAGE.iterdir():
        if path.is_dir() and path.name != "__pycache__":
            assert (path / "__init__.py").is_file(), path.name
            docstring = ast.get_docstring(ast.parse((path / "__init__.py").read_text(encoding="utf-8")))
            assert docstring, f"{path.name}/__init__.py says what the folder holds"


def test_the_console_script_and_python_m_reach_the_command() -> None:
    (script,) = importlib.metadata.entry_points(group="console_scripts", name="dynsession")
    main = script.load()
    assert main.__module__ == "dynsession._operator.cli"
    result = subprocess.run(
        [sys.executable, "-m", "dynsession", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"dynsession {dynsession.__version__}"
