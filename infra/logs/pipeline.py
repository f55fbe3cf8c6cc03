"""Grafana Alloy pipelines that ship the gateway's pino JSON logs to Loki, as config text.

Four sources, one processing chain:
- docker:  containers of this stack (label friday.stack) found through the Docker API;
- kubernetes: pods of the stack's namespace, their logs read through the Kubernetes API (no
  hostPath, so Alloy fits Pod Security `restricted`);
- file:    bare metal, the gateway's stdout appended to a file that logrotate rotates;
- journal: bare metal, the gateway's stdout in journald.

The gateway's stdout is not only JSON (a banner at start, two plain lines at stop): such lines
are kept (`drop_malformed = false`) and labelled `level="unparsed"` (infra/logs/lines.py), so
they stay searchable and never pass for a level the gateway logged.

Only low-cardinality labels leave Alloy (ALLOWED_LABELS); per-request values (url,
statusCode, pid, hostname, responseTime...) stay in the log line where LogQL's `| json`
still reaches them.
"""

from __future__ import annotations

from infra.logs.lines import UNPARSED
from infra.logs.syntax import Block, RawString, Ref, block, render
from infra.settings import Settings

ALLOWED_LABELS = ("environment", "service", "level", "component")
# pino's numeric levels (the seed's format) and its string labels (what 0.1.0 writes) map
# to one bounded set; anything else becomes "other" so a stray value cannot mint streams.
LEVELS = {"10": "trace", "20": "debug", "30": "info", "40": "warn", "50": "error", "60": "fatal"}
OTHER_LEVEL = "other"
# A line that is not JSON has no level at all: the template sees a missing key as "<nil>".
UNPARSED_LEVEL = UNPARSED
# The gateway writes ISO 8601 (`2026-11-24T15:47:56.845Z`); Go's RFC3339 layout accepts the
# fraction. The seed's epoch milliseconds are the fallback.
TIME_FORMAT = "RFC3339"
TIME_FALLBACKS = ("UnixMs",)

# Docker labels the Docker target puts on every container (infra/targets/docker_map.py).
STACK_LABEL = "friday.stack"
ENVIRONMENT_LABEL = "friday.environment"
SERVICE_LABEL = "friday.service"
DOCKER_SOCKET = "/var/run/docker.sock"

PROCESS = "pino"
WRITE = "loki"


def _meta_label(docker_label: str) -> str:
    return "__meta_docker_container_label_" + docker_label.replace(".", "_")


def level_template() -> str:
    """Go template mapping pino's level (string or number) onto the bounded level set."""
    # printf turns a missing level (a non-JSON line) into "<nil>" instead of a template error.
    out = '{{ $l := printf "%v" .level }}'
    out += '{{ if eq $l "<nil>" }}' + UNPARSED_LEVEL
    for num, name in LEVELS.items():
        # `eq a b c` is true when a equals b or c.
        out += "{{ else if " + f'eq $l "{num}" "{name}" }}}}{name}'
    return out + "{{ else }}" + OTHER_LEVEL + "{{ end }}"


def process_block(settings: Settings, push_url: str) -> list[Block]:
    """JSON parsing, timestamp, bounded labels, then loki.write to push_url."""
    write = block(
        "loki.write",
        WRITE,
        block("endpoint", None, url=push_url),
        external_labels={"environment": settings.environment},
    )
    process = block(
        "loki.process",
        PROCESS,
        # Non-JSON lines (banner, stop messages) pass through unparsed, never dropped.
        block(
            "stage.json",
            None,
            expressions={"level": "level", "component": "component", "time": "time"},
            drop_malformed=False,
        ),
        block("stage.template", None, source="level", template=RawString(level_template())),
        block("stage.timestamp", None, source="time", format=TIME_FORMAT, fallback_formats=list(TIME_FALLBACKS)),
        block("stage.labels", None, values={"level": "", "component": ""}),
        block("stage.label_keep", None, values=list(ALLOWED_LABELS)),
        forward_to=[Ref(f"{write.ref}.receiver")],
    )
    return [process, write]


