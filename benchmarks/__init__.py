"""dynsession's benchmarks: DynamoDB calls and capacity per request, CPU overhead, event-loop
blocking and throughput under store latency. Run ``python -m benchmarks``; see RESULTS.md.

One subpackage per section of RESULTS.md, with its measurement, model and report together:
``calls`` (sections 1–2), ``cpu`` (3–5 and 8), ``transports`` (6), ``cache`` (7); ``harness``
holds what they share. At the top: the run (``run``, ``__main__``), the whole RESULTS.md and
results.png (``report``, ``plot``), and the workloads callgrind counts (``python -m benchmarks.counted``).
"""
