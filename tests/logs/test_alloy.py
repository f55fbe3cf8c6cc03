"""Alloy's configs read back with an independent parser of the Alloy syntax (Alloy cannot run
here): blocks present, references resolved, labels bounded, paths and URLs consistent."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from infra.host import artefacts, layout
from infra.logs import pipeline, syntax
from infra.settings import Settings
from infra.stack import alloy, gateway, loki
from infra.stack.build import build_stack
from infra.targets.kubernetes_map import install
from infra.targets.kubernetes_map.meta import NAME_LABEL
from testbed.settings import settings_of
from tests.support.alloy_parser import AlloySyntaxError, ParsedBlock, Reference, all_references, parse
from tests.support.docker_plan import container_of
from tests.support.kubernetes import KUBE_BASE

# Exports each component kind has, from Alloy's component reference.
EXPORTS = {
    "discovery.docker": {"targets"},
    "discovery.kubernetes": {"targets"},
    "discovery.relabel": {"output", "rules"},
    "local.file_match": {"targets"},
    "loki.process": {"receiver"},
    "loki.write": {"receiver"},
}
# Arguments and nested blocks of the components and blocks the configs use, from Alloy's
# component reference (v1.19). A misspelt or invented argument fails here, not only at deploy.
ARGUMENTS: dict[str, set[str]] = {
    "discovery.docker": {"host", "port", "refresh_interval", "match_first_network"},
    "discovery.docker/filter": {"name", "values"},
    "discovery.kubernetes": {"api_server", "role", "kubeconfig_file", "bearer_token_file", "proxy_url"},
    "discovery.kubernetes/namespaces": {"own_namespace", "names"},
    "discovery.kubernetes/selectors": {"role", "label", "field"},
    "loki.source.kubernetes": {"targets", "forward_to"},
    "discovery.relabel": {"targets"},
    "discovery.relabel/rule": {
        "source_labels",
        "separator",
        "regex",
        "modulus",
        "target_label",
        "replacement",
        "action",
    },
    "loki.source.docker": {"forward_to", "host", "labels", "targets", "refresh_interval", "relabel_rules"},
    "loki.source.file": {"targets", "forward_to", "encoding", "tail_from_end", "legacy_positions_file"},
    "loki.source.journal": {"forward_to", "format_as_json", "labels", "matches", "max_age", "path", "relabel_rules"},
    "local.file_match": {"path_targets", "sync_period", "ignore_older_than"},
    "loki.process": {"forward_to"},
    "loki.process/stage.json": {"expressions", "source", "drop_malformed"},
    "loki.process/stage.template": {"source", "template"},
    "loki.process/stage.timestamp": {"source", "format", "fallback_formats", "location", "action_on_failure"},
    "loki.process/stage.labels": {"values"},
    "loki.process/stage.label_keep": {"values"},
    "loki.write": {"external_labels", "max_streams"},
    "loki.write/endpoint": {"url", "name", "headers", "batch_wait", "batch_size", "remote_timeout", "tenant_id"},
}
# Per-request or per-process pino fields: never labels.
HIGH_CARDINALITY = {"url", "statusCode", "pid", "hostname", "responseTime", "method", "msg", "time", "reqId"}


def docker_config(s: Settings | None = None) -> list[ParsedBlock]:
    service = build_stack(s or settings_of()).service(alloy.NAME)
    [file] = service.files
    assert file.path == alloy.CONFIG_PATH
    return parse(file.content)


def by_id(blocks: list[ParsedBlock]) -> dict[str, ParsedBlock]:
    ids = [b.component_id for b in blocks]
    assert len(ids) == len(set(ids)), f"duplicate components: {ids}"
    return {b.component_id: b for b in blocks}


def check_references(blocks: list[ParsedBlock]) -> None:
    components = by_id(blocks)
    for b in blocks:
        for ref in all_references(b):
            owner, _, export = ref.rpartition(".")
            assert owner in components, f"{b.component_id} refers to undeclared {owner}"
            assert export in EXPORTS[components[owner].name], f"{owner} exports no {export}"


def labels_produced(blocks: list[ParsedBlock]) -> set[str]:
    """Every label name any block can attach to a stream."""
    out: set[str] = set()
    for b in blocks:
        for rule in (r for r in b.blocks if r.name == "rule"):
            if rule.attrs.get("action", "replace") == "replace":
                out.add(rule.attrs["target_label"])
        for stage in b.blocks:
            if stage.name in ("stage.labels", "stage.static_labels"):
                out |= set(stage.attrs["values"])
        out |= set(b.attrs.get("external_labels", {})) | set(b.attrs.get("labels", {}))
        for target in b.attrs.get("path_targets", []):
            out |= {k for k in target if not k.startswith("__")}
    return out


def check_arguments(blocks: list[ParsedBlock]) -> None:
    for b in blocks:
        assert set(b.attrs) <= ARGUMENTS[b.name], f"{b.component_id}: unknown {set(b.attrs) - ARGUMENTS[b.name]}"
        for inner in b.blocks:
            key = f"{b.name}/{inner.name}"
            assert key in ARGUMENTS, f"{b.component_id} has no block {inner.name}"
            assert set(inner.attrs) <= ARGUMENTS[key], f"{key}: unknown {set(inner.attrs) - ARGUMENTS[key]}"
            assert not inner.blocks


def check_processing(blocks: list[ParsedBlock], push_url: str) -> None:
    components = by_id(blocks)
    process = components[f"loki.process.{pipeline.PROCESS}"]
    json_stage = process.one("stage.json")
    assert set(json_stage.attrs["expressions"]) == {"level", "component", "time"}
    ts = process.one("stage.timestamp")
    assert (ts.attrs["source"], ts.attrs["format"]) == ("time", "RFC3339")
    keep = process.one("stage.label_keep")
    assert keep.attrs["values"] == list(pipeline.ALLOWED_LABELS)
    assert process.attrs["forward_to"] == [Reference(f"loki.write.{pipeline.WRITE}.receiver")]
    write = components[f"loki.write.{pipeline.WRITE}"]
    assert write.one("endpoint").attrs["url"] == push_url
    labels = labels_produced(blocks)
    assert labels <= set(pipeline.ALLOWED_LABELS), labels
    assert not labels & HIGH_CARDINALITY
    # Every stage holds its order: parse, map level, timestamp, labels, then keep only the allowed ones.
    assert [s.name for s in process.blocks][-1] == "stage.label_keep"


def test_docker_pipeline_blocks_and_references() -> None:
    blocks = docker_config()
    assert set(by_id(blocks)) == {
        "discovery.docker.stack",
        "discovery.relabel.stack",
        "loki.source.docker.stack",
        "loki.process.pino",
        "loki.write.loki",
    }
    check_references(blocks)
    check_arguments(blocks)
    check_processing(blocks, loki.push_url())


def test_docker_pipeline_selects_this_stack_through_the_mounted_socket() -> None:
    s = settings_of({"dockerSocketPath": "/run/user-docker.sock"}, stack="staging")
    components = by_id(docker_config(s))
    service = build_stack(s).service(alloy.NAME)
    [socket] = service.host_mounts
    assert (socket.host_path, socket.read_only) == ("/run/user-docker.sock", True)
    for component in ("discovery.docker.stack", "loki.source.docker.stack"):
        assert components[component].attrs["host"] == f"unix://{socket.path}"
    filt = components["discovery.docker.stack"].one("filter")
    assert (filt.attrs["name"], filt.attrs["values"]) == ("label", ["friday.stack=staging"])
    [rule] = components["discovery.relabel.stack"].blocks
    assert rule.attrs["source_labels"] == ["__meta_docker_container_label_friday_service"]


def test_push_url_comes_from_the_loki_service() -> None:
    spec = build_stack(settings_of())
    loki_service = spec.service(loki.NAME)
    [endpoint] = next(b for b in docker_config() if b.name == "loki.write").blocks
    url = endpoint.attrs["url"]
    assert url == f"http://{loki_service.name}:{loki.HTTP_PORT}{loki.PUSH_PATH}"
    assert loki_service.port(loki.HTTP).number == loki.HTTP_PORT


def test_alloy_service_runs_its_config_non_root_with_the_socket_group() -> None:
    s = settings_of({"dockerSocketGid": 998, "alloyMemoryMb": 300})
    service = build_stack(s).service(alloy.NAME)
    docker = container_of(s, alloy.NAME)
    assert docker.user == "473:473"
    assert docker.group_adds == ("998",)
    assert service.command[-1] == alloy.CONFIG_PATH
    assert f"--storage.path={alloy.DATA_DIR}" in service.command
    assert f"--server.http.listen-addr=0.0.0.0:{alloy.HTTP_PORT}" in service.command
    assert [m.path for m in service.mounts] == [alloy.DATA_DIR]
    assert docker.healthcheck.tests[-1] == f"http://127.0.0.1:{alloy.HTTP_PORT}/-/ready"
    assert docker.ports == (), "Alloy needs no published port"
    assert service.published() == ()
    assert service.metrics is not None and service.port(service.metrics.port).number == alloy.HTTP_PORT
    assert re.fullmatch(r"v1\.\d+\.\d+", service.image.tag)
    assert service.resources.limits.memory_mb == 300 and service.read_only_root


def test_no_docker_socket_shipper_on_kubernetes() -> None:
    spec = build_stack(settings_of(KUBE_BASE))
    assert alloy.NAME not in [s.name for s in spec.services]
    assert loki.NAME in [s.name for s in spec.services]


@pytest.mark.parametrize("target", ["file", "journal"])
def test_host_pipeline(target: str) -> None:
    s = settings_of({"hostLogTarget": target, "hostLokiUrl": "http://10.0.0.5:3100"})
    blocks = parse(artefacts.alloy_config(s))
    check_references(blocks)
    check_arguments(blocks)
    check_processing(blocks, "http://10.0.0.5:3100" + loki.PUSH_PATH)
    components = by_id(blocks)
    if target == "file":
        match = components["local.file_match.gateway"]
        # The live file only: a glob would read the rotated copies a second time.
        assert match.attrs["path_targets"] == [{"__path__": layout.log_file(s), "service": "gateway"}]
        assert components["loki.source.file.gateway"].attrs["targets"] == Reference("local.file_match.gateway.targets")
    else:
        journal = components["loki.source.journal.gateway"]
        assert journal.attrs["matches"] == f"_SYSTEMD_UNIT={layout.UNIT}"
        assert journal.attrs["labels"] == {"service": "gateway"}


def test_argument_check_catches_a_misspelt_argument() -> None:
    blocks = docker_config()
    blocks[0].attrs["refresh_intervall"] = "30s"
    with pytest.raises(AssertionError, match="refresh_intervall"):
        check_arguments(blocks)


def test_level_template_maps_pino_numbers_and_names_to_a_bounded_set() -> None:
    template = pipeline.level_template()
    pairs = re.findall(r'eq \$l "(\d+)" "(\w+)" }}(\w+)', template)
    assert [(n, a) for n, a, _ in pairs] == list(pipeline.LEVELS.items())
    assert all(name == out for _, name, out in pairs)
    assert template.endswith("{{ else }}other{{ end }}")
    # A line that is not JSON (the gateway's banner, its stop lines) has no level: "unparsed".
    assert template.startswith('{{ $l := printf "%v" .level }}{{ if eq $l "<nil>" }}unparsed')


def test_non_json_lines_are_kept_not_dropped() -> None:
    for blocks in (docker_config(), parse(artefacts.alloy_config(settings_of({})))):
        [process] = [b for b in blocks if b.name == "loki.process"]
        assert process.one("stage.json").attrs["drop_malformed"] is False


def test_gateway_time_is_rfc3339() -> None:
    # The real gateway's request line (docs/gateway.md); Go's RFC3339 accepts the fraction.
    sample = "2026-11-24T15:47:56.845Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", sample)
    assert datetime.fromisoformat(sample).utcoffset() is not None


def test_syntax_writer_round_trips_through_the_parser() -> None:
    value: Any = {"a.b": [1, 2.5, True, 'q"uote\n'], "plain": {}, "list": [], "ref": syntax.Ref("x.y.z")}
    text = syntax.render([syntax.block("test.block", "lab", syntax.block("inner"), **{"v": value})], header="h")
    [parsed] = parse(text)
    assert parsed.component_id == "test.block.lab"
    expected = dict(value, ref=Reference("x.y.z"))
    assert parsed.attrs["v"] == expected
    assert [b.name for b in parsed.blocks] == ["inner"]


@pytest.mark.parametrize(
    "bad",
    [
        'a "x" {\n  v = \n}\n',  # no value
        'a "x" {\n  v = "open\n}\n',  # unterminated string
        'a "x" {\n  v = 1 w = 2\n}\n',  # two attributes on one line
        'a "x" {\n  v = [1, 2\n}\n',  # unclosed list
        'a "x" {\n  v = 1\n',  # unclosed block
        "v = 1\n",  # attribute at the top level
        'a "x" {\n  v = 1\n  v = 2\n}\n',  # attribute set twice
    ],
)
def test_parser_rejects_broken_configs(bad: str) -> None:
    with pytest.raises(AlloySyntaxError):
        parse(bad)


def test_gateway_logs_carry_the_fields_the_pipeline_reads() -> None:
    # The container config that produces these lines: one stdout JSON output.
    config = gateway.gateway_config(settings_of())
    assert config["logging"] == {"level": "info", "output": [{"type": "stdout", "format": "json"}]}


def test_dashboard_log_selector_uses_labels_and_values_the_pipeline_produces() -> None:
    from infra.dashboards.gateway import GATEWAY_PROBLEM_LOGS

    matchers = dict(re.findall(r'(\w+)=~?"([^"]*)"', GATEWAY_PROBLEM_LOGS))
    assert set(matchers) <= set(pipeline.ALLOWED_LABELS)
    assert matchers["service"] == gateway.NAME  # Docker: the friday.service label; bare metal: layout.SERVICE
    assert layout.SERVICE == gateway.NAME
    assert set(matchers["level"].split("|")) <= set(pipeline.LEVELS.values())


def test_kubernetes_pipeline_reads_the_stacks_namespace_through_the_api() -> None:
    s = settings_of({**KUBE_BASE, "kubernetesMonitoringMode": "install"}, stack="prod")
    blocks = parse(install.alloy_config(s))
    check_references(blocks)
    check_arguments(blocks)
    check_processing(blocks, install.loki_push_url(s))
    components = by_id(blocks)
    discover = components["discovery.kubernetes.pods"]
    assert discover.attrs["role"] == "pod"
    assert discover.one("namespaces").attrs["names"] == [s.kubernetes_namespace]
    [rule] = components["discovery.relabel.pods"].blocks
    # The component name label every pod of the stack carries (infra/targets/kubernetes_map/meta.py).
    assert rule.attrs["source_labels"] == ["__meta_kubernetes_pod_label_" + re.sub(r"[./]", "_", NAME_LABEL)]
    assert rule.attrs["target_label"] == "service"
    values = install.alloy_chart(s).values
    assert values["controller"]["type"] == "deployment"
    assert values["alloy"]["mounts"] == {"varlog": False, "dockercontainers": False}
