"""The benchmark's one table, its goal ratios, and its picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Goals of issue 14; the earlier "2x the inline baseline" and "70 % of the store ceiling" are retired: on two
# cores the baseline's one trade at a time already keeps a core busy, so neither was reachable (README).
TRADING_PER_MARKET_TRADE, DATA_PER_MARKET_TRADE = 1.1, 1.0
SUSTAINED_PER_MINUTE, CPU_MS_PER_TRADE = 190, 12.0


def goals(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(goal, figure, target, met) for each goal the run can judge; latency for each process count."""
    flow = results["tradeflow"]
    inline = results["inline_baseline"]
    checked: list[tuple[str, str, str, bool]] = []
    alpaca = results.get("alpaca")
    if alpaca:
        market = alpaca["requests_per_trade"]["market"]
        trading, data = market["trading_per_trade"], market["data_per_trade"]
        checked += [
            ("Alpaca trading requests / market trade", f"{trading:.2f}", f"≤ {TRADING_PER_MARKET_TRADE}",
             trading <= TRADING_PER_MARKET_TRADE),
            ("Alpaca data requests / market trade", f"{data:.2f}", f"≤ {DATA_PER_MARKET_TRADE}",
             data <= DATA_PER_MARKET_TRADE),
        ]  # fmt: skip
        burst = alpaca["burst"]
        per_minute, lost = burst["sustained_per_minute"], burst["failed_or_simulated"]
        checked += [
            (f"burst of {burst['trades']}: trades/min sustained", f"{per_minute:.0f}/min",
             f"≥ {SUSTAINED_PER_MINUTE}/min", per_minute >= SUSTAINED_PER_MINUTE),
            ("burst: failed or simulated", str(lost), "0", lost == 0),
        ]  # fmt: skip
    for processes, figures in sorted(flow.get("cpu_ms_per_trade", {}).items()):
        ms = figures["tradeflow"]
        checked.append((f"CPU / trade, tradeflow's processes ({processes}p)", f"{ms:.1f} ms",
                        f"≤ {CPU_MS_PER_TRADE:g} ms", ms <= CPU_MS_PER_TRADE))  # fmt: skip
    for processes, split in sorted(flow["latency"].items()):
        e2e = split["end_to_end"]
        margin = e2e["p50_ms"] - inline["latency"]["p50_ms"]
        checked += [
            (f"p50 click → DM − inline p50 ({processes}p)", f"{margin:+.1f} ms", "≤ +10 ms", margin <= 10),
            (f"p99 end-to-end ({processes}p)", f"{e2e['p99_ms']:.1f} ms", "≤ 50 ms", e2e["p99_ms"] <= 50),
        ]
    for processes, ack in sorted(flow["ingress_ack"].items()):
        p99 = ack["p99_ms"]
        checked.append((f"ingress ack p99 ({processes}p)", f"{p99:.1f} ms", "≤ 100 ms", p99 <= 100))
    return checked


def render(results: dict[str, Any]) -> str:
    flow = results["tradeflow"]
    store, inline, noop = results["store_ceiling"], results["inline_baseline"], results["messaging_ceiling"]
    rows = [("measurement", "throughput", "p50", "p95", "p99")]
    for processes, figures in sorted(flow["throughput"].items()):
        rows.append(
            (f"tradeflow, {processes} worker process(es)", f"{figures['sustained_tps']}/s", "", "", "")
        )
        cpu = flow.get("cpu_ms_per_trade", {}).get(processes)
        if cpu:
            split = f"workers {cpu['workers']}, ingress {cpu['ingress']}"
            rows.append((f"  CPU per trade: {cpu['tradeflow']} ms ({split})", "", "", "", ""))
    for processes, split in sorted(flow["latency"].items()):
        at = f"{flow['latency_rate_per_s']:g}/s, {processes} process(es)"
        rows.append((f"tradeflow end to end at {at}", "", *_lat(split["end_to_end"])))
        for name, figures in split.items():
            if name != "end_to_end":
                rows.append((f"  stage: {name}", "", *_lat(figures)))
    for processes, ack in sorted(flow["ingress_ack"].items()):
        rows.append((f"ingress ack at {ack['rate_per_s']:g}/s, {processes} process(es)", "", *_lat(ack)))
    rows.append(("inline baseline (seed's shape)", f"{inline['throughput_tps']}/s", *_lat(inline["latency"])))
    rows.append(("store ceiling (16 in flight)", f"{store['throughput_tps']}/s", *_lat(store["latency"])))
    rows.append(
        ("messaging ceiling (5 no-op actors)", f"{noop['throughput_cps']}/s", *_lat(noop["latency_at_20"]))
    )
    alpaca = results.get("alpaca")
    if alpaca:
        rows += _alpaca_rows(alpaca)
    widths = [max(len(str(r[i])) for r in rows) for i in range(5)]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines += [
        "",
        f"DynamoDB per trade: {store['write_requests_per_trade']} write requests, "
        f"{store['items_written_per_trade']} items written; requests {store['requests_per_trade']}",
        "",
    ]
    lines.append("goals:")
    for goal, figure, target, met in goals(results):
        lines.append(f"  {'✓' if met else '✗'} {goal:<36} {figure:>10}   goal {target}")
    return "\n".join(lines)


