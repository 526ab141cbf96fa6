"""Every page with examples states the one install line that runs them, and that line is exact.

The line (the ```sh block after ``<!-- install -->``) is checked, not run: what an example needs is
worked out from its imports (each module's distribution, found in this environment's metadata) and
from ``RUNTIME_NEEDS``, the packages Starlette and dynsession load only when a feature is used;
what a line provides is the closure of its requirements, read from the installed metadata. A line
must cover every need and name nothing that is not needed (``PAGE_ALSO`` lists what a page uses
beyond its examples). Installing each page's line in a fresh virtualenv would cost CI minutes per
page; the examples themselves run in tests/test_doc_examples.py.

Until dynsession is released, every install runs from a checkout (``pip install -e .``); a
``pip install dynsession`` is only printed as the command after the release, and says so.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import shlex
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from .doc_examples import DOCUMENTS, blocks, python_blocks

# What an example needs besides the distributions of its imports: (package or "[extra]", the code
# that needs it, why).
RUNTIME_NEEDS = [
    ("python-multipart", re.compile(r"\bForm\b|\.form\(\)"), "Starlette parses forms with it"),
    ("httpx2", re.compile(r"\bTestClient\b"), "Starlette 1.x's TestClient sends requests with it"),
    ("pytest", re.compile(r"^def test_", re.M), "the example is a test module"),
    ("[local]", re.compile(r"\blocal_dynamodb\("), "moto's server"),
    ("[encryption]", re.compile(r"\bencryption_key="), "AES-GCM from cryptography"),
]
# What a page's install line holds for what the page does besides its examples.
PAGE_ALSO = {
    # The Quick start serves its snippets with uvicorn, on `dynsession local`'s server.
    "index.md": {"uvicorn", "[local]"},
    "README.md": {"uvicorn"},
}
# The page's install line: the sh block after a paragraph ending with the marker.
INSTALL = re.compile(
    r"<!--\s*install\s*-->[ \t]*\n[ \t]*\n(?P<indent> *)```sh\n(?P<code>.*?)^(?P=indent)```", re.M | re.S
)
RELEASED = re.compile(r"pip install ['\"]?dynsession\b")
AFTER_RELEASE = re.compile(r"after (?:the|its first|its) release", re.I)


def pages_with_examples() -> list[Path]:
    return sorted({block.path for block in python_blocks() if block.not_run is None})


def install_line(path: Path) -> list[str]:
    """The arguments of the page's one ``pip install`` marked ``<!-- install -->``."""
    found = INSTALL.findall(path.read_text(encoding="utf-8"))
    assert len(found) == 1, f"{path.name}: {len(found)} blocks marked <!-- install -->, want 1"
    commands = [
        shlex.split(command)
        for line in found[0][1].splitlines()
        for command in line.split("&&")
        if "pip install" in command
    ]
    assert len(commands) == 1, f"{path.name}: {found[0][1]!r} holds {len(commands)} pip installs"
    words = commands[0]
    return words[words.index("install") + 1 :]


def provided(words: list[str]) -> tuple[set[str], set[str]]:
    """The extras of dynsession and the other packages an install line names (``-e .[x]``)."""
    extras: set[str] = set()
    packages: set[str] = set()
    for word in words:
        checkout = re.fullmatch(r"\.(?:\[(?P<extras>[\w,-]+)\])?", word)
        if word == "-e":
            continue
        if checkout:
            extras |= set(filter(None, (checkout["extras"] or "").split(",")))
        else:
            assert not word.startswith("-"), f"unexpected option {word}"
            packages.add(_normal(Requirement(word).name))
    return extras, packages


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(extras: set[str], packages: set[str]) -> set[str]:
    """Every distribution installing dynsession with ``extras`` and ``packages`` brings in,
    read from the metadata of this environment (which has the ``dev`` extra)."""
    seen: set[str] = set()
    todo: list[tuple[str, frozenset[str]]] = [("dynsession", frozenset(extras))]
    todo += [(name, frozenset()) for name in packages]
    while todo:
        name, wanted = todo.pop()
        key = f"{_normal(name)}[{','.join(sorted(wanted))}]"
        if key in seen:
            continue
        seen.add(key)
        for text in importlib.metadata.requires(name) or ():
            requirement = Requirement(text)
            environment = [{"extra": extra} for extra in wanted or {""}]
            if requirement.marker is None or any(requirement.marker.evaluate(e) for e in environment):
                todo.append((requirement.name, frozenset(requirement.extras)))
    return {key.split("[")[0] for key in seen}