def _process_receiver() -> Ref:
    return Ref(f"loki.process.{PROCESS}.receiver")


def docker_config(settings: Settings, push_url: str) -> str:
    """Alloy in the stack: every container labelled friday.stack=<stack>, via the Docker socket."""
    host = f"unix://{DOCKER_SOCKET}"
    discover = block(
        "discovery.docker",
        "stack",
        block("filter", None, name="label", values=[f"{STACK_LABEL}={settings.stack}"]),
        host=host,
        refresh_interval="30s",
    )
    relabel = block(
        "discovery.relabel",
        "stack",
        block("rule", None, source_labels=[_meta_label(SERVICE_LABEL)], target_label="service"),
        targets=[],
    )
    source = block(
        "loki.source.docker",
        "stack",
        host=host,
        targets=Ref(f"{discover.ref}.targets"),
        relabel_rules=Ref(f"{relabel.ref}.rules"),
        forward_to=[_process_receiver()],
    )
    header = (
        f"Generated from the settings of stack {settings.stack!r}: do not edit.\n"
        "Ships the logs of this stack's containers to Loki with bounded labels only."
    )
    return render([discover, relabel, source, *process_block(settings, push_url)], header)


def file_config(settings: Settings, push_url: str, log_file: str, service: str) -> str:
    """Alloy on a bare-metal host: tail the gateway's log file (only the live file, never
    the rotated copies, which would be read twice)."""
    match = block(
        "local.file_match",
        service,
        path_targets=[{"__path__": log_file, "service": service}],
        sync_period="10s",
    )
    source = block(
        "loki.source.file",
        service,
        targets=Ref(f"{match.ref}.targets"),
        forward_to=[_process_receiver()],
    )
    header = (
        f"Generated from the settings of stack {settings.stack!r}: do not edit.\n"
        f"Bare metal: ships {log_file} (rotated by logrotate with copytruncate) to Loki."
    )
    return render([match, source, *process_block(settings, push_url)], header)


def journal_config(settings: Settings, push_url: str, unit: str, service: str) -> str:
    """Alloy on a bare-metal host whose gateway logs to journald."""
    source = block(
        "loki.source.journal",
        service,
        matches=f"_SYSTEMD_UNIT={unit}",
        labels={"service": service},
        max_age="12h",
        forward_to=[_process_receiver()],
    )
    header = (
        f"Generated from the settings of stack {settings.stack!r}: do not edit.\n"
        f"Bare metal: ships the journal of {unit} to Loki."
    )
    return render([source, *process_block(settings, push_url)], header)


# The pod label the Kubernetes target names each component by (infra/targets/kubernetes_map/meta.py).
KUBERNETES_SERVICE_LABEL = "__meta_kubernetes_pod_label_app_kubernetes_io_name"


def kubernetes_config(settings: Settings, push_url: str, namespace: str) -> str:
    """Alloy on Kubernetes: the pods of one namespace, logs read through the API server."""
    discover = block(
        "discovery.kubernetes",
        "pods",
        block("namespaces", None, names=[namespace]),
        role="pod",
    )
    relabel = block(
        "discovery.relabel",
        "pods",
        block("rule", None, source_labels=[KUBERNETES_SERVICE_LABEL], target_label="service"),
        targets=Ref(f"{discover.ref}.targets"),
    )
    source = block(
        "loki.source.kubernetes",
        "pods",
        targets=Ref(f"{relabel.ref}.output"),
        forward_to=[_process_receiver()],
    )
    header = (
        f"Generated from the settings of stack {settings.stack!r}: do not edit.\n"
        f"Ships the logs of the pods in namespace {namespace} to Loki through the Kubernetes API."
    )
    return render([discover, relabel, source, *process_block(settings, push_url)], header)
