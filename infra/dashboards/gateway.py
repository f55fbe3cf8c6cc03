"""The gateway dashboard: what the seed asks for, drawn from what gateway 0.1.0 really exposes.

Panels on seed metrics the real gateway lacks stay, marked `no_data` (their description says
so), so they fill in when the gateway catches up. Values the infrastructure knows (the memory
limit) come from the `friday:memory_limit_mb` recording rule, not from the gateway.
"""

from __future__ import annotations

from infra.alerting import recording as rec
from infra.alerting.rules import GATEWAY_JOB, gateway_memory_mb
from infra.alerting.stack_constants import COST_BUDGET_USD_DAILY, GATEWAY_SCRAPE_TIMEOUT_SECONDS, MEMORY_LIMIT_MB
from infra.alerting.thresholds import (
    API_ERROR_RATIO,
    AUDIT_CHAIN_BROKEN,
    AUTH_BRUTE_FORCE,
    DAILY_COST_OVER_BUDGET,
    GATEWAY_AUDIT_LOG_LARGE,
    GATEWAY_DOWN,
    GATEWAY_METRICS_ABSENT,
    GATEWAY_SCRAPE_SLOW,
    HIGH_ERROR_RATE,
    HIGH_MEMORY_USAGE,
    HIGH_MEMORY_USAGE_CRITICAL,
    HIGH_QUEUE_DEPTH,
    HIGH_QUEUE_DEPTH_CRITICAL,
    RATE_LIMIT_SPIKE,
    Threshold,
)
from infra.dashboards import scope
from infra.dashboards.datasources import LOKI
from infra.dashboards.model import (
    Dashboard,
    Panel,
    Query,
    Row,
    Step,
    Variable,
    idle_gateway,
    needs_service,
    not_exposed,
)
from infra.metrics import jobs

UID = "friday-gateway"
# friday_tasks_by_status has no sample at all before the gateway's first task (docs/gateway.md); 0.1.0
# makes tasks only from AI conversations and integrations, which an idle gateway has none of.
TASKS_BY_STATUS_NO_DATA = idle_gateway(
    "friday_tasks_by_status", "the first task exists (tasks come from AI conversations and integrations)"
)

# The Overview's stat panels are narrowed to the chosen environment(s) and instance(s) and run
# as instant queries (one value each, cheap whatever the time range). The time series panels read
# the per-environment aggregates of infra/alerting/recording.py: one line for the environment
# whatever the number of gateway instances, so a refresh costs the same at 1 or 10 gateways.
ENV = f'environment=~"$environment", {scope.STACK_MATCHER}'
SEL = f'{ENV}, instance=~"$instance"'


def fleet(rule: rec.RecordingRule) -> str:
    """A recorded aggregate, narrowed to the chosen environment(s)."""
    return f"{rule.record}{{{ENV}}}"


# The per-stack recording rule (the memory limit the infrastructure set) wins; the seed's
# friday_memory_limit_mb is used should a gateway ever expose it and no rule exists.
LIMIT_MB = f"(max({MEMORY_LIMIT_MB}{{{ENV}}}) or max(friday_memory_limit_mb{{{SEL}}}))"
# The stack's daily cost budget (costBudgetUsdDaily), the per-stack constant DailyCostOverBudget uses.
BUDGET_USD = f"max({COST_BUDGET_USD_DAILY}{{{ENV}}})"
SCRAPE_TIMEOUT_S = f"max({GATEWAY_SCRAPE_TIMEOUT_SECONDS}{{{ENV}}})"
# The windows of the alerts' own expressions (panels that draw what an alert judges).
AUTH_WINDOW = AUTH_BRUTE_FORCE.window
API_WINDOW = API_ERROR_RATIO.window
# LogQL of the gateway's warnings and errors (labels set by the Alloy pipeline).
GATEWAY_PROBLEM_LOGS = f'{{service="{jobs.GATEWAY}", level=~"warn|error|fatal"}}'


