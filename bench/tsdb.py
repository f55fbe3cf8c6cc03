"""A Prometheus TSDB with the bench's data, and Debian's Prometheus serving it on 127.0.0.1.

Backfill, as an operator would import history: `promtool tsdb create-blocks-from openmetrics`
per 54 h window (one block each), then the stack's recording rules evaluated over the whole
range with `promtool tsdb create-blocks-from rules` against a Prometheus on the raw data
(the dashboards' rules at their 1 m interval; the stack constants at the 15 s evaluation
interval). Prometheus then restarts on raw + recorded blocks with the rendered rule files.
"""

from __future__ import annotations

import contextlib
import functools
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

from bench import data
from infra.alerting import committed, recording, stack_constants
from infra.monitoring import prometheus_config as prom_config
from infra.settings import Settings
from testbed.processes import binary, free_port, http_ok, log_tail, process, wait_for

PROMTOOL_TIMEOUT_S = 1800
START_TIMEOUT_S = 120
# Constants (vector(N)) at the scrape interval; promtool refuses more than 11,000 points per
# query, so at 15 s a block may span at most 45 h (18 h is promtool's block range below it).
CONSTANTS_BLOCK = "18h"
# The dashboards' rules at 1 m: 54 h is 3240 points per query.
RECORDED_BLOCK = "54h"
# No compaction beyond the backfilled 54 h blocks while the bench measures.
PROMETHEUS_FLAGS = ("--storage.tsdb.retention.time=400d", "--storage.tsdb.max-block-duration=54h")


def promtool(*args: str, timeout: float = PROMTOOL_TIMEOUT_S) -> str:
    result = subprocess.run([binary("promtool"), *args], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"promtool {' '.join(args[:4])} failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")
    return result.stdout


def backfill_raw(dataset: data.Dataset, tsdb: Path, scratch: Path) -> int:
    """Every window through OpenMetrics text into blocks in tsdb; returns samples written."""
    tsdb.mkdir(parents=True, exist_ok=True)
    jitter = data.jitter()
    samples = 0
    for n, (first, end) in enumerate(data.windows(dataset.timeline)):
        text = scratch / f"window-{n:03d}.om"
        samples += data.write_window(dataset, first, end, text, jitter)
        promtool("tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=54h", str(text), str(tsdb))
        text.unlink()
    return samples


@dataclass
class Server:
    url: str
    log: Path

    def logs(self) -> str:
        return log_tail(self.log)


def rules_dir(settings: Settings, dest: Path) -> Path:
    """The rendered rule files of the stack (what its Prometheus loads)."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, text in committed.committed_rule_files().items():
        (dest / rel.rsplit("/", 1)[-1]).write_text(text)
    (dest / prom_config.CONSTANTS_FILE).write_text(stack_constants.stack_constants(settings))
    return dest


@contextlib.contextmanager
def serve(tsdb: Path, work: Path, rule_dir: Path | None = None) -> Iterator[Server]:
    """Prometheus on tsdb (127.0.0.1, free port), with the rule files in `rule_dir` and no scrape jobs."""
    config = {
        "global": {"evaluation_interval": f"{data.SCRAPE_INTERVAL_S}s"},
        "rule_files": [str(p) for p in sorted(rule_dir.glob("*.yml"))] if rule_dir else [],
    }
    config_file = work / "prometheus.yml"
    config_file.write_text(yaml.safe_dump(config))
    port = free_port()
    log = work / f"prometheus-{port}.log"
    argv = [
        binary("prometheus"),
        f"--config.file={config_file}",
        f"--storage.tsdb.path={tsdb}",
        f"--web.listen-address=127.0.0.1:{port}",
        *PROMETHEUS_FLAGS,
    ]
    with process(argv, log):
        server = Server(f"http://127.0.0.1:{port}", log)
        wait_for("Prometheus ready", functools.partial(http_ok, f"{server.url}/-/ready"), START_TIMEOUT_S, server.logs)
        yield server


def backfill_rules(settings: Settings, dataset: data.Dataset, tsdb: Path, work: Path) -> None:
    """The dashboards' recording rules and the stack constants over the data's whole range."""
    rendered = rules_dir(settings, work / "rules-rendered")
    start = str(dataset.timeline.start_s)
    end = str(dataset.timeline.start_s + dataset.timeline.steps * dataset.timeline.step_s)
    out = work / "recorded"
    with serve(tsdb, work) as server:
        for name, interval, block in (
            (recording.PATH.rsplit("/", 1)[-1], recording.INTERVAL, RECORDED_BLOCK),
            (prom_config.CONSTANTS_FILE, f"{data.SCRAPE_INTERVAL_S}s", CONSTANTS_BLOCK),
        ):
            promtool(
                "tsdb",
                "create-blocks-from",
                "rules",
                f"--start={start}",
                f"--end={end}",
                f"--url={server.url}",
                f"--output-dir={out}",
                f"--eval-interval={interval}",
                f"--max-block-duration={block}",
                str(rendered / name),
            )
    for recorded in out.iterdir():
        shutil.move(str(recorded), tsdb / recorded.name)
    shutil.rmtree(out)


@dataclass(frozen=True)
class Size:
    bytes: int
    samples: int
    series: int


def size(tsdb: Path) -> Size:
    """Bytes of the persisted blocks (chunks, index, metadata) and what they hold."""
    total = samples = series = 0
    for meta in tsdb.glob("*/meta.json"):
        block = meta.parent
        total += sum(f.stat().st_size for f in block.rglob("*") if f.is_file())
        stats = json.loads(meta.read_text())["stats"]
        samples += stats.get("numSamples", 0)
        series += stats.get("numSeries", 0)
    return Size(total, samples, series)
