"""``python -m benchmarks``: run every section and write RESULTS.md and results.png."""

from __future__ import annotations

import sys

from .run import main

sys.exit(main())