def _above(threshold: float) -> tuple[Step, ...]:
    return (Step(None, "green"), Step(threshold, "red"))


def _above_tiers(warning: Threshold, critical: Threshold) -> tuple[Step, ...]:
    # An alert with two tiers: orange from the warning threshold, red from the critical one.
    return (Step(None, "green"), Step(warning.value, "orange"), Step(critical.value, "red"))


def _below(threshold: float) -> tuple[Step, ...]:
    return (Step(None, "red"), Step(threshold, "green"))


OVERVIEW = Row(
    "Overview",
    (
        Panel(
            "Uptime",
            "stat",
            (Query(f"friday_uptime_seconds{{{SEL}}}", "{{instance}}"),),
            "Seconds since the gateway process started; it drops to 0 on a restart, when its counters reset too. "
            "Empty: Prometheus cannot scrape the gateway or gets none of its metrics.",
            unit="s",
            width=4,
            height=4,
            alerts=(GATEWAY_DOWN, GATEWAY_METRICS_ABSENT),
        ),
        Panel(
            "Audit chain",
            "stat",
            (Query(f"friday_audit_chain_valid{{{SEL}}}", "{{instance}}"),),
            "Integrity of the gateway's cryptographic audit chain (1 valid, 0 broken), verified on every scrape. "
            "This is the real check: the gateway's /health reports its audit and database checks as constants.",
            width=4,
            height=4,
            steps=_below(1),
            alerts=(AUDIT_CHAIN_BROKEN,),
            value_text={1: ("valid", "green"), 0: ("BROKEN", "red")},
        ),
        Panel(
            "Queue depth",
            "stat",
            (Query(f"friday_tasks_queue_depth{{{SEL}}}", "{{instance}}"),),
            f"Tasks waiting; orange above the HighQueueDepth warning threshold ({HIGH_QUEUE_DEPTH.value:g}), "
            f"red above its critical one ({HIGH_QUEUE_DEPTH_CRITICAL.value:g}).",
            width=4,
            height=4,
            steps=_above_tiers(HIGH_QUEUE_DEPTH, HIGH_QUEUE_DEPTH_CRITICAL),
            alerts=(HIGH_QUEUE_DEPTH,),
        ),
        Panel(
            "Success rate",
            "stat",
            (Query(f"friday_tasks_success_rate{{{SEL}}}", "{{instance}}"),),
            f"Share of tasks that succeeded; red below the HighErrorRate threshold ({HIGH_ERROR_RATE.value:g}). "
            "Gateway 0.1.0 reports 0 while no task has run.",
            unit="percentunit",
            width=4,
            height=4,
            steps=_below(HIGH_ERROR_RATE.value),
            alerts=(HIGH_ERROR_RATE,),
            min=0,
            max=1,
        ),
        Panel(
            "Memory of limit",
            "stat",
            (Query(f"max({gateway_memory_mb(SEL)}) / {LIMIT_MB}", "used / limit"),),
            "Gateway memory (process RSS, what the limit counts) as a share of the container memory limit "
            "the infrastructure set "
            f"({MEMORY_LIMIT_MB}); orange above the HighMemoryUsage warning threshold ({HIGH_MEMORY_USAGE.value:g}), "
            f"red above its critical one ({HIGH_MEMORY_USAGE_CRITICAL.value:g}).",
            unit="percentunit",
            width=4,
            height=4,
            steps=_above_tiers(HIGH_MEMORY_USAGE, HIGH_MEMORY_USAGE_CRITICAL),
            alerts=(HIGH_MEMORY_USAGE,),
            min=0,
            max=1,
        ),
        Panel(
            "Cost so far today",
            "stat",
            (Query(f"sum(friday_cost_usd_today{{{SEL}}})", "today"),),
            "AI provider cost of the current day in USD, as the gateway counts it.",
            unit="currencyUSD",
            width=4,
            height=4,
            alerts=(DAILY_COST_OVER_BUDGET,),
        ),
    ),
)

