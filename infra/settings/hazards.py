"""Choices refused outright, on every environment: no `friday:force` accepts them, because what they
break is not the stack's own business (Kubernetes' own namespaces; the machine's system folders are
refused by their settings' own type, infra/settings/system_paths.py)
or the stack cannot run with them at all (a service as root, an image too old for what it is given).

Forceable choices are in infra/settings/safeguards.py; both are listed in docs/deployment.md#safeguards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address

from infra import PROJECT
from infra.settings.model import Settings

# Namespaces Kubernetes itself uses, and the prefix it reserves for its own.
KUBERNETES_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
KUBERNETES_PREFIX = "kube-"
ROOT_USER = "root"


def is_wildcard(address: IPv4Address | IPv6Address | str) -> bool:
    """0.0.0.0, :: or ::ffff:0.0.0.0: a listener on every address of the machine."""
    addr = ip_address(str(address))
    if isinstance(addr, IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped.is_unspecified
    return addr.is_unspecified


def _fields(settings: Settings) -> dict[str, str]:
    """camelCase key -> attribute name."""
    return {f.alias or n: n for n, f in type(settings).model_fields.items()}


def _value(settings: Settings, key: str) -> object:
    return getattr(settings, _fields(settings)[key])


def _default(settings: Settings, key: str) -> object:
    return type(settings).model_fields[_fields(settings)[key]].default


def host_user(settings: Settings) -> list[str]:
    if settings.host_user == ROOT_USER:
        return [
            f"{PROJECT}:hostUser = {ROOT_USER!r} is refused: the gateway and the backup unit would run as root "
            f"(user id 0) on a bare-metal host; give them a system user of their own, such as 'friday'"
        ]
    return []


def _kubernetes_own(name: str) -> bool:
    return name in KUBERNETES_NAMESPACES or name.startswith(KUBERNETES_PREFIX)


def namespaces(settings: Settings) -> list[str]:
    problems = []
    reserved_words = (
        f"a namespace Kubernetes itself uses ({', '.join(KUBERNETES_NAMESPACES)} and every name starting "
        f"with {KUBERNETES_PREFIX!r})"
    )
    if _kubernetes_own(settings.kubernetes_namespace):
        problems.append(
            f"{PROJECT}:kubernetesNamespace = {settings.kubernetes_namespace!r} is refused: it is {reserved_words}, "
            "and the stack owns its namespace (creates it, deletes it with the stack) and puts a default-deny "
            "NetworkPolicy on every pod in it; give the stack a namespace of its own, such as 'friday'"
        )
    if settings.kubernetes_monitoring_mode == "install" and _kubernetes_own(settings.kubernetes_monitoring_namespace):
        problems.append(
            f"{PROJECT}:kubernetesMonitoringNamespace = {settings.kubernetes_monitoring_namespace!r} is refused with "
            f"kubernetesMonitoringMode = 'install': it is {reserved_words}, and 'install' creates that namespace "
            "and installs the monitoring charts into it; use a namespace of its own, such as 'monitoring'"
        )
    roles = (
        ("kubernetesNamespace", settings.kubernetes_namespace, "the stack's own namespace"),
        ("kubernetesMonitoringNamespace", settings.kubernetes_monitoring_namespace, "where Prometheus runs"),
        ("kubernetesIngressNamespace", settings.kubernetes_ingress_namespace, "where the ingress controller runs"),
    )
    why = {
        ("kubernetesNamespace", "kubernetesMonitoringNamespace"): (
            "the stack's default-deny NetworkPolicy would cut Prometheus (and with 'install' the charts) off, "
            "and the stack would own the monitoring namespace"
        ),
        ("kubernetesNamespace", "kubernetesIngressNamespace"): (
            "the stack's default-deny NetworkPolicy would cut the ingress controller off, and every pod of "
            "the stack would be let in to the gateway as if it were the ingress controller"
        ),
        ("kubernetesMonitoringNamespace", "kubernetesIngressNamespace"): (
            "the gateway's NetworkPolicy would let every pod of the monitoring namespace (Grafana, Alloy, "
            "exporters) in to the gateway's API as if it were the ingress controller"
        ),
    }
    for i, (key, value, role) in enumerate(roles):
        for other_key, other_value, other_role in roles[i + 1 :]:
            if value == other_value:
                problems.append(
                    f"{PROJECT}:{key} and {PROJECT}:{other_key} are both {value!r}: one namespace for two roles "
                    f"({role}, {other_role}); {why[(key, other_key)]}; give each role its own namespace"
                )
    return problems


@dataclass(frozen=True)
class ImageNeed:
    """What the stack runs in an image needs at least this version of it (judged when the image is
    the known one: the repository's last part is `name`)."""

    image_key: str
    tag_key: str
    name: str
    minimum: tuple[int, int]
    why: str


# The backup tool's minimum: the newest standard-library name it uses (tests/unit/test_unsafe_settings.py
# checks this against infra/backup's imports).
BACKUP_MIN_PYTHON = (3, 11)
IMAGE_NEEDS = (
    ImageNeed(
        "backupImage",
        "backupTag",
        "python",
        BACKUP_MIN_PYTHON,
        "the backup tool (infra/backup, run with the image's python3) uses datetime.UTC, new in Python 3.11",
    ),
    ImageNeed(
        "metricsAuthImage",
        "metricsAuthTag",
        "caddy",
        (2, 6),
        "the metrics-auth Caddyfile uses directives of Caddy 2.6 and newer",
    ),
    ImageNeed(
        "proxyCaddyImage",
        "proxyCaddyTag",
        "caddy",
        (2, 6),
        "the proxy's and probe-auth's Caddyfiles use directives of Caddy 2.6 and newer (tls_trusted_ca_certs)",
    ),
    ImageNeed("lokiImage", "lokiTag", "loki", (3, 0), "the rendered Loki config is Loki 3's (tsdb index, schema v13)"),
    ImageNeed("alloyImage", "alloyTag", "alloy", (1, 0), "the rendered Alloy config is Alloy 1's syntax"),
)
_VERSION = re.compile(r"^v?([0-9]+)(?:\.([0-9]+))?")


def _too_old(tag: str, minimum: tuple[int, int]) -> str | None:
    """Why the tag is not known to carry `minimum` or newer; None when it does."""
    found = _VERSION.match(tag)
    if not found:
        return "it names no version"
    major = int(found.group(1))
    minor = int(found.group(2)) if found.group(2) is not None else None
    if major > minimum[0] or (major == minimum[0] and (minor is None or minor >= minimum[1])):
        return None
    shown = f"{major}.{minor}" if minor is not None else str(major)
    return f"it is version {shown}"


def image_versions(settings: Settings) -> list[str]:
    problems = []
    for need in IMAGE_NEEDS:
        image = str(_value(settings, need.image_key))
        if image.rsplit("/", 1)[-1] != need.name:
            continue
        tag = str(_value(settings, need.tag_key))
        reason = _too_old(tag, need.minimum)
        if reason:
            version = f"{need.minimum[0]}.{need.minimum[1]}"
            example = str(_default(settings, need.tag_key))
            problems.append(
                f"{PROJECT}:{need.tag_key} = {tag!r} is refused for {need.image_key} = {image!r}: {reason}, and "
                f"{need.why}; give a tag of version {version} or newer, such as {example!r}"
            )
    return problems


def refusals(settings: Settings) -> list[str]:
    """One line per refused choice (none can be forced)."""
    return host_user(settings) + namespaces(settings) + image_versions(settings)
