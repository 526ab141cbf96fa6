"""dynsession's benchmarks: DynamoDB calls and capacity per request, CPU overhead, event-loop
blocking and throughput under store latency. Run ``python -m benchmarks``; see RESULTS.md."""
