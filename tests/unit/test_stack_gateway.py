"""The gateway as data: every fact from docs/gateway.md the deployment must honour."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from infra.logs.lines import records
from infra.stack import build_stack, gateway
from infra.stack.spec import HttpCheck, Reach, SecretRef, Service, Shutdown, StackSpec, Workload
from infra.targets import docker_map
from testbed.processes import free_port
from testbed.settings import settings_of
from tests.support.docker_plan import container_of
from tests.support.real_gateway import RealGateway


def spec_of(**plain: Any) -> StackSpec:
    return build_stack(settings_of(plain, stack="test"))


def gw(**plain: Any) -> Service:
    return spec_of(**plain).service(gateway.NAME)


def container(**plain: Any) -> docker_map.Container:
    return container_of(settings_of(plain, stack="test"), gateway.NAME)


def config_of(service: Service) -> dict[str, Any]:
    [config_file] = [f for f in service.files if f.path == gateway.CONFIG_PATH]
    loaded: dict[str, Any] = yaml.safe_load(config_file.content)
    return loaded


def test_data_dir_is_set_explicitly_and_lives_on_the_data_volume() -> None:
    service = gw()
    data_dir = config_of(service)["core"]["dataDir"]
    assert not data_dir.startswith("~")
    [mount] = [m for m in service.mounts if m.path == data_dir]
    assert mount.volume == gateway.DATA_VOLUME and not mount.read_only
    assert gateway.DATA_VOLUME in {v.name for v in spec_of().volumes}


def test_binds_all_interfaces_inside_the_container() -> None:
    service = gw(gatewayPort=18800)
    assert config_of(service)["gateway"]["host"] == "0.0.0.0"
    assert service.env["SECUREYEOMAN_HOST"] == "0.0.0.0"
    assert service.env["SECUREYEOMAN_PORT"] == "18800"
    assert service.port(gateway.HTTP).number == 18800


def test_exactly_one_log_output_json_on_stdout() -> None:
    outputs = config_of(gw())["logging"]["output"]
    assert outputs == [{"type": "stdout", "format": "json"}]


def test_required_secrets_come_as_secret_references() -> None:
    service = gw()
    for var, key in (
        ("SECUREYEOMAN_SIGNING_KEY", "signingKey"),
        ("SECUREYEOMAN_TOKEN_SECRET", "tokenSecret"),
        ("SECUREYEOMAN_ENCRYPTION_KEY", "encryptionKey"),
        ("SECUREYEOMAN_ADMIN_PASSWORD", "adminPassword"),
    ):
        assert service.env[var] == SecretRef(key), var
    # No secret material in the config file: secrets reach the gateway only through env.
    [config_file] = service.files
    assert config_file.secrets == () and "<secret:" not in config_file.content
    assert not service.secret_files


@pytest.mark.parametrize(
    ("provider", "var", "key"),
    [
        ("anthropic", "ANTHROPIC_API_KEY", "anthropicApiKey"),
        ("openai", "OPENAI_API_KEY", "openaiApiKey"),
        ("google", "GOOGLE_GENERATIVE_AI_API_KEY", "googleApiKey"),
    ],
)
def test_only_the_chosen_provider_key_is_passed(provider: str, var: str, key: str) -> None:
    env = gw(aiProvider=provider).env
    assert env[var] == SecretRef(key)
    others = set(gateway.PROVIDER_ENV.values()) - {var}
    assert not others & set(env)


def test_port_is_published_on_loopback_unless_a_setting_opens_it() -> None:
    [port] = gw().ports
    assert port.reach is Reach.OPERATOR and port.host is not None
    assert (port.host.address, port.host.port) == ("127.0.0.1", 18789)
    [opened] = container(gatewayBindAddress="0.0.0.0", gatewayHostPort=8443).ports
    assert (opened.ip, opened.external, opened.internal) == ("0.0.0.0", 8443, 18789)


def test_healthcheck_probes_health_on_the_listen_port() -> None:
    check = gw(gatewayPort=18800).health.check
    assert isinstance(check, HttpCheck) and (check.port, check.path) == (gateway.HTTP, "/health")
    tests = container(gatewayPort=18800).healthcheck.tests
    assert tests[:2] == ("CMD", "wget")
    assert tests[-1] == "http://127.0.0.1:18800/health"


def test_hardening_and_limits_follow_settings() -> None:
    plain = {"gatewayMemoryMb": 2048, "gatewayCpuMillicores": 1500, "gatewayUid": 1234, "gatewayGid": 4321}
    service = gw(**plain)
    assert (service.uid, service.gid) == (1234, 4321)
    limits, requests = service.resources.limits, service.resources.requests
    assert (limits.memory_mb, limits.cpu_millicores) == (2048, 1500)
    assert requests.memory_mb == 2048 and 0 < requests.cpu_millicores < 1500
    assert service.read_only_root and [s.path for s in service.scratch] == ["/tmp"]
    assert service.workload is Workload.SINGLE_WRITER
    docker = container(**plain)
    assert docker.user == "1234:4321" and (docker.memory_mb, docker.cpus) == (2048, "1.5")
    assert "noexec" in docker.tmpfs["/tmp"]
    volume = next(v for v in spec_of(gatewayUid=1234, gatewayGid=4321).volumes if v.name == gateway.DATA_VOLUME)
    assert (volume.owner_uid, volume.owner_gid) == (1234, 4321)


def test_restart_and_log_rotation_follow_settings() -> None:
    docker = container(dockerRestartPolicy="always", dockerLogMaxSize="20m", dockerLogMaxFiles=7)
    assert docker.restart == "always"
    assert docker.log_opts == {"max-size": "20m", "max-file": "7"}


def test_stops_with_sigterm_never_sighup() -> None:
    # SIGHUP kills the 0.1.0 gateway and SIGUSR1 opens its debugger.
    assert gw().shutdown is Shutdown.TERM
    assert container().stop_signal == "SIGTERM"


def test_image_is_pinned_from_settings() -> None:
    assert gw(gatewayImage="registry.example/friday/core", gatewayTag="0.2.1").image.ref == (
        "registry.example/friday/core:0.2.1"
    )


def test_config_files_live_in_the_config_dir() -> None:
    service = gw()
    assert service.config_dir is not None
    assert all(f.path.startswith(service.config_dir + "/") for f in service.files)


def test_gateway_port_is_not_published_behind_the_proxy() -> None:
    assert container().ports, "without the proxy the gateway publishes its port"
    behind = gw(proxyEnabled=True, proxyTlsSource="self-signed")
    assert [p.reach for p in behind.ports] == [Reach.SERVICES]
    assert container(proxyEnabled=True, proxyTlsSource="self-signed").ports == ()


@pytest.mark.parametrize("level", ["trace", "debug", "info", "warn", "error"])
def test_log_level_goes_into_the_config_file_for_container_and_bare_metal(level: str) -> None:
    from infra.host.artefacts import gateway_yaml
    from testbed.settings import settings_of

    assert config_of(gw(gatewayLogLevel=level))["logging"]["level"] == level
    assert yaml.safe_load(gateway_yaml(settings_of({"gatewayLogLevel": level})))["logging"]["level"] == level


def test_log_level_refuses_what_the_gateway_refuses() -> None:
    from infra.settings import SettingsError

    with pytest.raises(SettingsError, match="gatewayLogLevel"):
        gw(gatewayLogLevel="fatal")


def test_environment_reaches_the_gateway_as_secureyeoman_env() -> None:
    env = gw(environment="staging").env
    # Neither does anything in 0.1.0 (docs/gateway.md): relying on them would hide a wrong level.
    assert "SECUREYEOMAN_LOG_LEVEL" not in env and "NODE_ENV" not in env


@pytest.mark.live
def test_the_real_gateway_started_with_the_rendered_config_and_env_logs_at_that_level(tmp_path: Path) -> None:
    """Rendered gateway.yaml and plain environment into the REAL gateway 0.1.0, only the places
    changed (a loopback port, a data folder here): it starts, logs request lines at the rendered level
    and reports the environment the stack told it (`prod` is told `production`: 0.1.0 exits 1 on `prod`)."""
    service = gw(gatewayLogLevel="debug", environment="prod")
    config = yaml.safe_load(next(f.content for f in service.files if f.path == gateway.CONFIG_PATH))
    port = free_port()
    config["core"]["dataDir"] = str(tmp_path / "data")
    config["gateway"].update({"host": "127.0.0.1", "port": port})
    env = {k: v for k, v in service.env.items() if isinstance(v, str)}
    env["SECUREYEOMAN_HOST"], env["SECUREYEOMAN_PORT"] = "127.0.0.1", str(port)
    # `environment` is RealGateway's default SECUREYEOMAN_ENV: the rendered env overrides it.
    with RealGateway.start(tmp_path / "gateway", config=config, env=env, environment="development") as real:
        requests.get(f"{real.url}/health", params={"probe": "level"}, timeout=10).raise_for_status()
        assert real.signal(signal.SIGTERM) == 0
        lines = records(real.log())
    assert any(r.get("msg") == "Request completed" and r.get("url") == "/health?probe=level" for r in lines)
    assert {r["environment"] for r in lines if "environment" in r} == {"production"}  # from its JSON start lines
