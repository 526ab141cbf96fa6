"""HybridCache: a memory tier over any distributed cache, with single flight across processes,
fail-safe, eager refresh and tags."""
