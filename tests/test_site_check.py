"""The docs site check (docs/_tools/site_check.py) finds what a page would fetch from other hosts."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

TOOL = Path(__file__).resolve().parent.parent / "docs" / "_tools" / "site_check.py"


@pytest.fixture(scope="module")
def site_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("site_check", TOOL)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page(site: Path, name: str, body: str) -> None:
    path = site / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"<!doctype html><html><head></head><body>{body}</body></html>", encoding="utf-8")


@pytest.mark.parametrize(
    "fetching",
    [
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">',
        '<link rel="preconnect" href="//fonts.gstatic.com">',
        '<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>',
        "<img src='http://example.org/logo.png'>",
        '<style>@import url("https://fonts.googleapis.com/css2?family=Inter");</style>',
        '<div style="background: url(https://example.org/bg.png)"></div>',
        '<pre class="mermaid">graph LR; a-->b</pre>',
    ],
)
def test_a_page_fetching_from_another_host_fails(
    site_check: ModuleType, tmp_path: Path, fetching: str
) -> None:
    page(tmp_path, "index.html", "<p>fine</p>")
    page(tmp_path, "api/index.html", fetching)
    found = site_check.external_fetches(tmp_path)
    assert found and all(line.startswith("api/index.html: ") for line in found), found
    assert site_check.main([str(tmp_path)]) == 1


def test_local_assets_and_plain_links_pass(site_check: ModuleType, tmp_path: Path) -> None:
    page(
        tmp_path,
        "index.html",
        '<link rel="stylesheet" href="assets/main.css"><script src="../assets/bundle.js"></script>'
        '<a href="https://keepachangelog.com/">Keep a Changelog</a><img src="results.png">'
        '<svg xmlns="http://www.w3.org/2000/svg"></svg>',
    )
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "main.css").write_text("body { background: url(../img/x.png) }", encoding="utf-8")
    assert site_check.external_fetches(tmp_path) == []
    assert site_check.main([str(tmp_path)]) == 0


def test_an_empty_site_fails(site_check: ModuleType, tmp_path: Path) -> None:
    assert site_check.main([str(tmp_path)]) == 1
