"""MkDocs hooks: publish the committed benchmark plot beside the pages that show it.

``python -m benchmarks`` writes benchmarks/RESULTS.md and benchmarks/results.png; the Transports and
performance page includes RESULTS.md (pymdownx.snippets) and this hook adds the plot, so the site
always shows the last committed run without a copy to keep in step.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PLOT = ROOT / "benchmarks" / "results.png"


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add benchmarks/results.png as ``results.png`` at the root of the site."""
    files.append(File.generated(config, "results.png", abs_src_path=str(PLOT)))
    return files
