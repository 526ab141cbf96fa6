"""A deterministic interleaving explorer for dynsession's session operations (see scheduler.py)."""