# Minimum interval of the time series panels: the recording rules' own interval (finer steps
# would only repeat the same sample).
MIN_INTERVAL = rec.INTERVAL
WORST = "(worst instance)"
ALL_INSTANCES = "(all instances)"

RESOURCES = Row(
    "Resources",
    (
        Panel(
            "CPU usage",
            "timeseries",
            (Query(fleet(rec.CPU), f"highest {WORST}"),),
            "Highest CPU usage any gateway instance of the environment reports (gateway 0.1.0 always reports 0).",
            unit="percent",
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Memory used and limit",
            "timeseries",
            (
                Query(fleet(rec.MEMORY_MB), f"used {WORST}"),
                Query(LIMIT_MB, "limit"),
                Query(
                    f"{LIMIT_MB} * {HIGH_MEMORY_USAGE.value:g}",
                    f"HighMemoryUsage threshold ({HIGH_MEMORY_USAGE.value:.0%} of limit)",
                ),
                Query(
                    f"{LIMIT_MB} * {HIGH_MEMORY_USAGE_CRITICAL.value:g}",
                    f"HighMemoryUsage critical ({HIGH_MEMORY_USAGE_CRITICAL.value:.0%} of limit)",
                ),
            ),
            "Memory of the gateway instance using the most (process RSS, else friday_memory_used_mb: what "
            "HighMemoryUsage judges per instance) against the container limit the infrastructure set "
            f"(recording rule {MEMORY_LIMIT_MB}) and the HighMemoryUsage warning and critical thresholds.",
            unit="mbytes",
            alerts=(HIGH_MEMORY_USAGE,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Gateway scrape duration",
            "timeseries",
            (
                Query(f'{rec.SCRAPE_DURATION.record}{{job="{GATEWAY_JOB}", {ENV}}}', f"scrape {WORST}"),
                Query(SCRAPE_TIMEOUT_S, "timeout (gatewayScrapeTimeout)"),
                Query(
                    f"{SCRAPE_TIMEOUT_S} * {GATEWAY_SCRAPE_SLOW.value:g}",
                    f"GatewayScrapeSlow threshold ({GATEWAY_SCRAPE_SLOW.value:.0%} of timeout)",
                ),
            ),
            "How long a scrape of the gateway's /metrics takes (the slowest instance), against the gateway "
            "job's scrape timeout. Gateway 0.1.0 re-verifies the whole audit chain on every scrape (about 15 us "
            "per audit entry, blocking the gateway meanwhile): the line climbs as the audit log grows, and the "
            "gateway's memory with it (GatewayAuditLogLarge judges the entry count against what the timeout and "
            "the memory limit allow).",
            unit="s",
            alerts=(GATEWAY_SCRAPE_SLOW, GATEWAY_AUDIT_LOG_LARGE),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Process memory",
            "timeseries",
            (
                Query(fleet(rec.RSS), f"RSS {WORST}"),
                Query(fleet(rec.HEAP), f"heap {WORST}"),
            ),
            "Largest Node.js resident set size and heap among the gateway processes.",
            unit="bytes",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
    ),
)

TASKS = Row(
    "Tasks",
    (
        Panel(
            "Task throughput",
            "timeseries",
            (Query(f"{fleet(rec.TASKS)} * 60", ALL_INSTANCES),),
            "Tasks per minute over every instance (5 minute rate). friday_tasks_total is typed gauge by "
            "gateway 0.1.0 but only grows; rate() treats a drop (a restart) as a reset.",
            unit="short",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Task success rate",
            "timeseries",
            (Query(fleet(rec.SUCCESS_RATE), f"lowest {WORST}"),),
            "Lowest success rate of any instance; dashed line: the HighErrorRate threshold "
            f"({HIGH_ERROR_RATE.value:g}). Gateway 0.1.0 reports 0 while no task has run.",
            unit="percentunit",
            steps=_below(HIGH_ERROR_RATE.value),
            alerts=(HIGH_ERROR_RATE,),
            min=0,
            max=1,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Queue depth and running tasks",
            "timeseries",
            (
                Query(fleet(rec.QUEUE_DEPTH), f"queued {WORST}"),
                Query(fleet(rec.IN_PROGRESS), f"running {ALL_INSTANCES}"),
            ),
            "Deepest queue of any instance and tasks running on all of them. Dashed lines: the HighQueueDepth "
            f"warning ({HIGH_QUEUE_DEPTH.value:g}) and critical ({HIGH_QUEUE_DEPTH_CRITICAL.value:g}) thresholds.",
            steps=_above_tiers(HIGH_QUEUE_DEPTH, HIGH_QUEUE_DEPTH_CRITICAL),
            alerts=(HIGH_QUEUE_DEPTH,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Task duration quantiles",
            "timeseries",
            (Query(fleet(rec.DURATION), f"q{{{{quantile}}}} {WORST}"),),
            "Median, 95th and 99th percentile of task duration, the highest of any instance (gateway 0.1.0 reports 0).",
            unit="ms",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Average task duration",
            "timeseries",
            (Query(fleet(rec.AVG_DURATION), WORST),),
            "Average task duration as the specification names it (friday_tasks_avg_duration_ms), the highest "
            "of any instance.",
            unit="ms",
            no_data=not_exposed("friday_tasks_avg_duration_ms"),
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Tasks by status",
            "timeseries",
            (Query(fleet(rec.BY_STATUS), "{{status}}"),),
            "Tasks per status over every instance.",
            min=0,
            no_data=TASKS_BY_STATUS_NO_DATA,
            min_interval=MIN_INTERVAL,
        ),
    ),
)

TOKENS = Row(
    "Tokens and cost",
    (
        Panel(
            "Tokens used today",
            "timeseries",
            (Query(fleet(rec.TOKENS), ALL_INSTANCES),),
            "AI tokens used in the current day by every instance; each restarts at 0 each day and on a restart.",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Cost today",
            "timeseries",
            (
                Query(fleet(rec.COST), ALL_INSTANCES),
                Query(fleet(rec.COST_MAX), f"highest {WORST}"),
                Query(f"{BUDGET_USD} * {DAILY_COST_OVER_BUDGET.value:g}", "daily budget (DailyCostOverBudget)"),
            ),
            "AI provider cost of the current day in USD, of every instance and of the one that spent most, and "
            f"the stack's daily budget (costBudgetUsdDaily, recording rule {COST_BUDGET_USD_DAILY}): "
            "DailyCostOverBudget fires when an instance goes above it.",
            unit="currencyUSD",
            alerts=(DAILY_COST_OVER_BUDGET,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Cost this month",
            "stat",
            (Query(f"sum(friday_cost_usd_month{{{SEL}}})", "month"),),
            "AI provider cost of the current month in USD.",
            unit="currencyUSD",
            no_data=not_exposed("friday_cost_usd_month"),
        ),
    ),
)

SECURITY = Row(
    "Security",
    (
        Panel(
            "Auth attempts and failures",
            "timeseries",
            (
                Query(fleet(rec.AUTH_ATTEMPTS), "attempts"),
                Query(fleet(rec.AUTH_FAILURES), "failures"),
            ),
            "Authentication attempts and failures per second over every instance (both stay 0 in gateway 0.1.0).",
            unit="reqps",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Auth failure rate",
            "timeseries",
            (Query(fleet(rec.AUTH_FAILURES_MAX), WORST),),
            f"Failed logins per second over {AUTH_WINDOW} on the instance with the most, the AuthBruteForce "
            f"expression; dashed line: its threshold ({AUTH_BRUTE_FORCE.value:g}/s). Gateway 0.1.0 never counts "
            "failures, so this stays 0 against it.",
            unit="reqps",
            steps=_above(AUTH_BRUTE_FORCE.value),
            alerts=(AUTH_BRUTE_FORCE,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Successful logins and active sessions",
            "timeseries",
            (
                Query(fleet(rec.LOGINS), "logins/s"),
                Query(fleet(rec.SESSIONS), "sessions"),
            ),
            "Successful authentications per second and authenticated sessions over every instance.",
            no_data=not_exposed("friday_auth_success_total", "friday_active_sessions"),
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Blocked requests and rate-limit hits",
            "timeseries",
            (
                Query(fleet(rec.BLOCKED), "blocked"),
                Query(fleet(rec.RATE_LIMITED), "rate-limited"),
            ),
            "Requests refused per second over every instance. In gateway 0.1.0 both counters move together.",
            unit="reqps",
            alerts=(RATE_LIMIT_SPIKE,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Injection attempts",
            "timeseries",
            (Query(fleet(rec.INJECTIONS), ALL_INSTANCES),),
            "Prompt or request injection attempts detected per second over every instance.",
            unit="reqps",
            no_data=not_exposed("friday_injection_attempts_total"),
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "Audit entries",
            "timeseries",
            (Query(f"{fleet(rec.AUDIT_ENTRIES)} * 60", ALL_INSTANCES),),
            "Entries written to the audit log per minute over every instance.",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
    ),
)

API = Row(
    "AI provider API",
    (
        Panel(
            "API calls and errors",
            "timeseries",
            (
                Query(fleet(rec.API_CALLS), "calls"),
                Query(fleet(rec.API_ERRORS), "errors"),
            ),
            "Calls to the AI provider and failed calls per second over every instance.",
            unit="reqps",
            alerts=(API_ERROR_RATIO,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "API error ratio",
            "timeseries",
            (Query(fleet(rec.API_ERROR_RATIO), WORST),),
            f"Share of AI provider calls that failed over {API_WINDOW} on the instance with the highest share, "
            f"the ApiErrorRatioHigh expression; dashed line: its threshold ({API_ERROR_RATIO.value:g}). Without "
            "calls there is no ratio.",
            unit="percentunit",
            steps=_above(API_ERROR_RATIO.value),
            alerts=(API_ERROR_RATIO,),
            min=0,
            min_interval=MIN_INTERVAL,
        ),
        Panel(
            "API latency",
            "timeseries",
            (Query(fleet(rec.API_LATENCY), f"average {WORST}"),),
            "Average latency of AI provider calls as the gateway reports it, the highest of any instance.",
            unit="ms",
            min=0,
            min_interval=MIN_INTERVAL,
        ),
    ),
)

LOGS = Row(
    "Logs",
    (
        Panel(
            "Gateway warnings and errors",
            "logs",
            (Query(GATEWAY_PROBLEM_LOGS, datasource=LOKI),),
            "Gateway log lines at level warn, error or fatal, shipped by Alloy to Loki.",
            width=24,
            height=10,
            no_data=needs_service("Loki"),
        ),
    ),
)

DASHBOARD = Dashboard(
    uid=UID,
    title="F.R.I.D.A.Y. gateway",
    description="Health, tasks, cost, security and logs of the F.R.I.D.A.Y. (SecureYeoman) gateway. The Overview "
    "shows each selected instance; the graphs show the selected environment as a whole.",
    tags=("friday", "gateway"),
    rows=(OVERVIEW, RESOURCES, TASKS, TOKENS, SECURITY, API, LOGS),
    variables=(
        Variable(
            "environment", "Environment", f"label_values(friday_uptime_seconds{{{scope.STACK_MATCHER}}}, environment)"
        ),
        Variable("instance", "Instance", f"label_values(friday_uptime_seconds{{{ENV}}}, instance)"),
    ),
)
