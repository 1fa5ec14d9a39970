"""The benchmark's one table, its goal ratios, and its picture."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def goals(results: dict[str, Any]) -> list[tuple[str, str, str, bool]]:
    """(goal, figure, target, met) for each goal of the benchmark issue; latency for each process count."""
    flow = results["tradeflow"]
    best_tps = max(t["sustained_tps"] for t in flow["throughput"].values())
    inline = results["inline_baseline"]
    store = results["store_ceiling"]
    vs_inline = best_tps / inline["throughput_tps"]
    vs_store = best_tps / store["throughput_tps"]
    checked = [
        ("throughput vs inline baseline", f"{vs_inline:.2f}×", "≥ 2×", vs_inline >= 2),
        ("throughput vs store ceiling", f"{vs_store:.0%}", "≥ 70 %", vs_store >= 0.7),
    ]
    for processes, split in sorted(flow["latency"].items()):
        e2e = split["end_to_end"]
        margin = e2e["p50_ms"] - inline["latency"]["p50_ms"]
        checked += [
            (f"p50 end-to-end − inline p50 ({processes}p)", f"{margin:+.1f} ms", "≤ +10 ms", margin <= 10),
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
