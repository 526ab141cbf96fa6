"""``python -m dynsession``: the same command as the ``dynsession`` console script."""

import sys

from ._operator.cli import main

if __name__ == "__main__":
    sys.exit(main())
