"""`python -m bench` (`make bench`): generate, backfill, measure, print one table.

    python -m bench            # 30 days, 1 and 10 gateways, median of 5 (takes a while)
    python -m bench --quick    # 1 day, 1 and 2 gateways, one run: proves the bench works

Everything runs on 127.0.0.1 in a temporary folder that is removed at the end, processes
included. The table goes to stdout and, with the raw figures, to build/bench/ (results.json,
table.md).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

from bench import backups, dashboards, data, grafana, latency, report, tools, tsdb
from infra.settings import load_stack
from testbed.paths import REPO_ROOT

OUT = REPO_ROOT / "build" / "bench"


def machine() -> str:
    load = os.getloadavg()
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} at start"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small data, one run, no production-like latency")
    parser.add_argument("--days", type=float, help="days of data (default 30; quick: 1)")
    parser.add_argument("--gateways", help="gateway counts, comma separated (default 1,10; quick: 1,2)")
    parser.add_argument("--repeats", type=int, help="timed runs per figure, median taken (default 5; quick: 1)")
    parser.add_argument("--out", type=Path, default=OUT, help="where results.json and table.md go")
    parser.add_argument(
        "--backup-sizes", help="gateway data sizes in MB for the backup figures, comma separated (default 100,1024)"
    )
    args = parser.parse_args(argv)
    days = args.days or (1.0 if args.quick else 30.0)
    counts = [int(n) for n in (args.gateways or ("1,2" if args.quick else "1,10")).split(",")]
    repeats = args.repeats or (1 if args.quick else 5)

    started = time.monotonic()
    results: dict[str, object] = {
        "machine": machine(),
        "command": "python -m bench " + " ".join(argv if argv is not None else sys.argv[1:]),
        "days": days,
        "gateways": counts,
        "repeats": repeats,
    }
    settings = load_stack("dev")
    end_s = int(time.time()) // 60 * 60
    targets = grafana.committed(REPO_ROOT)
    per_count: dict[int, dict[str, object]] = {}
    with tempfile.TemporaryDirectory(prefix="friday-bench-") as tmp_name:
        tmp = Path(tmp_name)
        works = {}
        for n in counts:
            print(f"bench: {n} gateway(s), {days:g} days: generating and backfilling...", file=sys.stderr)
            work = works[n] = tmp / f"gw{n}"
            work.mkdir()
            dataset = data.dataset(n, end_s, days)
            written = tsdb.backfill_raw(dataset, work / "tsdb", work)
            tsdb.backfill_rules(settings, dataset, work / "tsdb", work)
            per_count[n] = {"samples_written": written, "size": asdict(tsdb.size(work / "tsdb"))}
        print("bench: querying the dashboards, the settings taking turns...", file=sys.stderr)
        with contextlib.ExitStack() as running:
            servers = {
                n: running.enter_context(tsdb.serve(w / "tsdb", w, tsdb.rules_dir(settings, w / "rules"))).url
                for n, w in works.items()
            }
            for n, refreshes in dashboards.measure(servers, targets, end_s, repeats).items():
                per_count[n]["refreshes"] = refreshes
        print("bench: render, check and the Pulumi program...", file=sys.stderr)
        commands = tools.measure_all(tmp, repeats)
    print("bench: alert latency...", file=sys.stderr)
    latencies = [latency.measure(test_intervals=True, runs=repeats)]
    if not args.quick:
        latencies.append(latency.measure(test_intervals=False, runs=max(1, min(repeats, 3))))
    sizes = tuple(int(n) for n in args.backup_sizes.split(",")) if args.backup_sizes else None
    sizes = sizes or (backups.QUICK_SIZES_MB if args.quick else backups.SIZES_MB)
    print(f"bench: backup and restore of {', '.join(f'{n} MB' for n in sizes)} of gateway data...", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="friday-bench-backup-") as backup_tmp:
        backup_timings = backups.measure(Path(backup_tmp), sizes)
    results["elapsed_s"] = round(time.monotonic() - started)
    table = report.table(results, per_count, commands, latencies, days=days, quick=args.quick)
    table += "\n## Backups (RPO and RTO, docs/backups.md)\n\n" + backups.table(backup_timings)
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(table, encoding="utf-8")
    (args.out / "results.json").write_text(
        json.dumps(
            {**report.as_json(results, per_count, commands, latencies), "backups": backups.as_json(backup_timings)},
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
