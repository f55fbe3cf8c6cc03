"""Each kind of value judged as the tool that reads it judges it: one table per kind.

Where the tool is installed the table is run through it too (promtool, amtool, the Docker CLI's
reference parser, kubectl's label check), and the test shows the settings validator and the tool
agree on every case. Where no binary exists here (Loki, the Kubernetes API server, an SMTP client),
the cases follow the tool's documented grammar, cited beside each table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from infra.settings import grammar
from infra.settings.base import ImageRepo, ImageTag

TOOL_TIMEOUT_SECONDS = 30


def accepts(kind: Any, value: str) -> bool:
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError:
        return False
    return True


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed (scripts/bootstrap.sh dev installs it)")
        pytest.skip(f"{name} is not installed")
    return found


def run(*command: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, capture_output=True, text=True, timeout=TOOL_TIMEOUT_SECONDS, check=False, cwd=cwd, env=env
    )


# Durations: prometheus/common model.ParseDuration (Prometheus, Alertmanager, Loki's retention_period).
DURATIONS = [
    ("15s", True),
    ("1h30m", True),
    ("5m30s500ms", True),
    ("1y2w3d4h5m6s7ms", True),
    ("0", True),
    ("0s", True),
    ("1h0m", True),
    ("292y", True),
    ("106751d", True),
    ("2562047h", True),
    ("1m1m", False),  # a unit twice
    ("30m1h", False),  # smaller unit first
    ("1ms1s", False),
    ("1d1w", False),
    ("293y", False),  # more than 2^63-1 nanoseconds
    ("106752d", False),
    ("2562048h", False),
    ("99999999999999999999999s", False),
    ("1.5h", False),
    ("", False),
    ("15", False),
    ("-1s", False),
    ("+1s", False),
    ("1 h", False),
    (" 1h", False),
    ("10sec", False),
    ("1µs", False),
    ("1H", False),
    ("1h30", False),
    ("h", False),
    ("１s", False),  # a full-width digit
]


@pytest.mark.parametrize(("value", "valid"), DURATIONS, ids=[repr(v) for v, _ in DURATIONS])
def test_durations_as_promtool_reads_them(value: str, valid: bool, tmp_path: Path) -> None:
    assert accepts(grammar.Duration, value) is valid
    config = tmp_path / "prometheus.yml"
    config.write_text(f'global:\n  scrape_interval: "{value}"\n', encoding="utf-8")
    done = run(tool("promtool"), "check", "config", "--syntax-only", str(config))
    assert (done.returncode == 0) is valid, done.stdout + done.stderr


# Alertmanager: the same grammar, and group_interval / repeat_interval may not be zero.
ALERTMANAGER = [
    ("group_wait", grammar.Duration, "0", True),
    ("group_wait", grammar.Duration, "1h1h", False),
    ("group_wait", grammar.Duration, "30s", True),
    ("group_interval", grammar.PositiveDuration, "0s", False),
    ("group_interval", grammar.PositiveDuration, "0", False),
    ("group_interval", grammar.PositiveDuration, "5m", True),
    ("group_interval", grammar.PositiveDuration, "2h30m", True),
    ("repeat_interval", grammar.PositiveDuration, "0h0m", False),
    ("repeat_interval", grammar.PositiveDuration, "4h", True),
    ("repeat_interval", grammar.PositiveDuration, "4h4h", False),
    ("repeat_interval", grammar.PositiveDuration, "300y", False),
]


@pytest.mark.parametrize(
    ("field", "kind", "value", "valid"), ALERTMANAGER, ids=[f"{f}={v!r}" for f, _, v, _ in ALERTMANAGER]
)
def test_alertmanager_durations_as_amtool_reads_them(
    field: str, kind: Any, value: str, valid: bool, tmp_path: Path
) -> None:
    assert accepts(kind, value) is valid
    config = tmp_path / "alertmanager.yml"
    config.write_text(f'route:\n  receiver: x\n  {field}: "{value}"\nreceivers:\n- name: x\n', encoding="utf-8")
    done = run(tool("amtool"), "check-config", str(config))
    assert (done.returncode == 0) is valid, done.stdout + done.stderr


# Loki's limits_config.retention_period: a model.Duration (above) that the compactor applies by
# 24-hour index periods, so whole days only (Loki's retention docs); no Loki binary here.
LOKI_RETENTION = [
    ("30d", True),
    ("720h", True),
    ("4w", True),
    ("1w3d", True),
    ("1d24h", True),
    ("24h", True),
    ("1d12h", False),
    ("36h", False),
    ("12h", False),
    ("0", False),
    ("0s", False),
    ("1d1d", False),
    ("12h1d", False),
    ("1.5d", False),
]


@pytest.mark.parametrize(("value", "valid"), LOKI_RETENTION, ids=[v for v, _ in LOKI_RETENTION])
def test_loki_retention_is_whole_days_of_the_prometheus_grammar(value: str, valid: bool) -> None:
    assert accepts(grammar.WholeDays, value) is valid
    if valid:  # and what is accepted also parses as a Prometheus duration
        assert grammar.parse_duration(value) % grammar.DURATION_UNITS["d"] == 0


SHA = "a" * 64
# Image references: the distribution reference grammar, judged here by the Docker CLI's own parser
# (`docker pull` parses the reference before it contacts a daemon; none is reachable in the test).
IMAGES = [
    ("busybox", "1.37.0", True),
    ("ghcr.io/maccracken/secureyeoman-core", "0.1.0", True),
    ("registry.example.org:5000/team/image", "v1", True),
    ("localhost:5000/image", "v1", True),
    ("localhost/image", "v1", True),
    ("Registry.Example.org/team/image", "v1", True),  # a registry host may have capitals
    ("[::1]:5000/image", "v1", True),
    ("my--image", "v1", True),
    ("my__image/a_b.c-d", "v1", True),
    ("grafana/loki", f"3.7.8@sha256:{SHA}", True),
    ("grafana/loki", "_underscore_first", True),
    ("grafana/loki", "v" * 128, True),
    ("Grafana/loki", "v1", True),  # a capitalised first part is read as a registry host
    ("grafana/Loki/x", "v1", False),  # capitals in the path
    ("grafana/Loki", "v1", False),
    ("a..b", "v1", False),
    ("a._b", "v1", False),
    ("a___b", "v1", False),
    ("-ab", "v1", False),
    ("ab-", "v1", False),
    ("grafana//loki", "v1", False),
    ("grafana/loki/", "v1", False),
    ("registry.example.org:http/image", "v1", False),
    ("exa mple/image", "v1", False),
    ("grafana/loki", "v" * 129, False),
    ("grafana/loki", ".v1", False),
    ("grafana/loki", "-v1", False),
    ("grafana/loki", "v1+build", False),
    ("grafana/loki", "3.7.8@sha256:abc", False),
    ("grafana/loki", f"3.7.8@sha256:{'A' * 64}", False),
    ("grafana/loki", f"3.7.8@md5:{'a' * 32}", False),
    ("grafana/loki", "", False),
]


@pytest.mark.parametrize(("repository", "tag", "valid"), IMAGES, ids=[f"{r}:{t[:20]}" for r, t, _ in IMAGES])
def test_image_references_as_docker_parses_them(repository: str, tag: str, valid: bool, tmp_path: Path) -> None:
    assert (accepts(ImageRepo, repository) and accepts(ImageTag, tag)) is valid
    env = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock", "DOCKER_CONFIG": str(tmp_path)}
    done = run(tool("docker"), "pull", "--quiet", "--", f"{repository}:{tag}", env=env)
    output = done.stdout + done.stderr
    # A reference it can parse gets as far as the (absent) daemon; any other is refused before.
    assert ("Cannot connect to the Docker daemon" in output) is valid, output
    assert done.returncode != 0  # never pulled: no daemon


# Kubernetes label values, judged by kubectl's own label check.
LABEL_VALUES = [
    ("kube-prometheus-stack", True),
    ("", True),
    ("A_b.c-9", True),
    ("v" * 63, True),
    ("v" * 64, False),
    ("-x", False),
    ("x-", False),
    ("a b", False),
    ("a/b", False),
    ("é", False),
]


@pytest.mark.parametrize(("value", "valid"), LABEL_VALUES, ids=[repr(v[:10]) for v, _ in LABEL_VALUES])
def test_label_values_as_kubectl_checks_them(value: str, valid: bool, tmp_path: Path) -> None:
    assert (grammar.label_value_problem(value) is None) is valid
    manifest = tmp_path / "ns.yaml"
    manifest.write_text("apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n", encoding="utf-8")
    done = run(tool("kubectl"), "label", "--local", "-f", str(manifest), "--dry-run=client", "-o", "name", f"k={value}")
    assert (done.returncode == 0) is valid, done.stdout + done.stderr


# Kubernetes names (apimachinery validation: IsDNS1123Label, IsDNS1123Subdomain, IsQualifiedName);
# no API server here, so the cases follow its documented rules.
DNS_LABELS = [
    ("monitoring", True),
    ("a", True),
    ("0abc", True),
    ("a" * 63, True),
    ("a" * 64, False),
    ("Monitoring", False),
    ("a.b", False),
    ("a_b", False),
    ("-a", False),
    ("a-", False),
    ("", False),
]
DNS_SUBDOMAINS = [
    ("fast-ssd", True),
    ("ebs.csi.aws.com", True),
    ("a" * 100 + "." + "b" * 100, True),  # subdomain parts are not limited to 63
    ("a." * 126 + "a", True),  # 253
    ("a." * 127 + "a", False),  # 255
    ("a..b", False),
    (".a", False),
    ("a.", False),
    ("a.-b", False),
    ("A.b", False),
    ("a_b", False),
]
LABEL_KEYS = [
    ("release", True),
    ("app.kubernetes.io/name", True),
    ("example.org/My_Key.1", True),
    ("k" * 63, True),
    ("k" * 64, False),
    ("a..b/c", False),
    ("Example.org/c", False),
    ("a/b/c", False),
    ("/c", False),
    ("a/", False),
    ("_k", False),
]


@pytest.mark.parametrize(("value", "valid"), DNS_LABELS, ids=[repr(v[:12]) for v, _ in DNS_LABELS])
def test_dns_labels(value: str, valid: bool) -> None:
    assert accepts(grammar.DnsLabel, value) is valid


@pytest.mark.parametrize(("value", "valid"), DNS_SUBDOMAINS, ids=[repr(v[:12]) for v, _ in DNS_SUBDOMAINS])
def test_dns_subdomains(value: str, valid: bool) -> None:
    assert accepts(grammar.DnsSubdomain, value) is valid


@pytest.mark.parametrize(("value", "valid"), LABEL_KEYS, ids=[repr(v[:12]) for v, _ in LABEL_KEYS])
def test_label_keys(value: str, valid: bool) -> None:
    assert (grammar.label_key_problem(value) is None) is valid


# Host names (RFC 1123) and the Ingress host (a DNS subdomain that is not an IP address).
HOSTNAMES = [
    ("friday.example.org", True),
    ("localhost", True),
    ("Friday.Example.org", True),
    ("xn--bcher-kva.example", True),
    ("a" * 63 + ".org", True),
    ("a" * 64 + ".org", False),
    ("a..b", False),
    (".example.org", False),
    ("-a.example.org", False),
    ("a_b.example.org", False),
    ("exämple.org", False),  # IDN must be written in its xn-- form
    ("friday.example.org ", False),
    ("friday\u200b.example.org", False),  # a zero-width space
    ("10.0.0.1", False),  # an address, not a name
    ("", False),
]
INGRESS_HOSTS = [
    ("friday.example.org", True),
    ("", True),  # not set
    ("10.0.0.1", False),
    ("::1", False),
    ("Friday.example.org", False),
    ("friday..example.org", False),
]


@pytest.mark.parametrize(("value", "valid"), HOSTNAMES, ids=[repr(v[:20]) for v, _ in HOSTNAMES])
def test_hostnames(value: str, valid: bool) -> None:
    assert accepts(grammar.Hostname, value) is valid


@pytest.mark.parametrize(("value", "valid"), INGRESS_HOSTS, ids=[repr(v) for v, _ in INGRESS_HOSTS])
def test_ingress_hosts(value: str, valid: bool) -> None:
    assert accepts(grammar.OptionalIngressHost, value) is valid


# URLs with scheme, host and optional port (no path): the bare-metal Loki push base and the public probe.
BASE_URLS = [
    (grammar.HttpBaseUrl, "http://127.0.0.1:3100", True),
    (grammar.HttpBaseUrl, "https://loki.example.org", True),
    (grammar.HttpBaseUrl, "http://[::1]:3100", True),
    (grammar.HttpBaseUrl, "http://loki:3100", True),
    (grammar.HttpBaseUrl, "ftp://loki:3100", False),
    (grammar.HttpBaseUrl, "http://", False),
    (grammar.HttpBaseUrl, "http://:3100", False),
    (grammar.HttpBaseUrl, "http://loki:", False),
    (grammar.HttpBaseUrl, "http://loki:99999", False),
    (grammar.HttpBaseUrl, "http://loki:0", False),
    (grammar.HttpBaseUrl, "http://::::", False),
    (grammar.HttpBaseUrl, "http://[::1", False),
    (grammar.HttpBaseUrl, "http://300.1.1.1:3100", False),
    (grammar.HttpBaseUrl, "http://user:pw@loki:3100", False),
    (grammar.HttpBaseUrl, "http://loki:3100/loki/api/v1/push", False),
    (grammar.HttpBaseUrl, "http://lo ki:3100", False),
    (grammar.HttpBaseUrl, "loki:3100", False),
    (grammar.OptionalHttpsBaseUrl, "", True),
    (grammar.OptionalHttpsBaseUrl, "https://friday.example.org", True),
    (grammar.OptionalHttpsBaseUrl, "https://friday.example.org:8443", True),
    (grammar.OptionalHttpsBaseUrl, "http://friday.example.org", False),
    (grammar.OptionalHttpsBaseUrl, "https://friday..example.org", False),
    (grammar.OptionalHttpsBaseUrl, "https://friday.example.org/health", False),
    (grammar.OptionalHttpsBaseUrl, "https://friday.example.org?x=1", False),
]


@pytest.mark.parametrize(("kind", "value", "valid"), BASE_URLS, ids=[repr(v) for _, v, _ in BASE_URLS])
def test_base_urls(kind: Any, value: str, valid: bool) -> None:
    assert accepts(kind, value) is valid


# E-mail addresses as an SMTP server takes them in MAIL FROM / RCPT TO (RFC 5321 dot-atom local
# part, a host name as domain); the SMTP smarthost as Alertmanager's host:port.
EMAILS = [
    (grammar.OptionalEmail, "alerts@example.org", True),
    (grammar.OptionalEmail, "first.last+tag@mail.example.org", True),
    (grammar.OptionalEmail, "", True),
    (grammar.OptionalEmail, "Ops <ops@example.org>", False),
    (grammar.OptionalEmail, "ops@@example.org", False),
    (grammar.OptionalEmail, "ops@example..org", False),
    (grammar.OptionalEmail, ".ops@example.org", False),
    (grammar.OptionalEmail, "o..ps@example.org", False),
    (grammar.OptionalEmail, "ops@", False),
    (grammar.OptionalEmail, "ops", False),
    (grammar.OptionalEmail, "ops @example.org", False),
    (grammar.OptionalEmail, "a@b.org,c@d.org", False),
    (grammar.OptionalEmailList, "a@b.org, c@d.org", True),
    (grammar.OptionalEmailList, "a@b.org,,c@d.org", False),
    (grammar.OptionalHostPort, "smtp.example.org:587", True),
    (grammar.OptionalHostPort, "[2001:db8::1]:25", True),
    (grammar.OptionalHostPort, "10.0.0.5:25", True),
    (grammar.OptionalHostPort, "smtp.example.org", False),
    (grammar.OptionalHostPort, "smtp.example.org:", False),
    (grammar.OptionalHostPort, "smtp.example.org:70000", False),
    (grammar.OptionalHostPort, "smtp..example.org:587", False),
    (grammar.OptionalHostPort, "2001:db8::1:25", False),
]


@pytest.mark.parametrize(("kind", "value", "valid"), EMAILS, ids=[repr(v) for _, v, _ in EMAILS])
def test_email_addresses_and_smarthosts(kind: Any, value: str, valid: bool) -> None:
    assert accepts(kind, value) is valid


# Prometheus' --storage.tsdb.retention.size (alecthomas/units Base2Bytes; whole numbers kept here).
SIZES = [
    ("5GB", True),
    ("512MiB", True),
    ("1TB", True),
    ("7EiB", True),
    ("9EiB", False),  # beyond 2^63-1 bytes
    ("0GB", False),
    ("5gb", False),
    ("5G", False),
    ("5 GB", False),
    ("GB", False),
    ("-5GB", False),
]


@pytest.mark.parametrize(("value", "valid"), SIZES, ids=[v for v, _ in SIZES])
def test_prometheus_sizes(value: str, valid: bool) -> None:
    assert accepts(grammar.PrometheusSize, value) is valid


def test_messages_say_what_is_allowed_in_words() -> None:
    for kind, value in [
        (grammar.Duration, "30m1h"),
        (grammar.Duration, "293y"),
        (ImageRepo, "grafana/Loki"),
        (grammar.Hostname, "a..b"),
        (grammar.HttpBaseUrl, "http://loki:99999"),
        (grammar.OptionalEmail, "Ops <ops@example.org>"),
    ]:
        with pytest.raises(ValidationError) as err:
            TypeAdapter(kind).validate_python(value)
        message = str(err.value.errors()[0]["msg"])
        assert not any(regex in message for regex in ("^[", "[a-z", "[A-Z", "]+", "]*", "{0,", "pattern")), message
    assert "biggest first" in _message(grammar.Duration, "30m1h")
    assert "292 years" in _message(grammar.Duration, "293y")


def _message(kind: Any, value: str) -> str:
    with pytest.raises(ValidationError) as err:
        TypeAdapter(kind).validate_python(value)
    return str(err.value.errors()[0]["msg"])
