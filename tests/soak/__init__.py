"""The multi-process soak with fault injection (``python -m tests.soak``; see ``__main__``)."""