def _alpaca_rows(alpaca: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """Alpaca requests per trade (trading | data), and the burst into one account at 200 a minute."""
    rows: list[tuple[str, str, str, str, str]] = []
    for kind, figures in alpaca["requests_per_trade"].items():
        label = kind.replace("_", " ")
        rows.append((
            f"Alpaca requests / {label} trade: {figures['trading_per_trade']} trading, "
            f"{figures['data_per_trade']} data", "", "", "", "",
        ))  # fmt: skip
        for route, per_trade in figures["by_route"].items():
            rows.append((f"    {route}: {per_trade}", "", "", "", ""))
    burst = alpaca["burst"]
    wait = burst["queue_wait"]
    rows.append((
        f"burst of {burst['trades']} into one account at {burst['limit_per_minute']}/min: "
        f"{burst['sustained_per_minute']}/min ({burst['share_of_limit']:.0%} of the limit), "
        f"{burst['failed_or_simulated']} failed or simulated, {burst['alpaca_429s']} answered 429",
        f"{burst['sustained_per_minute']}/min", "", "", "",
    ))  # fmt: skip
    rows.append(("  wait in the queue (recorded → executed)", "", *_lat(wait)))
    rows.append((f"  first trade, click → DM: {burst['first_trade_click_to_dm_ms']} ms", "", "", "", ""))
    return rows


def _lat(summary: dict[str, Any]) -> tuple[str, str, str]:
    if not summary.get("n"):
        return ("–", "–", "–")
    return (f"{summary['p50_ms']} ms", f"{summary['p95_ms']} ms", f"{summary['p99_ms']} ms")


def write_png(results: dict[str, Any], path: Path) -> None:
    """Left: the latency distribution per stage; right: throughput against worker processes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    flow = results["tradeflow"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5))
    by_processes = sorted(flow["latency_samples_ms"].items())
    names = list(by_processes[0][1])
    width = 0.8 / len(by_processes)
    for n, (processes, samples) in enumerate(by_processes):
        positions = [i + 1 - 0.4 + width * (n + 0.5) for i in range(len(names))]
        boxes = left.boxplot(
            [samples[name] or [0.0] for name in names],
            positions=positions,
            widths=width * 0.9,
            whis=(5, 95),
            showfliers=False,
            patch_artist=True,
        )
        for box in boxes["boxes"]:
            box.set_facecolor(f"C{n}")
        left.plot([], [], color=f"C{n}", linewidth=6, label=f"{processes} worker process(es)")
    left.set_xticks(range(1, len(names) + 1), [name.replace("+", "+\n") for name in names], fontsize=8)
    left.set_ylabel("ms")
    left.set_yscale("log")
    left.legend(fontsize=8)
    left.set_title(f"latency per stage at {flow['latency_rate_per_s']:g} trades/s (p5–p95 whiskers)")
    processes = sorted(int(p) for p in flow["throughput"])
    right.plot(
        processes, [flow["throughput"][str(p)]["sustained_tps"] for p in processes], "o-", label="tradeflow"
    )
    for label, value in (
        ("inline baseline", results["inline_baseline"]["throughput_tps"]),
        ("store ceiling", results["store_ceiling"]["throughput_tps"]),
    ):
        right.axhline(value, linestyle="--", label=label)
    right.set_xticks(processes)
    right.set_xlabel("worker processes")
    right.set_ylabel("trades/s")
    right.set_title("throughput against worker processes")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