def _top_level_names() -> dict[str, list[str]]:
    """``{importable top-level name: [distribution, ...]}`` for every installed distribution.

    ``importlib.metadata.packages_distributions`` reads only ``top_level.txt`` on Python 3.10,
    which installers such as uv do not write; the names are taken from each distribution's
    RECORD as well, as Python 3.11 does."""
    names: dict[str, list[str]] = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        tops = set((dist.read_text("top_level.txt") or "").split())
        for file in dist.files or ():
            top = file.parts[0] if file.parts else ""
            if len(file.parts) > 1 and top.isidentifier():
                tops.add(top)
            elif file.suffix == ".py" and len(file.parts) == 1:
                tops.add(file.stem)
        for top in tops:
            if name not in names.setdefault(top, []):
                names[top].append(name)
    return names


def needs(path: Path) -> dict[str, str]:
    """What the page's examples need: ``{package or "[extra]": why}``."""
    distributions = _top_level_names()
    found: dict[str, str] = {}
    for block in python_blocks(path):
        if block.not_run is not None:
            continue
        for node in ast.walk(ast.parse(block.code)):
            modules = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for module in modules:
                top = module.split(".")[0]
                if top in sys.stdlib_module_names or top == "dynsession":
                    continue
                (distribution,) = distributions[top]
                found.setdefault(_normal(distribution), f"{block.id} imports {module}")
        for package, pattern, why in RUNTIME_NEEDS:
            if pattern.search(block.code):
                found.setdefault(package, f"{block.id}: {why}")
    return found


@pytest.mark.parametrize("path", pages_with_examples(), ids=lambda path: path.name)
def test_a_page_with_examples_states_the_exact_install_line(path: Path) -> None:
    extras, packages = provided(install_line(path))
    available = closure(extras, packages)
    wanted = needs(path)
    missing = {
        need: why
        for need, why in wanted.items()
        if (need.strip("[]") not in extras if need.startswith("[") else need not in available)
    }
    assert missing == {}, f"{path.name}: the install line lacks what its examples need"
    also = PAGE_ALSO.get(path.name, set())
    unneeded = {f"[{extra}]" for extra in extras} | packages
    unneeded -= set(wanted) | also
    assert unneeded == set(), f"{path.name}: the install line names what nothing on the page needs"


def extras_of_dynsession() -> set[str]:
    return set(importlib.metadata.metadata("dynsession").get_all("Provides-Extra") or ())


def test_the_runtime_needs_are_real_extras_and_packages() -> None:
    """Each extra the test knows is one of dynsession's; each package is installed here."""
    for package, _, _ in RUNTIME_NEEDS:
        if package.startswith("["):
            assert package.strip("[]") in extras_of_dynsession()
        else:
            assert importlib.metadata.version(package)


def test_every_install_runs_from_a_checkout_until_the_release() -> None:
    """``pip install dynsession`` fails until the package is on an index: it is printed only as the
    command after the release, said so in its paragraph or the one before; every other install
    line installs the checkout (``-e .``) or other packages only."""
    for path in DOCUMENTS:
        paragraphs = re.split(r"\n\s*\n", path.read_text(encoding="utf-8"))
        for number, paragraph in enumerate(paragraphs):
            if RELEASED.search(paragraph):
                context = "\n".join(paragraphs[max(0, number - 1) : number + 1])
                assert AFTER_RELEASE.search(context), f"{path.name}: {paragraph!r}"
        for block in blocks(path):
            for command in re.findall(r"pip install ([^\n#]*)", block.code):
                words = [word for part in command.split("&&")[:1] for word in shlex.split(part)]
                by_name = [word for word in words if re.match(r"dynsession\b", word)]
                assert by_name == [] or AFTER_RELEASE.search(block.code), f"{block.id}: {command}"


def test_the_install_lines_name_extras_that_exist() -> None:
    for path in DOCUMENTS:
        for extra in re.findall(r"pip install -e '\.\[([\w,-]+)\]'", path.read_text(encoding="utf-8")):
            assert set(extra.split(",")) <= extras_of_dynsession(), (path.name, extra)
