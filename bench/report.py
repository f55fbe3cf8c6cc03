"""The bench's table (Markdown) and its raw figures (JSON), with the targets of issue 15."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench import dashboards, data, latency, tools

RANGE_FOR_TARGETS = "30d"


@dataclass(frozen=True)
class Target:
    what: str
    measured: float
    limit: float
    unit: str
    ran: bool = True

    @property
    def holds(self) -> bool:
        return self.ran and self.measured <= self.limit


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _refreshes(per_count: dict[int, dict[str, Any]]) -> dict[tuple[str, str, int], dashboards.Refresh]:
    return {(r.dashboard, r.range_name, n): r for n, v in per_count.items() for r in v["refreshes"]}


def bytes_per_gateway_day(per_count: dict[int, dict[str, Any]], days: float) -> float:
    """Marginal disk of one gateway instance per day: the difference between the largest and the
    smallest setting, per extra gateway (the stack's own series and the per-environment
    recordings do not grow with gateways)."""
    counts = sorted(per_count)
    lo, hi = counts[0], counts[-1]
    if hi == lo:
        return float(per_count[lo]["size"]["bytes"]) / days
    return float(per_count[hi]["size"]["bytes"] - per_count[lo]["size"]["bytes"]) / (hi - lo) / days


def targets(per_count: dict[int, dict[str, Any]], commands: list[tools.Measured]) -> list[Target]:
    refreshes = _refreshes(per_count)
    lo, hi = min(per_count), max(per_count)
    gw_lo = refreshes[("gateway", RANGE_FOR_TARGETS, lo)].median_s
    gw_hi = refreshes[("gateway", RANGE_FOR_TARGETS, hi)].median_s
    stack = max(refreshes[("stack", RANGE_FOR_TARGETS, n)].median_s for n in per_count)
    by_name = {c.name: c for c in commands}
    out = [
        Target(f"gateway dashboard 30 d: {hi} / {lo} gateway(s)", gw_hi / gw_lo, 1.5, "x"),
        Target(f"gateway dashboard 30 d at {hi} gateways, per refresh", gw_hi * 1000, 300, "ms"),
        Target("stack dashboard 30 d, per refresh (worst setting)", stack * 1000, 250, "ms"),
    ]
    for name, limit in (
        ("render --stack dev", 0.15),
        ("check --stack dev", 0.15),
        ("Pulumi program, prod, under mocks", 1.5),
    ):
        out.append(Target(name, by_name[name].seconds, limit, "s", by_name[name].ok))
    return out


def _verdict(t: Target) -> str:
    if not t.ran:
        return "NO (the command failed, see above)"
    return "yes" if t.holds else "NO"


def table(
    results: dict[str, Any],
    per_count: dict[int, dict[str, Any]],
    commands: list[tools.Measured],
    latencies: list[latency.Latency],
    *,
    days: float,
    quick: bool,
) -> str:
    counts = sorted(per_count)
    lo, hi = counts[0], counts[-1]
    refreshes = _refreshes(per_count)
    lines = [
        f"# make bench ({'quick mode: ' if quick else ''}{days:g} days, median of {results['repeats']})",
        "",
        f"Machine: {results['machine']}. Command: `{results['command']}`. Took {results.get('elapsed_s', '?')} s.",
        "",
        f"| dashboard | range | {lo} gateway(s) | {hi} gateways | ratio | queries | errors |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for dashboard in sorted({d for d, _, _ in refreshes}):
        for range_name in dashboards.RANGES:
            a, b = refreshes[(dashboard, range_name, lo)], refreshes[(dashboard, range_name, hi)]
            errors = len(a.errors) + len(b.errors)
            lines.append(
                f"| {dashboard} | {range_name} | {_ms(a.median_s)} | {_ms(b.median_s)} | "
                f"{b.median_s / a.median_s:.2f} | {len(a.queries)} | {errors} |"
            )
    lines += ["", f"Five slowest queries at {hi} gateways over 30 d (median):", ""]
    lines += ["| dashboard | panel / query | time | series |", "| --- | --- | --- | --- |"]
    for dashboard in sorted({d for d, _, _ in refreshes}):
        for q in refreshes[(dashboard, "30d", hi)].slowest():
            lines.append(f"| {dashboard} | {q.target.panel} / {q.target.ref} | {_ms(q.median_s)} | {q.series} |")
    lines += ["", "| TSDB | value |", "| --- | --- |"]
    for n in counts:
        size = per_count[n]["size"]
        per_sample = size["bytes"] / size["samples"] if size["samples"] else math.nan
        lines.append(
            f"| {n} gateway(s): blocks on disk, samples, series | {size['bytes'] / 1e6:.1f} MB, "
            f"{size['samples']:,} samples ({per_sample:.2f} bytes a sample), {size['series']:,} series |"
        )
        lines.append(f"| {n} gateway(s): disk per day, whole stack | {size['bytes'] / days / 1e6:.2f} MB |")
    lines.append(f"| disk per gateway instance per day | {bytes_per_gateway_day(per_count, days) / 1e6:.3f} MB |")
    lines += ["", "| command | wall time (median) | peak memory | result |", "| --- | --- | --- | --- |"]
    for c in commands:
        lines.append(f"| `{c.name}` | {c.seconds:.2f} s | {c.peak_mib:.0f} MiB | {'ok' if c.ok else c.note} |")
    lines += ["", "| alert detection latency (HighQueueDepth) | runs | median | floor | latency / floor |"]
    lines.append("| --- | --- | --- | --- | --- |")
    for lat in latencies:
        lines.append(f"| {lat.setting} | {lat.runs} | {lat.median_s:.2f} s | {lat.floor_s:.0f} s | {lat.ratio:.2f} |")
    if quick:
        lines.append(
            "| production-like intervals (gateway scrape 30 s, evaluation 15 s, group_wait 30 s) "
            "| not run in quick mode | | | |"
        )
    lines += ["", "| target | measured | limit | holds |", "| --- | --- | --- | --- |"]
    for t in targets(per_count, commands):
        lines.append(f"| {t.what} | {t.measured:.2f} {t.unit} | {t.limit:g} {t.unit} | {_verdict(t)} |")
    if quick:
        lines.append("")
        lines.append("Quick mode: small data and one run; the figures prove the bench works, not the targets.")
    return "\n".join(lines) + "\n"


def as_json(
    results: dict[str, Any],
    per_count: dict[int, dict[str, Any]],
    commands: list[tools.Measured],
    latencies: list[latency.Latency],
) -> dict[str, Any]:
    return {
        **results,
        "scrape_interval_s": data.SCRAPE_INTERVAL_S,
        "tsdb": {str(n): {"samples_written": v["samples_written"], **v["size"]} for n, v in sorted(per_count.items())},
        "refreshes": [
            {
                "dashboard": r.dashboard,
                "range": r.range_name,
                "gateways": n,
                "median_ms": round(r.median_s * 1000, 1),
                "queries": [
                    {
                        "panel": q.target.panel,
                        "ref": q.target.ref,
                        "instant": q.target.instant,
                        "median_ms": round(q.median_s * 1000, 2),
                        "series": q.series,
                        "error": q.error,
                    }
                    for q in r.queries
                ],
            }
            for n, v in sorted(per_count.items())
            for r in v["refreshes"]
        ],
        "commands": [
            {
                "name": c.name,
                "seconds": round(c.seconds, 3),
                "peak_mib": round(c.peak_mib, 1),
                "ok": c.ok,
                "note": c.note,
            }
            for c in commands
        ],
        "alert_latency": [
            {"setting": lat.setting, "runs": lat.runs, "median_s": round(lat.median_s, 2), "floor_s": lat.floor_s}
            for lat in latencies
        ],
        "targets": [
            {"what": t.what, "measured": round(t.measured, 3), "limit": t.limit, "unit": t.unit, "holds": t.holds}
            for t in targets(per_count, commands)
        ],
    }
