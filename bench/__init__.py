"""`make bench`: what the dashboards, the CLI, the Pulumi program and the alert path cost.

- `bench.data`: synthetic metrics (the gateway catalog's metrics with realistic shapes, plus the
  monitoring stack's own), written as OpenMetrics text one 54 h window at a time;
- `bench.tsdb`: backfills them into a Prometheus TSDB with promtool, adds the recording rules,
  and runs Debian's Prometheus on it (127.0.0.1, a free port, always stopped);
- `bench.grafana`: every panel query of the committed dashboards as Grafana would send it
  (interval from maxDataPoints and the panel's min interval, `$__rate_interval`, instant queries
  for stat panels);
- `bench.tools`: wall time and peak memory of `render`, `check` and the Pulumi program under mocks;
- `bench.latency`: alert detection latency against its floor on a live pipeline;
- `bench.report`: the table; `python -m bench` runs it all (`--quick`: small data, used by tests).

docs/performance.md explains the method and holds the measured table.
"""
