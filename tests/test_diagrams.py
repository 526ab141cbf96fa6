"""The architecture diagrams (docs/img/*.svg, written by docs/_tools/diagrams.py): committed as the
generator writes them, well-formed, and the layers one showing every layer of the package's
import-linter contract."""

from __future__ import annotations

import importlib.util
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "docs" / "_tools" / "diagrams.py"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def diagrams() -> Iterator[ModuleType]:
    spec = importlib.util.spec_from_file_location("docs_tools_diagrams", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Its dataclasses look their module up while the class is built.
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_committed_svgs_are_current(diagrams: ModuleType) -> None:
    stale = [str(path.relative_to(diagrams.ROOT)) for path in diagrams.stale()]
    assert not stale, f"stale: {stale}; run python docs/_tools/diagrams.py and commit the result"


def test_check_exits_1_naming_a_stale_file(
    diagrams: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(diagrams, "ROOT", tmp_path)
    monkeypatch.setattr(diagrams, "IMG", tmp_path / "img")
    assert diagrams.main(["--check"]) == 1
    assert "img/request-path.svg is stale" in capsys.readouterr().err
    assert diagrams.main([]) == 0
    assert diagrams.main(["--check"]) == 0
    (tmp_path / "img" / "layers.svg").write_text("<svg/>", encoding="utf-8")
    capsys.readouterr()
    assert diagrams.main(["--check"]) == 1
    assert capsys.readouterr().err.strip().splitlines() == [
        "img/layers.svg is stale: run python docs/_tools/diagrams.py"
    ]


@pytest.mark.parametrize("name", ["request-path.svg", "layers.svg"])
def test_svgs_are_xml_with_a_title(diagrams: ModuleType, name: str) -> None:
    root = ET.parse(diagrams.IMG / name).getroot()
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img" and root.get("aria-label")
    title = root.find(f"{SVG}title")
    assert title is not None and title.text == root.get("aria-label")


def test_every_layer_is_a_box_in_layers_svg(diagrams: ModuleType) -> None:
    layers = diagrams._contract_layers()
    assert len(layers) > 5
    root = ET.parse(diagrams.IMG / "layers.svg").getroot()
    titles = [text.text for text in root.iter(f"{SVG}text") if text.get("font-weight") == "bold"]
    expected = [diagrams.module_title(name) for layer in layers for name in layer]
    assert titles == expected
    for name in (name for layer in layers for name in layer):
        path = diagrams.PACKAGE / name
        assert path.is_dir() or path.with_suffix(".py").is_file(), name


def test_a_layer_without_a_description_fails(diagrams: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(diagrams.DESCRIPTIONS, "_users/")
    with pytest.raises(diagrams.DiagramError, match=r"no description for _users/.*DESCRIPTIONS"):
        diagrams.layers_diagram()
