"""Sections 3–5 and 8, in-process: middleware CPU, event-loop blocking, throughput, security CPU."""
