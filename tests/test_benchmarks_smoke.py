"""Every benchmark section with tiny sizes, so the harness cannot rot. Counts are checked exactly;
times are never asserted."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import anyio
import pytest

from benchmarks import report, run
from benchmarks.cache import cache_calls, hybrid_calls, report_cache, report_hybrid
from benchmarks.calls import calls, mix, report_calls, splice
from benchmarks.cpu import cpu, latency, security
from benchmarks.harness import dynamo
from benchmarks.transports import floor, report_transports, tls, transport_calls, transports
from dynsession.stores.transport.signer import Credentials

pytestmark = pytest.mark.bench_smoke


@pytest.fixture(scope="module")
def call_results(dynamodb_endpoint: str) -> calls.CallsResult:
    # Two page views per simulated second over a few users: long enough for idle-timeout refreshes
    # and ID renewals, and close enough together that a user sometimes reads within the simulated
    # replica lag.
    return calls.run_calls(dynamodb_endpoint, repeats=2, mix_requests=300, pool=8, rate=2, renew_after=100)


@pytest.fixture(scope="module")
def cache_results(dynamodb_endpoint: str) -> cache_calls.CacheCallsResult:
    # A few keys read once every few simulated seconds: long enough for throttled refreshes.
    return cache_calls.run_cache_calls(dynamodb_endpoint, operations=300, keys=8, rate=1)


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


@pytest.fixture(scope="module")
def security_results() -> security.SecurityResult:
    return security.run_security(requests_per_round=10, rounds=2)


def test_security_section_measures_reads_and_writes_of_every_variant(
    security_results: security.SecurityResult,
) -> None:
    assert [row.name for row in security_results.rows] == list(security.variants())
    assert all(row.read_us > 0 and row.write_us > 0 for row in security_results.rows)
    assert security_results.added(security.PLAIN) == (0.0, 0.0)


def test_every_scenario_makes_exactly_the_minimum_calls(call_results: calls.CallsResult) -> None:
    assert [row.scenario.name for row in call_results.scenarios] == [s.name for s in calls.SCENARIOS]
    for row in call_results.scenarios:
        expected = {op: n * row.repeats for op, n in row.scenario.expected.items()}
        assert dict(row.calls) == expected, row.scenario.name
        assert row.as_expected
        assert row.at_minimum == (row.scenario.reference is None), row.scenario.name


def test_loading_on_demand_scenarios(call_results: calls.CallsResult) -> None:
    up_front = call_results.scenario(calls.PAGE_UP_FRONT)
    skipping = call_results.scenario(calls.PAGE_SKIPPING_ASSETS)
    assert up_front.per_request("GetItem") == 16 and skipping.per_request("GetItem") == 1
    for name in ("autoload=False, route not loading", "FastAPI, route without it"):
        assert call_results.scenario(name).calls == {}, name
    for name in ("autoload=False, load_session", "FastAPI, route declaring Session"):
        assert call_results.scenario(name).calls == {"GetItem": 2}, name


def test_eventually_consistent_scenarios(call_results: calls.CallsResult) -> None:
    rows = {row.scenario.name: row for row in call_results.scenarios}
    assert rows["read-only, eventually consistent"].by_rules == (0.5, 0.0)
    assert rows["read-only, eventually consistent, replica behind"].by_rules == (1.5, 0.0)
    assert rows["modified, eventually consistent"].by_rules == (0.5, 2.0)
    # Every write re-sends the versioned cookie; the default sends none for a change.
    assert rows["modified, eventually consistent"].set_cookies == 2
    assert rows["modified"].set_cookies == 0
    assert rows["read-only, eventually consistent"].set_cookies == 0


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
    assert rows["read-only, renewal due"].by_rules == (1.0, 4.0)


def test_traffic_mix_calls_equal_the_minimum(call_results: calls.CallsResult) -> None:
    result = call_results.mix
    measured, minimum = result.row(mix.DEFAULT), result.row(mix.MINIMUM)
    assert measured.calls_per_1000 == minimum.calls_per_1000
    assert measured.units_per_1000 == minimum.units_per_1000
    for operation in calls.OPERATIONS:
        assert measured.calls_per_1000[operation] > 0, operation
    every = result.row("write-every-request policy (computed)")
    touch = result.row("touch-every-read policy (computed)")
    assert every.calls_per_1000["PutItem"] > measured.calls_per_1000["PutItem"]
    assert touch.calls_per_1000["UpdateItem"] > measured.calls_per_1000["UpdateItem"]
    assert report_calls.mix_excess(result) == 0.0
    # Renewals happened, and each cost at most two writes more than the request needed without one.
    assert result.renewals > 0
    assert 0 < report_calls.renewal_write_units(result) <= 2 * dynamo.write_units(result.session_item_bytes)


def test_traffic_mix_prices_the_user_index(call_results: calls.CallsResult) -> None:
    result = call_results.mix
    index, plain = result.index, result.row(mix.DEFAULT)
    # The same requests make the same calls; only the index's own writes are added.
    assert index.row.calls_per_1000 == plain.calls_per_1000
    assert index.row.read_units_per_1000 == plain.read_units_per_1000
    assert index.row.write_units_per_1000 == plain.write_units_per_1000 + index.index_write_units_per_1000
    # One index write when a signed-in session is created, one when it is deleted, two when its ID
    # is renewed (the new ID enters, the old one leaves), none otherwise.
    assert index.per_request["login"] == index.per_request["logout"] == 1.0
    assert index.renewals > 0 and index.per_renewal == 2.0
    assert set(index.per_request) == {"read-only", "modified", "login", "logout"}
    assert index.per_refresh == 0.0 and index.row.calls_per_1000["UpdateItem"] > 0
    assert 0 < result.signin_index_excess < result.index_excess
    signins = index.index_write_units_per_1000 - index.renewal_units_per_1000
    assert signins > 0 and index.renewal_units_per_1000 == 2.0 * index.renewals * 1000 / result.requests
    assert index.session_item_bytes > result.session_item_bytes


def test_every_cache_operation_makes_exactly_the_minimum_calls(
    cache_results: cache_calls.CacheCallsResult,
) -> None:
    assert [row.operation.name for row in cache_results.operations] == [
        o.name for o in cache_calls.OPERATION_ROWS
    ]
    for row in cache_results.operations:
        assert dict(row.calls) == dict(row.operation.minimum), row.operation.name
    rows = {row.operation.name: row for row in cache_results.operations}
    # A 1,063-byte item: one strongly consistent read unit, two write units per write.
    assert rows["get, hit, refresh due"].by_rules == (1.0, 2.0)
    assert rows["add, key taken"].by_rules == (0.0, 2.0) and rows["add, key taken"].reported[1] == 0
    assert rows["get, miss"].reported[0] > 0


def test_the_throttled_refresh_is_the_minimum_and_cheaper_than_refreshing_every_get(
    cache_results: cache_calls.CacheCallsResult,
) -> None:
    throttled, every = cache_results.row(cache_calls.THROTTLED), cache_results.row(cache_calls.EVERY_GET)
    assert report_cache.at_mix_minimum(cache_results)
    assert 0 < throttled.calls_per_1000["UpdateItem"] < every.calls_per_1000["UpdateItem"]
    for operation in ("GetItem", "PutItem", "DeleteItem"):
        assert throttled.calls_per_1000[operation] == every.calls_per_1000[operation] > 0
    assert report_cache.refresh_saving(cache_results) > 1.5


def test_cache_section_replaces_its_part_of_results(
    cache_results: cache_calls.CacheCallsResult,
    transport_results: transports.TransportsResult,
    tmp_path: Path,
) -> None:
    run.write_section(transport_results, tmp_path)
    first = run.write_cache_section(cache_results, tmp_path)
    run.write_cache_section(cache_results, tmp_path)
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert text.count("## 6. DynamoDB transports") == 1 and text.count("## 7. Distributed cache") == 1
    assert text.index("## 6.") < text.index("## 7.") and first in text


def test_security_section_replaces_its_part_of_results(
    security_results: security.SecurityResult,
    cache_results: cache_calls.CacheCallsResult,
    tmp_path: Path,
) -> None:
    run.write_cache_section(cache_results, tmp_path)
    first = run.write_security_section(security_results, tmp_path)
    run.write_security_section(security_results, tmp_path)
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert text.count("## 7. Distributed cache") == 1 and text.count("## 8. Opt-in security features") == 1
    assert text.index("## 7.") < text.index("## 8.") and first in text


def test_traffic_mix_with_eventually_consistent_reads(call_results: calls.CallsResult) -> None:
    result = call_results.mix
    default, eventual = result.row(mix.DEFAULT), result.row(mix.EVENTUAL_ROW)
    assert eventual.calls_per_1000 == default.calls_per_1000
    assert eventual.read_units_per_1000 == default.read_units_per_1000 / 2
    assert eventual.write_units_per_1000 == default.write_units_per_1000
    assert report_calls.eventual_read_ratio(result) == 0.5
    written = sum(default.calls_per_1000[op] for op in ("PutItem",))
    assert default.set_cookies_per_1000 is not None and eventual.set_cookies_per_1000 is not None
    assert eventual.set_cookies_per_1000 > default.set_cookies_per_1000
    assert eventual.set_cookies_per_1000 <= default.set_cookies_per_1000 + written
    assert 120 < result.set_cookie_bytes < 200
    lagged = result.row(mix.LAG_ROW)
    scale = 1000 / result.requests
    assert result.stale_reads > 0
    assert lagged.calls_per_1000["GetItem"] == default.calls_per_1000["GetItem"] + result.stale_reads * scale


def test_traffic_mix_with_assets(call_results: calls.CallsResult) -> None:
    result = call_results.mix
    up_front, skipping = result.row(mix.ASSETS_UP_FRONT), result.row(mix.ASSETS_SKIPPED)
    assert skipping.vs_minimum == 1.0
    assert up_front.calls_per_1000["GetItem"] > 10 * skipping.calls_per_1000["GetItem"]
    for operation in calls.OPERATIONS[1:]:
        assert up_front.calls_per_1000[operation] == skipping.calls_per_1000[operation], operation


def test_cpu_section_runs_every_variant(cpu_results: cpu.CpuResult) -> None:
    result = cpu_results
    names = {row.name for row in result.rows} | set(result.unavailable)
    assert names == {cpu.BASELINE, cpu.DYNSESSION, cpu.EVENTUAL, cpu.STARLETTE, cpu.STARSESSIONS}
    assert all(len(row.samples) == 2 and row.median_us > 0 for row in result.rows)
    assert result.instructions == {} and result.instructions_note == "not counted in this run"


def test_section_cpu_rewrites_section_3_and_its_targets(cpu_results: cpu.CpuResult) -> None:
    committed = (Path(run.HERE) / "RESULTS.md").read_text(encoding="utf-8")
    text = report.splice_cpu(committed, cpu_results, "test machine")
    assert report.cpu_section(cpu_results, "test machine") in text
    assert text.count("## 3. Middleware CPU overhead") == 1 and text.index("## 3.") < text.index("## 4.")
    for target, measured, met in report.cpu_targets(cpu_results):
        assert f"| {target} | {measured} | {'yes' if met else '**no**'} |" in text
    assert text.count("| CPU overhead ≤ ") == len(report.cpu_targets(cpu_results))
    assert report.splice_cpu(text, cpu_results, "test machine") == text
    # With instruction counts (as callgrind gives them), each row shows its own and the ratio.
    counts = {row.name: 100_000.0 + 10_000 * index for index, row in enumerate(cpu_results.rows)}
    counted = dataclasses.replace(cpu_results, instructions=counts, instructions_note=None)
    over = counts[cpu.DYNSESSION] - counts[cpu.BASELINE]
    ratio = over / (counts[cpu.STARLETTE] - counts[cpu.BASELINE])
    assert f"| {over / 1000:,.1f} k | 1.00× |" in report.cpu_section(counted, "test machine")
    assert f"| {ratio:.2f}× |" in report.cpu_section(counted, "test machine")


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
    tls_ran = tls.unavailable_here() is None
    suffixes = ("", transport_calls.TLS) if tls_ran else ("",)
    for name in transports.TRANSPORTS:
        for suffix in suffixes:
            for kind, calls_per_request in expected.items():
                row = result.request(name + suffix, kind)
                assert row is not None and len(row.cpu) == 1 and row.cpu_us > 0
                assert dict(row.calls_per_request) == calls_per_request, (name, kind)
    bare = result.request(transports.BARE, "read")
    assert bare is not None and dict(bare.calls_per_request) == {}
    clients = [*transports.TRANSPORTS, transport_calls.FLOOR]
    # starsessions and redis-py run where redis-server is installed; elsewhere the report says how.
    if result.request(transports.REDIS, "read") is None:
        assert "apt-get install redis-server" in result.unavailable[transports.REDIS]
    else:
        assert transports.REDIS not in result.unavailable
        clients.append(transport_calls.REDIS_PY)
    if tls_ran:
        clients += [client + transport_calls.TLS for client in clients]
        if transports.REDIS + transport_calls.TLS in result.unavailable:  # a redis-server without TLS
            clients.remove(transport_calls.REDIS_PY + transport_calls.TLS)
    else:  # stunnel is missing: the report names it instead of the TLS rows
        assert "apt-get install stunnel4" in result.unavailable["over TLS"]
    assert {(row.name, row.kind) for row in result.calls} == {
        (client, operation) for client in clients for operation in transport_calls.OPERATIONS
    }
    assert [load.name for load in result.load] == list(transports.TRANSPORTS)
    assert all(load.clients == 3 and load.requests_per_second > 0 for load in result.load)
    assert [target for target, _, _ in report_transports.targets(result)][0].startswith("Read-only request")
    assert result.instructions_note == "not counted in this run"


def test_the_counted_call_workload_runs_without_callgrind(
    dynamodb_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What `python -m benchmarks.counted call` runs under callgrind; outside it the markers are no-ops.
    with (
        dynamo.endpoint(dynamodb_endpoint),
        dynamo.session_table(dynamo.make_client(dynamodb_endpoint)) as table,
    ):
        for name, value in transport_calls.Endpoints(dynamodb_endpoint, table).environment().items():
            monkeypatch.setenv(name, value)
        for spec in ("floor", transports.TRANSPORTS[transports.NATIVE]):
            transport_calls.run_counted(spec, "GetItem", 3)


def test_the_floor_client_reads_what_it_wrote(dynamodb_endpoint: str) -> None:
    with (
        dynamo.endpoint(dynamodb_endpoint),
        dynamo.session_table(dynamo.make_client(dynamodb_endpoint)) as table,
    ):
        credentials = Credentials("testing", "testing", None)
        item = {"id": {"S": "floor"}, "data": {"B": b"\x00\xff" * 600}, "ver": {"N": "1"}}

        async def scenario() -> dict[str, Any]:
            client = floor.FloorClient(dynamodb_endpoint, "us-east-1", credentials)
            try:
                await client.call("PutItem", {"TableName": table, "Item": item})
                return await client.call("GetItem", {"TableName": table, "Key": {"id": {"S": "floor"}}})
            finally:
                await client.aclose()

        assert anyio.run(scenario) == {"Item": item}


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
    cache_results: cache_calls.CacheCallsResult,
    security_results: security.SecurityResult,
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
        cache_results,
        security_results,
    )
    text = run.write(results, tmp_path)
    assert (tmp_path / "RESULTS.md").read_text(encoding="utf-8") == text
    assert (tmp_path / "results.png").read_bytes().startswith(b"\x89PNG")
    for heading in ("## 1.", "## 2.", "## 3.", "## 4.", "## 5.", "## 6.", "## 7.", "## 8.", "## Targets"):
        assert heading in text
    assert "| Calls per request = the minimum, every scenario | 16 of 16 rows | yes |" in text
    assert "| User index: standard mix within 5% of the units without it |" in text
    assert "| dynsession, sign-ins in the user index (measured) |" in text
    assert "| Cache calls per operation = the minimum | 10 of 10 operations | yes |" in text
    assert "| Page view with 15 assets, autoload skipping /static: 1 GetItem | 1 GetItem (16 loading" in text
    assert "| Eventually consistent reads: read units ≤ 0.55× the default's | 0.50× | yes |" in text


def test_section_calls_rewrites_sections_1_and_2_of_the_committed_results(
    call_results: calls.CallsResult, tmp_path: Path
) -> None:
    committed = (Path(run.HERE) / "RESULTS.md").read_text(encoding="utf-8")
    text = splice.splice_calls(committed, call_results, "test machine", "now")
    before, after = committed.split("\n## "), text.split("\n## ")
    # The other sections stay exactly as measured; sections 1 and 2 are the new run's.
    untouched = ("3.", "4.", "5.", "6.", "7.", "8.")
    assert [p for p in before if p[:2] in untouched] == [p for p in after if p[:2] in untouched]
    assert report_calls.scenarios(call_results, "test machine") in text
    assert report_calls.mix_section(call_results, "test machine") in text
    assert text.count("| Calls per request = the minimum, every scenario |") == 1
    assert "| Eventually consistent reads: read units ≤ 0.55× the default's | 0.50× | yes |" in text
    for line in committed.splitlines():
        if line.startswith(("| CPU overhead", "| Probe p99")):
            assert line in text
    assert f"{splice.NOTE_PREFIX} (now)." in text
    # Splicing again replaces rather than repeats.
    assert splice.splice_calls(text, call_results, "test machine", "now") == text


@pytest.fixture(scope="module")
def hybrid_results(dynamodb_endpoint: str) -> hybrid_calls.HybridResult:
    return hybrid_calls.run_hybrid(dynamodb_endpoint, gets=400, keys=50, tasks=4)


def test_the_hybrid_part_counts_what_the_local_tier_and_the_lease_save(
    hybrid_results: hybrid_calls.HybridResult,
) -> None:
    rows = {row.label: row for row in hybrid_results.mix}
    alone, local = rows["DynamoDBCache alone"], rows["HybridCache, local_ttl=5"]
    assert alone.local_hits == 0 and local.local_hits > 0
    # A read is at most one GetItem (concurrent reads of a key share one); each local hit saves it.
    assert 0 < local.calls_per_1000["GetItem"] < alone.calls_per_1000["GetItem"] <= 1000
    assert local.calls_per_1000["GetItem"] <= 1000 - local.local_hits * 1000 / local.gets + 1e-9
    unlocked, locked = hybrid_results.stampede
    # Without a lease, how many processes miss before the first stores depends on timing.
    assert locked.factory_runs == 1 <= unlocked.factory_runs <= 4
    assert "DeleteItem" not in unlocked.calls and locked.calls["DeleteItem"] >= 1  # the lease given back
    outage = hybrid_results.outage
    assert outage.errors == 0 and outage.stale_served == outage.gets == outage.errors_without_fail_safe
    assert outage.calls_tried < outage.gets


def test_the_hybrid_part_sits_inside_section_7_and_survives_its_rerun(
    hybrid_results: hybrid_calls.HybridResult, cache_results: cache_calls.CacheCallsResult, tmp_path: Path
) -> None:
    run.write_cache_section(cache_results, tmp_path)
    part = run.write_hybrid_part(hybrid_results, tmp_path)
    run.write_hybrid_part(hybrid_results, tmp_path)
    run.write_cache_section(cache_results, tmp_path)
    text = (tmp_path / "RESULTS.md").read_text(encoding="utf-8")
    assert text.count(report_hybrid.BEGIN) == 1 and part in text
    assert text.index("## 7.") < text.index(report_hybrid.BEGIN) < text.index(report_cache.END)
