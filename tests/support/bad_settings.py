"""The bad-settings table: stack-file text that must be refused, by class, with what the refusal names.

Run through `python -m infra check` (tests/unit/test_bad_settings.py) and through the Pulumi
program's path with the engine's strings (tests/pulumi/test_bad_settings_engine.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from infra.settings import gateway_cost


@dataclass(frozen=True)
class Bad:
    name: str
    config: str  # the lines under `config:`, or a whole file when it starts without indentation
    expected: tuple[str, ...]
    # False when only the stack file shows the mistake (how YAML reads an unquoted value, a key given
    # twice, a key outside config:): the engine hands the program that value as plain text.
    engine_sees: bool = True

    def text(self) -> str:
        return self.config if not self.config.startswith("  ") else "config:\n" + self.config


# What the kubernetes target needs besides, so only the case's own mistake is refused.
KUBERNETES = (
    "  friday:target: kubernetes\n  friday:kubernetesIngressHost: friday.example.org\n"
    "  friday:kubernetesCertIssuer: letsencrypt\n"
)


def _cases() -> list[Bad]:
    c: list[Bad] = []
    # 1. Everything in a stack file is accounted for.
    c += [
        Bad(
            "key outside config",
            "config:\n  friday:target: docker\nfriday:gatewayPort: 1\n",
            ("line 3: top-level key 'friday:gatewayPort' is not part of a Pulumi stack file", "config:"),
            False,
        ),
        Bad(
            "another project",
            "  fridy:gatewayPort: 18000\n",
            ("line 2: fridy:gatewayPort: 'fridy' is neither this project (friday)", "did you mean friday:gatewayPort?"),
        ),
        Bad(
            "another project name",
            "  secureyeoman:gatewayPort: 18000\n",
            ("'secureyeoman' is neither this project (friday) nor a provider it uses",),
        ),
        Bad("cased prefix", "  Friday:gatewayPort: 18000\n", ("Friday:gatewayPort", "spelled exactly 'friday'")),
        Bad("upper prefix", "  FRIDAY:target: docker\n", ("FRIDAY:target", "spelled exactly 'friday'")),
        Bad(
            "no namespace",
            "  gatewayPort: 18000\n",
            ("'gatewayPort' has no namespace; write friday:gatewayPort",),
            False,
        ),
        Bad(
            "key twice",
            "  friday:gatewayPort: 18000\n  friday:target: docker\n  friday:gatewayPort: 18001\n",
            ("line 4: key 'friday:gatewayPort' is given twice (first on line 2)",),
            False,
        ),
        Bad(
            "config twice",
            "config:\n  friday:target: docker\nconfig:\n  friday:gatewayPort: 1\n",
            ("line 3: key 'config' is given twice (first on line 1)",),
            False,
        ),
        Bad(
            "unknown key",
            "  friday:gatewayPrt: 18789\n",
            ("line 2: friday:gatewayPrt is not a known setting; did you mean friday:gatewayPort?",),
        ),
        Bad("replaced key", "  friday:swaggerUiForce: true\n", ("add 'swagger-ui' to friday:force instead",)),
        Bad(
            "secret in plain text",
            "  friday:anthropicApiKey: sk-ant-0123456789\n",
            ("friday:anthropicApiKey is a secret but is stored in plain text",),
        ),
    ]
    # 2. Strict values.
    c += [
        Bad(
            "boolean as port", "  friday:gatewayPort: true\n", ("friday:gatewayPort = true: a boolean is not a number",)
        ),
        Bad(
            "boolean as memory",
            "  friday:gatewayMemoryMb: false\n",
            ("a boolean is not a number", str(gateway_cost.DEFAULT_MEMORY_MIB)),
        ),
        Bad("boolean as budget", "  friday:costBudgetUsdDaily: true\n", ("a boolean is not a number",)),
        Bad(
            "number as boolean",
            "  friday:swaggerUiEnabled: 1\n",
            ("friday:swaggerUiEnabled = 1: must be true or false",),
        ),
        Bad("yes as boolean", "  friday:proxyEnabled: yes\n", ("must be true or false", "'yes'")),
        Bad("fraction as integer", "  friday:gatewayMemoryMb: 1024.5\n", ("must be a whole number", "1024")),
        Bad("leading zero", "  friday:gatewayHostPort: 08080\n", ("no leading zeros", "write 8080")),
        Bad("latest", "  friday:gatewayTag: latest\n", ("friday:gatewayTag = 'latest'", "not a pinned tag")),
        Bad("Latest", "  friday:prometheusTag: Latest\n", ("friday:prometheusTag = 'Latest'", "not a pinned tag")),
        Bad("LATEST quoted", '  friday:grafanaTag: "LATEST"\n', ("friday:grafanaTag = 'LATEST'", "not a pinned tag")),
        Bad("stable", "  friday:lokiTag: stable\n", ("'stable' is not a pinned tag",)),
        Bad(
            "unquoted tag",
            "  friday:grafanaTag: 12.1\n",
            ("friday:grafanaTag = 12.1", 'quote it: friday:grafanaTag: "12.1"'),
            False,
        ),
        Bad("unquoted tag 1.10", "  friday:gatewayTag: 1.10\n", ('quote it: friday:gatewayTag: "1.10"',), False),
        Bad("unquoted integer tag", "  friday:dockerInitTag: 1\n", ('quote it: friday:dockerInitTag: "1"',), False),
        Bad("unquoted boolean text", "  friday:gatewayLogLevel: off\n", ("as a boolean", "quote it"), False),
        Bad("unquoted date", "  friday:alertEmailUsername: 2026-01-01\n", ("as a date", "quote it"), False),
        Bad(
            "empty text",
            "  friday:kubernetesStorageClass:\n",
            ("has no value", 'friday:kubernetesStorageClass: ""'),
            False,
        ),
        Bad("NaN", "  friday:costBudgetUsdDaily: .nan\n", ("is not a number (NaN and infinities are refused)",)),
        Bad("infinity", "  friday:costBudgetUsdDaily: .inf\n", ("NaN and infinities are refused",)),
        Bad("minus infinity", "  friday:costBudgetUsdDaily: -.inf\n", ("NaN and infinities are refused",)),
        Bad("quoted nan", '  friday:costBudgetUsdDaily: "nan"\n', ("NaN and infinities are refused",)),
        Bad("infinity as port", "  friday:gatewayPort: .inf\n", ("NaN and infinities are refused",)),
        Bad("exponent", "  friday:costBudgetUsdDaily: 1e3\n", ("must be a number written in digits",)),
        Bad(
            "dot-dot path",
            "  friday:hostLogDir: /var/log/../friday\n",
            ("friday:hostLogDir = '/var/log/../friday': must be a normalised absolute path",),
        ),
        Bad(
            "dot path",
            "  friday:hostDataDir: /var/lib/./friday\n",
            ("must be a normalised absolute path", "write '/var/lib/friday'"),
        ),
        Bad("double slash", "  friday:backupHostDir: /var//backups/friday\n", ("write '/var/backups/friday'",)),
        Bad("trailing slash", "  friday:dockerSocketPath: /run/docker.sock/\n", ("write '/run/docker.sock'",)),
        Bad("list for text", "  friday:alertReceivers: [webhook]\n", ("must be a single value, not a list",), False),
    ]
    # 3. Ports and addresses.
    c += [
        Bad(
            "wildcard clashes",
            "  friday:gatewayBindAddress: 0.0.0.0\n  friday:grafanaHostPort: 18789\n",
            ("host port 18789", "0.0.0.0 or :: takes it on every address"),
        ),
        Bad(
            "v6 wildcard clashes",
            '  friday:monitoringBindAddress: "::"\n  friday:prometheusHostPort: 3000\n',
            ("host port 3000", "0.0.0.0 or :: takes it on every address"),
        ),
    ]
    # 3b. Values as the tool that reads them reads them (infra/settings/grammar.py; each class has its
    # own table, run through the real tool where installed, in tests/unit/test_value_grammar.py).
    c += [
        Bad("repeated unit", "  friday:scrapeInterval: 1m1m\n", ("friday:scrapeInterval = '1m1m'", "biggest first")),
        Bad("units out of order", "  friday:alertRepeatInterval: 30m4h\n", ("'30m4h'", "each unit once")),
        Bad("duration overflow", "  friday:prometheusRetentionTime: 300y\n", ("'300y'", "about 292 years")),
        Bad("half a Loki day", "  friday:lokiRetentionPeriod: 1d12h\n", ("'1d12h'", "whole days")),
        Bad("size unit case", "  friday:prometheusRetentionSize: 5gb\n", ("'5gb'", "unknown unit 'gb'")),
        Bad(
            "image path capitals", "  friday:gatewayImage: ghcr.io/Owner/core\n", ("'ghcr.io/Owner/core'", "lower case")
        ),
        Bad("image double dot", "  friday:lokiImage: grafana..loki\n", ("'grafana..loki'", "image repository")),
        Bad("registry bad port", "  friday:alloyImage: reg.example.org:http/alloy\n", ("a number from 1 to 65535",)),
        Bad("short digest", "  friday:gatewayTag: 0.1.0@sha256:abc\n", ("64 lower-case hexadecimal digits",)),
        Bad("namespace too long", f"  friday:kubernetesMonitoringNamespace: {'m' * 64}\n", ("at most 63",)),
        Bad(
            "storage class dots", "  friday:kubernetesStorageClass: fast..ssd\n", ("'fast..ssd'", "each dot-separated")
        ),
        Bad(
            "label key prefix", "  friday:kubernetesPrometheusSelector: a..b/release=x\n", ("label key 'a..b/release'",)
        ),
        Bad("label value long", f"  friday:kubernetesPrometheusSelector: release={'r' * 64}\n", ("at most 63",)),
        Bad(
            "allowlist host name",
            "  friday:proxySourceAllowlist: 10.0.0.0/8,gateway.example.org\n",
            ("friday:proxySourceAllowlist", "'gateway.example.org' is not an IP address or network"),
        ),
        Bad(
            "operator without pinned checksums",
            "  friday:prometheusOperatorVersion: 0.94.1\n",
            ("friday:prometheusOperatorVersion = '0.94.1'", "pinned checksums", "pinned are 0.93.0"),
        ),
        Bad(
            "ingress host ip",
            "  friday:target: kubernetes\n  friday:kubernetesIngressHost: 10.0.0.1\n",
            ("friday:kubernetesIngressHost = '10.0.0.1'", "is an IP address"),
        ),
        Bad("server name dots", "  friday:proxyServerName: friday..example.org\n", ("empty part",)),
        Bad("loki url garbage", "  friday:hostLokiUrl: 'http://::::'\n", ("friday:hostLokiUrl",)),
        Bad("loki url port", "  friday:hostLokiUrl: http://loki:70000\n", ("'70000'", "from 1 to 65535")),
        Bad("probe url http", "  friday:probePublicUrl: http://friday.example.org\n", ("must start with https://",)),
        Bad(
            "probe url path", "  friday:probePublicUrl: https://friday.example.org/health\n", ("must not have a path",)
        ),
        Bad("email display name", "  friday:alertEmailTo: Ops <ops@example.org>\n", ("no display name",)),
        Bad("email double dot", "  friday:alertEmailFrom: am@example..org\n", ("empty part",)),
        Bad("smarthost port", "  friday:alertEmailSmarthost: smtp.example.org:99999\n", ("from 1 to 65535",)),
    ]
    # 3c. Listeners that share addresses (infra/stack/listeners.py): every place, one class.
    c += [
        Bad(
            "mapped wildcard clashes",
            '  friday:gatewayBindAddress: "::ffff:0.0.0.0"\n  friday:grafanaHostPort: 18789\n',
            ("host port 18789 on the Docker host", "friday:gatewayHostPort = 18789 and friday:grafanaHostPort = 18789"),
        ),
        Bad(
            "gateway and its sidecar in one pod",
            KUBERNETES + "  friday:gatewayPort: 9480\n",
            (
                "port 9480 in the gateway's pod on Kubernetes",
                "friday:gatewayPort = 9480 and friday:metricsAuthPort = 9480",
                "give one of friday:gatewayPort, friday:metricsAuthPort another port",
            ),
        ),
        Bad(
            "sidecar on the gateway's port",
            KUBERNETES + "  friday:metricsAuthPort: 18789\n",
            ("port 18789 in the gateway's pod on Kubernetes", "friday:metricsAuthPort = 18789"),
        ),
        Bad(
            "gateway on the host's Prometheus port",
            "  friday:gatewayPort: 9090\n",
            (
                "port 9090 on a bare-metal host",
                "the gateway on 127.0.0.1 and Prometheus (Debian's package) on 0.0.0.0",
                "give friday:gatewayPort another port",
            ),
        ),
        Bad(
            "gateway on node-exporter's port",
            "  friday:gatewayPort: 9100\n  friday:gatewayBindAddress: 0.0.0.0\n",
            ("port 9100 on a bare-metal host", "node-exporter on 127.0.0.1"),
        ),
        Bad("gateway on Alloy's port", "  friday:gatewayPort: 12345\n", ("Alloy (Grafana's package) on 127.0.0.1",)),
        Bad("gateway on the gossip port", "  friday:gatewayPort: 9094\n", ("Alertmanager's cluster port",)),
        Bad(
            "host Loki on the gateway's port",
            "  friday:hostLokiUrl: http://localhost:18789\n",
            ("port 18789 on a bare-metal host", "a Loki on this host", "friday:hostLokiUrl = 'http://localhost:18789'"),
        ),
        Bad(
            "stack namespace is the monitoring one",
            "  friday:kubernetesNamespace: monitoring\n",
            (
                "friday:kubernetesNamespace and friday:kubernetesMonitoringNamespace are both 'monitoring'",
                "one namespace for two roles",
            ),
        ),
        Bad(
            "stack namespace is the ingress one",
            "  friday:kubernetesNamespace: ingress-nginx\n",
            ("friday:kubernetesNamespace and friday:kubernetesIngressNamespace are both 'ingress-nginx'",),
        ),
        Bad(
            "monitoring namespace is the ingress one",
            "  friday:kubernetesMonitoringNamespace: ingress-nginx\n",
            ("friday:kubernetesMonitoringNamespace and friday:kubernetesIngressNamespace are both",),
        ),
        # Gateway API routing and host-network controllers (issue 21 item 9).
        Bad(
            "gateway-api without a Gateway",
            "  friday:target: kubernetes\n  friday:kubernetesIngressHost: friday.example.org\n"
            "  friday:kubernetesRouting: gateway-api\n",
            ("friday:kubernetesRouting = 'gateway-api' needs friday:kubernetesGatewayName",),
        ),
        Bad(
            "gateway-api with a cert issuer",
            KUBERNETES + "  friday:kubernetesRouting: gateway-api\n  friday:kubernetesGatewayName: public\n",
            ("friday:kubernetesCertIssuer = 'letsencrypt'", "the Gateway's HTTPS listener does", "leave both empty"),
        ),
        # The login limit and allowlist exist on Kubernetes only as ingress-nginx annotations (issue 21 item 6).
        Bad(
            "login limit with a traefik Ingress",
            KUBERNETES + "  friday:kubernetesIngressClass: traefik\n",
            (
                "friday:proxyLoginRateLimitPerMinute = 1 refused with friday:kubernetesIngressClass = 'traefik'",
                "silently ignored",
                "ipAllowList and rateLimit middlewares",
                "set friday:proxyLoginRateLimitPerMinute = 0",
            ),
        ),
        Bad(
            "allowlist with gateway-api",
            "  friday:target: kubernetes\n  friday:kubernetesIngressHost: friday.example.org\n"
            "  friday:kubernetesRouting: gateway-api\n  friday:kubernetesGatewayName: public\n"
            "  friday:proxyLoginRateLimitPerMinute: 0\n  friday:proxySourceAllowlist: 203.0.113.0/24\n",
            (
                "friday:proxySourceAllowlist = '203.0.113.0/24' refused with friday:kubernetesRouting = 'gateway-api'",
                "on the Gateway's controller",
                "friday:proxySourceAllowlist = ''",
            ),
        ),
        Bad(
            "routing unknown",
            KUBERNETES + "  friday:kubernetesRouting: httproute\n",
            ("friday:kubernetesRouting", "'ingress' or 'gateway-api'"),
        ),
        Bad(
            "source network host bits",
            "  friday:kubernetesIngressSourceCidrs: 10.0.0.1/24\n",
            ("friday:kubernetesIngressSourceCidrs = '10.0.0.1/24'", "is not a network address"),
        ),
        Bad(
            "source network without prefix",
            "  friday:kubernetesIngressSourceCidrs: 10.0.0.0/24,192.168.1.4\n",
            ("'192.168.1.4' has no prefix length",),
        ),
        # Prometheus sizing in install mode (issue 21 item 8).
        Bad(
            "prometheus memory tiny",
            "  friday:kubernetesPrometheusMemoryMb: 100\n",
            ("friday:kubernetesPrometheusMemoryMb = 100", "at least 256 MiB"),
        ),
        Bad(
            "cluster series negative",
            "  friday:kubernetesPrometheusClusterSeries: -5\n",
            ("kubernetesPrometheusClusterSeries",),
        ),
        Bad(
            "gateway namespace capitals",
            "  friday:kubernetesGatewayNamespace: Gateways\n",
            ("kubernetesGatewayNamespace",),
        ),
    ]
    # 3c. Unsafe choices refused on every environment (infra/settings/hazards.py, system_paths.py).
    c += [
        Bad("data in /var", "  friday:hostDataDir: /var\n", ("friday:hostDataDir = '/var'", "is a system folder")),
        Bad(
            "logs in /var/log",
            "  friday:hostLogDir: /var/log\n",
            ("'/var/log' is a system folder", "'/var/log/friday'"),
        ),
        Bad("data in /var/lib", "  friday:hostDataDir: /var/lib\n", ("'/var/lib' is a system folder",)),
        Bad("data in /etc", "  friday:hostDataDir: /etc\n", ("'/etc' is a system folder",)),
        Bad("data under /etc", "  friday:hostDataDir: /etc/friday\n", ("under the system folder /etc",)),
        Bad("data in /usr", "  friday:hostDataDir: /usr/local\n", ("'/usr/local' is a system folder",)),
        Bad("logs in /boot", "  friday:hostLogDir: /boot/friday\n", ("under the system folder /boot",)),
        Bad("logs under /proc", "  friday:hostLogDir: /proc/friday\n", ("under the system folder /proc",)),
        Bad("data under /sys", "  friday:hostDataDir: /sys/friday\n", ("under the system folder /sys",)),
        Bad("data under /dev", "  friday:hostDataDir: /dev/shm/friday\n", ("under the system folder /dev",)),
        Bad("data under /run", "  friday:hostDataDir: /run/friday\n", ("under the system folder /run",)),
        Bad("backups in /home", "  friday:backupHostDir: /home\n", ("friday:backupHostDir = '/home'", "ProtectHome")),
        Bad("backups in /root", "  friday:backupHostDir: /root\n", ("friday:backupHostDir = '/root'",)),
        Bad(
            "textfile in /var/lib", "  friday:backupTextfileDir: /var/lib\n", ("friday:backupTextfileDir = '/var/lib'",)
        ),
        Bad("backups in /opt", "  friday:backupHostDir: /opt\n", ("'/opt' is a system folder",)),
        Bad(
            "data under /tmp",
            "  friday:hostDataDir: /tmp/friday\n",
            ("friday:hostDataDir = '/tmp/friday'", "PrivateTmp=yes", "deleted when they stop"),
        ),
        Bad("logs in /var/tmp", "  friday:hostLogDir: /var/tmp\n", ("under /var/tmp", "PrivateTmp=yes")),
        Bad("backups under /tmp", "  friday:backupHostDir: /tmp/backups\n", ("under /tmp",)),
        Bad(
            "normalises to /var/lib",
            "  friday:hostDataDir: /var/lib/friday/..\n",
            ("must be a normalised absolute path", "it names '/var/lib', a system folder"),
        ),
        Bad(
            "trailing slash on /var",
            "  friday:hostLogDir: /var/\n",
            ("it names '/var', a system folder",),
        ),
        Bad("root user", "  friday:hostUser: root\n", ("friday:hostUser = 'root' is refused", "would run as root")),
        Bad("root gid", "  friday:gatewayGid: 0\n", ("friday:gatewayGid = 0", "0 is root's id")),
        Bad("root socket group", "  friday:dockerSocketGid: 0\n", ("friday:dockerSocketGid = 0", "0 is root's id")),
        Bad(
            "kube-system namespace",
            "  friday:kubernetesNamespace: kube-system\n",
            ("friday:kubernetesNamespace = 'kube-system' is refused", "a namespace Kubernetes itself uses"),
        ),
        Bad("default namespace", "  friday:kubernetesNamespace: default\n", ("'default' is refused",)),
        Bad("kube-public namespace", "  friday:kubernetesNamespace: kube-public\n", ("'kube-public' is refused",)),
        Bad("kube-node-lease", "  friday:kubernetesNamespace: kube-node-lease\n", ("'kube-node-lease' is refused",)),
        Bad("kube- prefix", "  friday:kubernetesNamespace: kube-friday\n", ("'kube-friday' is refused",)),
        Bad(
            "charts into kube-system",
            "  friday:kubernetesMonitoringMode: install\n  friday:kubernetesMonitoringNamespace: kube-system\n",
            ("friday:kubernetesMonitoringNamespace = 'kube-system' is refused with kubernetesMonitoringMode",),
        ),
        Bad(
            "python too old for the backup tool",
            '  friday:backupTag: "3.10-slim"\n',
            ("friday:backupTag = '3.10-slim' is refused", "it is version 3.10", "datetime.UTC", "3.11 or newer"),
        ),
        Bad("python 3.9", '  friday:backupTag: "3.9.18-slim-bookworm"\n', ("it is version 3.9",)),
        Bad("python 2", '  friday:backupTag: "2.7-slim"\n', ("it is version 2.7",)),
        Bad("python without a version", "  friday:backupTag: slim-bookworm\n", ("it names no version",)),
        Bad(
            "python from a registry",
            "  friday:backupImage: docker.io/library/python\n  friday:backupTag: 3.8-alpine\n",
            ("it is version 3.8",),
        ),
        Bad("loki 2", '  friday:lokiTag: "2.9.4"\n', ("friday:lokiTag = '2.9.4' is refused", "3.0 or newer")),
        Bad("caddy 2.5", "  friday:metricsAuthTag: 2.5.2-alpine\n", ("friday:metricsAuthTag", "2.6 or newer")),
        Bad("proxy caddy 2.4", "  friday:proxyCaddyTag: 2.4.6\n", ("friday:proxyCaddyTag", "it is version 2.4")),
        Bad("alloy 0.x", "  friday:alloyTag: v0.40.2\n", ("friday:alloyTag = 'v0.40.2'", "1.0 or newer")),
    ]
    # 4. Choices with known consequences.
    c += [
        Bad(
            "long scrape interval on dev",
            "  friday:scrapeInterval: 3m\n",
            (
                "friday:scrapeInterval = '3m' refused on every environment",
                "add 'long-scrape-interval' to friday:force",
            ),
        ),
        Bad(
            "long evaluation interval",
            "  friday:environment: prod\n  friday:evaluationInterval: 5m\n",
            ("friday:evaluationInterval = '5m'", "'long-evaluation-interval'"),
        ),
        Bad(
            "public anonymous grafana on dev",
            "  friday:grafanaAnonymousEnabled: true\n  friday:grafanaBindAddress: 0.0.0.0\n",
            ("not a loopback address, on every environment", "'anonymous-grafana' to friday:force"),
        ),
        Bad(
            "anonymous grafana on staging",
            "  friday:environment: staging\n  friday:grafanaAnonymousEnabled: true\n",
            ("on environment 'staging' (not a development one: 'dev' or 'local')",),
        ),
        Bad(
            "swagger on an unknown environment",
            "  friday:environment: qa-eu\n  friday:swaggerUiEnabled: true\n",
            ("swaggerUiEnabled = true is refused on environment 'qa-eu'", "'swagger-ui' to friday:force"),
        ),
        Bad(
            "swagger on production",
            "  friday:environment: production\n  friday:swaggerUiEnabled: true\n",
            ("on environment 'production'",),
        ),
        Bad(
            "self-signed on staging",
            "  friday:environment: staging\n  friday:proxyEnabled: true\n  friday:proxyTlsSource: self-signed\n",
            ("proxyTlsSource = 'self-signed' is refused on environment 'staging'", "'self-signed-certificate'"),
        ),
        Bad("unknown force", "  friday:force: everything\n", ("'everything' is not a safeguard; allowed:",)),
        Bad(
            "gateway on every address in production",
            '  friday:environment: prod\n  friday:gatewayBindAddress: "::"\n',
            ("friday:gatewayBindAddress = '::' is refused on environment 'prod'", "'gateway-on-every-address'"),
        ),
        Bad(
            "gateway on every address, unknown environment",
            "  friday:environment: qa\n  friday:gatewayBindAddress: 0.0.0.0\n",
            ("friday:gatewayBindAddress = '0.0.0.0' is refused on environment 'qa'",),
        ),
        Bad(
            "monitoring on every address in staging",
            "  friday:environment: staging\n  friday:monitoringBindAddress: 0.0.0.0\n",
            ("friday:monitoringBindAddress = '0.0.0.0'", "no login", "'monitoring-on-every-address' to friday:force"),
        ),
        Bad(
            "monitoring on the mapped wildcard",
            '  friday:environment: production\n  friday:monitoringBindAddress: "::ffff:0.0.0.0"\n',
            ("'monitoring-on-every-address'",),
        ),
    ]
    # 5. Remote-write targets (infra/settings/remote_write.py).
    rw = "  friday:remoteWrite:\n"
    c += [
        Bad(
            "remote write http in production",
            "  friday:environment: prod\n" + rw + "    - {name: mimir, url: 'http://mimir.example.org/api/v1/push'}\n",
            ("friday:remoteWrite: target 'mimir' has url 'http://mimir.example.org/api/v1/push'", "https://"),
        ),
        Bad(
            "remote write names twice",
            rw
            + "    - {name: a, url: 'https://a.example.org/push'}\n    - {name: a, url: 'https://b.example.org/push'}\n",
            ("friday:remoteWrite", "the name 'a' is given to two targets; names must be unique"),
        ),
        Bad(
            "remote write bad name",
            rw + "    - {name: Mimir-1, url: 'https://a.example.org/push'}\n",
            ("friday:remoteWrite", "name = 'Mimir-1' must be 1 to 31 lowercase letters and digits"),
        ),
        Bad(
            "remote write unknown auth",
            rw + "    - {name: a, url: 'https://a.example.org/push', auth: oauth}\n",
            ("friday:remoteWrite", "auth = 'oauth'; allowed: none, basic, bearer"),
        ),
        Bad(
            "remote write basic without user",
            rw + "    - {name: a, url: 'https://a.example.org/push', auth: basic}\n",
            ("friday:remoteWrite", "auth = 'basic' needs username"),
        ),
        Bad(
            "remote write url scheme",
            rw + "    - {name: a, url: 'ftp://a.example.org/push'}\n",
            ("friday:remoteWrite", "url = 'ftp://a.example.org/push' has the scheme 'ftp'"),
        ),
        Bad(
            "remote write queue key",
            rw + "    - {name: a, url: 'https://a.example.org/push', queue: {shards: 5}}\n",
            ("friday:remoteWrite", "queue has 'shards'; allowed: capacity, maxShards"),
        ),
        Bad(
            "remote write queue duration",
            rw + "    - {name: a, url: 'https://a.example.org/push', queue: {maxBackoff: 5}}\n",
            ("friday:remoteWrite", "queue.maxBackoff = '5' must be a Prometheus duration above zero"),
        ),
        Bad("remote write not a list", "  friday:remoteWrite: https://a.example.org/push\n", ("friday:remoteWrite",)),
        Bad(
            "remote write on an existing kubernetes prometheus",
            KUBERNETES + rw + "    - {name: a, url: 'https://a.example.org/push'}\n",
            ("friday:remoteWrite is set, but kubernetesMonitoringMode = 'existing'",),
        ),
    ]
    # Off-host backups (docs/backups.md#off-host-copies).
    on = (
        "  friday:backupOffsiteEnabled: true\n  friday:backupOffsiteEndpoint: https://s3.example.org\n"
        "  friday:backupOffsiteBucket: friday-backups\n  friday:backupImage: registry.example.org/friday-backup\n"
        '  friday:backupTag: "0.14.0-1"\n'
    )
    c += [
        Bad(
            "offsite endpoint over http",
            "  friday:backupOffsiteEndpoint: http://s3.example.org\n",
            ("friday:backupOffsiteEndpoint", "'http://s3.example.org'", "https://"),
        ),
        Bad(
            "offsite endpoint with a password",
            "  friday:backupOffsiteEndpoint: https://key:secret@s3.example.org\n",
            ("friday:backupOffsiteEndpoint", "must not carry a user or password"),
        ),
        Bad(
            "offsite bucket in capitals",
            "  friday:backupOffsiteBucket: Friday_Backups\n",
            ("friday:backupOffsiteBucket", "'Friday_Backups'", "3 to 63 lower-case letters"),
        ),
        Bad(
            "offsite path climbing out",
            "  friday:backupOffsitePath: friday/../other\n",
            ("friday:backupOffsitePath", "'friday/../other'", "no leading or trailing '/'"),
        ),
        Bad(
            "offsite on without an endpoint",
            "  friday:backupOffsiteEnabled: true\n  friday:backupOffsiteBucket: friday-backups\n",
            ("backupOffsiteEnabled = true needs friday:backupOffsiteEndpoint",),
        ),
        Bad(
            "offsite on with the stock python image",
            "  friday:backupOffsiteEnabled: true\n  friday:backupOffsiteEndpoint: https://s3.example.org\n"
            "  friday:backupOffsiteBucket: friday-backups\n",
            ("friday:backupImage = 'python'", "has no restic", "backup-image/Dockerfile"),
        ),
        Bad(
            "offsite retention keeps nothing",
            on + "  friday:backupOffsiteKeepLast: 0\n  friday:backupOffsiteKeepDaily: 0\n"
            "  friday:backupOffsiteKeepWeekly: 0\n  friday:backupOffsiteKeepMonthly: 0\n",
            ("are all 0", "at least one above 0"),
        ),
        Bad(
            "offsite stale limit within the interval",
            "  friday:backupOffsiteStaleAfterHours: 6\n",
            ("friday:backupOffsiteStaleAfterHours = 6 must exceed backupIntervalHours = 6",),
        ),
    ]
    return c


BAD = _cases()


def engine_strings(text: str) -> dict[str, str]:
    """What Pulumi hands the program for a stack file: each config scalar as the text written (Pulumi
    reads a value as a string first), structured values as JSON, secrets left out."""
    node = yaml.compose(text, Loader=yaml.SafeLoader)
    out: dict[str, str] = {}
    for key_node, value_node in _config_pairs(node):
        if isinstance(value_node, yaml.ScalarNode):
            null = value_node.tag == "tag:yaml.org,2002:null" and value_node.style is None
            out[key_node.value] = "" if null else value_node.value
        elif isinstance(value_node, yaml.SequenceNode):
            out[key_node.value] = _json(yaml.safe_load(yaml.serialize(value_node)))
    return out


def _config_pairs(node: Any) -> list[Any]:
    pairs = []
    for key_node, value_node in node.value:
        if key_node.value == "config" and isinstance(value_node, yaml.MappingNode):
            pairs += value_node.value
    return pairs


def _json(value: Any) -> str:
    return json.dumps(value)
