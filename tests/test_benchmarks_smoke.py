"""Every benchmark section with tiny sizes, so the harness cannot rot. Counts are checked exactly;
times are never asserted."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import calls, cpu, latency, report, report_calls, report_transports, run, transports

pytestmark = pytest.mark.bench_smoke


@pytest.fixture(scope="module")
def call_results(dynamodb_endpoint: str) -> calls.CallsResult:
    # One request per simulated second over a few users: long enough for idle-timeout refreshes.
    return calls.run_calls(dynamodb_endpoint, repeats=2, mix_requests=300, pool=8, rate=1)


@pytest.fixture(scope="module")
def cpu_results() -> cpu.CpuResult:
    return cpu.run_cpu(requests_per_round=20, rounds=2)


@pytest.fixture(scope="module")
def blocking_results() -> latency.BlockingResult:
    return latency.run_blocking(phase_seconds=0.1, phases=1, sessions=4, latency=0.01)


@pytest.fixture(scope="module")
def throughput_results() -> latency.ThroughputResult:
    return latency.run_throughput(seconds=0.05, limiter_sizes=(1, 2), client_counts=(1, 2), latency=0.002)


@pytest.fixture(scope="module")
def transport_results(dynamodb_endpoint: str) -> transports.TransportsResult:
    return transports.run_transports(
        dynamodb_endpoint, requests_per_round=3, rounds=1, load_clients=3, load_seconds=0.05
    )


def test_every_scenario_makes_exactly_the_minimum_calls(call_results: calls.CallsResult) -> None:
    assert [row.scenario.name for row in call_results.scenarios] == [s.name for s in calls.SCENARIOS]
    for row in call_results.scenarios:
        expected = {op: n * row.repeats for op, n in row.scenario.minimum.items()}
        assert dict(row.calls) == expected, row.scenario.name
        assert row.at_minimum


def test_scenarios_report_the_capacity_the_server_returned(call_results: calls.CallsResult) -> None:
    rows = {row.scenario.name: row for row in call_results.scenarios}
    assert rows["no cookie, untouched"].reported == (0.0, 0.0)
    assert rows["no cookie, untouched"].by_rules == (0.0, 0.0)
    for name in ("read-only, within refresh_after", "modified", "logout"):
        assert rows[name].reported[0] > 0, name
    assert rows["read-only, within refresh_after"].reported[1] == 0
    assert rows["regenerate (login)"].reported[1] > rows["modified"].reported[1]
    # A ~1 KB session item is one strongly consistent read unit and two write units per write.
    assert rows["modified"].by_rules == (1.0, 2.0)
    assert rows["regenerate (login)"].by_rules == (1.0, 4.0)


def test_traffic_mix_calls_equal_the_minimum(call_results: calls.CallsResult) -> None:
    mix = call_results.mix
    measured, minimum = mix.row("dynsession (measured)"), mix.row("minimum")
    assert measured.calls_per_1000 == minimum.calls_per_1000
    assert measured.units_per_1000 == minimum.units_per_1000
    for operation in calls.OPERATIONS:
        assert measured.calls_per_1000[operation] > 0, operation
    every = mix.row("write-every-request policy (computed)")
    touch = mix.row("touch-every-read policy (computed)")
    assert every.calls_per_1000["PutItem"] > measured.calls_per_1000["PutItem"]
    assert touch.calls_per_1000["UpdateItem"] > measured.calls_per_1000["UpdateItem"]
    assert report_calls.mix_excess(mix) == 0.0


def test_cpu_section_runs_every_variant(cpu_results: cpu.CpuResult) -> None:
    result = cpu_results
    names = {row.name for row in result.rows} | set(result.unavailable)
    assert names == {cpu.BASELINE, cpu.DYNSESSION, cpu.STARLETTE, cpu.STARSESSIONS}
    assert all(len(row.samples) == 2 and row.median_us > 0 for row in result.rows)


def test_blocking_probe_runs_both_phases(blocking_results: latency.BlockingResult) -> None:
    result = blocking_results
    assert result.probes_idle and result.probes_loaded and result.probes_control
    assert result.session_requests > 0


def test_throughput_measures_every_point(throughput_results: latency.ThroughputResult) -> None:
    result = throughput_results
    assert [(p.limiter_size, p.clients) for p in result.points] == [(1, 1), (2, 1), (1, 2), (2, 2)]
    assert all(p.requests_per_second > 0 for p in result.points)
    assert result.at(1, 2).bound(0.002) == 500


def test_transports_section_times_every_row_and_counts_its_calls(
    transport_results: transports.TransportsResult,
) -> None:
    result = transport_results
    expected = {"read": {"GetItem": 1.0}, "write": {"GetItem": 1.0, "PutItem": 1.0}}
    for name in (transports.BOTO3, transports.NATIVE):
        for kind, calls_per_request in expected.items():
            row = result.request(name, kind)
            assert row is not None and len(row.cpu) == 1 and row.cpu_us > 0
            assert dict(row.calls_per_request) == calls_per_request, (name, kind)
    bare = result.request(transports.BARE, "read")
    assert bare is not None and dict(bare.calls_per_request) == {}
    # starsessions with Redis runs where redis-server is installed; elsewhere the report says how.
    if result.request(transports.REDIS, "read") is None:
        assert "apt-get install redis-server" in result.unavailable[transports.REDIS]
    else:
        assert transports.REDIS not in result.unavailable
    expected_calls = {
        (transports.BOTO3, "GetItem"),
        (transports.BOTO3, "PutItem"),
        (transports.NATIVE, "GetItem"),
        (transports.NATIVE, "PutItem"),
        (transports.RAW, "GetItem"),
    }
    if transports.AIODYNAMO not in result.unavailable:  # a reference, where aiodynamo is installed
        expected_calls |= {(transports.AIODYNAMO, "GetItem"), (transports.AIODYNAMO, "PutItem")}
    assert {(row.name, row.kind) for row in result.calls} == expected_calls
    assert [load.name for load in result.load] == [transports.BOTO3, transports.NATIVE]
    assert all(load.clients == 3 and load.requests_per_second > 0 for load in result.load)
    assert [target for target, _, _ in report_transports.targets(result)][0].startswith("Native transport")


def test_transports_section_replaces_its_part_of_results(
    transport_results: transports.TransportsResult, tmp_path: Path
) -> None:
    (tmp_path / "RESULTS.md").write_text("# dynsession benchmarks\n\n## 5. Before\n", encoding="utf-8")
    first = run.write_section(transport_results, tmp_path)
    run.write_section(transport_results, tmp_path)
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert text.startswith("# dynsession benchmarks\n\n## 5. Before\n")
    assert text.count("## 6. DynamoDB transports") == 1
    assert first in text


def test_report_writes_markdown_and_plot(
    call_results: calls.CallsResult,
    cpu_results: cpu.CpuResult,
    blocking_results: latency.BlockingResult,
    throughput_results: latency.ThroughputResult,
    transport_results: transports.TransportsResult,
    tmp_path: Path,
) -> None:
    results = report.Results(
        "test machine",
        "now",
        1.0,
        call_results,
        cpu_results,
        blocking_results,
        throughput_results,
        transport_results,
    )
    text = run.write(results, tmp_path)
    assert (tmp_path / "RESULTS.md").read_text(encoding="utf-8") == text
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## Targets"):
        assert heading in text
    assert "| Calls per request = the minimum, every scenario | 7 of 7 rows | yes |" in text
