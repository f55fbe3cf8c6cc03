"""Remote-write targets: where Prometheus also sends every sample (a store for a fleet of stacks).

`friday:remoteWrite` is a YAML list, one mapping per target:

    friday:remoteWrite:
      - name: mimir                 # letters and digits, unique: the queue's name and its secret's entry
        url: https://mimir.example.org/api/v1/push
        auth: basic                 # none (default), basic or bearer
        username: tenant-1          # basic only
        queue: {maxShards: 20}      # optional: Prometheus' queue_config, camelCase; defaults below

The credential (basic-auth password or bearer token) of every target with auth is one entry of the
secret `friday:remoteWriteCredentials`, a JSON object `{"<name>": "<credential>"}`; each target's
credential reaches Prometheus as a file of its own (`password_file` / `credentials_file`), never inline
in the rendered configuration. Each entry becomes a secret of its own in the program and in `render`:
`credential_key(name)`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, Any

from pydantic import BeforeValidator, Field

from infra import PROJECT
from infra.settings import grammar
from infra.settings.base import SettingsGroup

KEY = "remoteWrite"
CREDENTIALS_KEY = "remoteWriteCredentials"
AUTH_KINDS = ("none", "basic", "bearer")
MAX_TARGETS = 10
_NAME = re.compile(r"^[a-z][a-z0-9]{0,30}$")
_USERNAME = re.compile(r"^[A-Za-z0-9@._:-]{1,128}$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# Prometheus 3.x's queue_config defaults (Debian's 2.42 has capacity 2500, max_shards 200 and
# max_samples_per_send 500, read from its /api/v1/status/config), written out in full so a stack's
# queue behaves the same on every Prometheus version it runs on.
QUEUE_DEFAULTS: dict[str, int | str] = {
    "capacity": 10000,
    "maxShards": 50,
    "minShards": 1,
    "maxSamplesPerSend": 2000,
    "batchSendDeadline": "5s",
    "minBackoff": "30ms",
    "maxBackoff": "5s",
}
_QUEUE_LIMITS = {"capacity": (1, 1_000_000), "maxShards": (1, 1000), "minShards": (1, 1000)}
_QUEUE_LIMITS["maxSamplesPerSend"] = (1, 100_000)
# Prometheus' queue_config keys for the settings' camelCase ones.
PROMETHEUS_QUEUE_KEYS = {
    "capacity": "capacity",
    "maxShards": "max_shards",
    "minShards": "min_shards",
    "maxSamplesPerSend": "max_samples_per_send",
    "batchSendDeadline": "batch_send_deadline",
    "minBackoff": "min_backoff",
    "maxBackoff": "max_backoff",
}
_TARGET_KEYS = ("name", "url", "auth", "username", "queue")


@dataclass(frozen=True)
class RemoteWriteTarget:
    name: str
    url: str
    auth: str = "none"
    username: str = ""
    queue: Mapping[str, int | str] = field(default_factory=lambda: dict(QUEUE_DEFAULTS))

    @property
    def credential_key(self) -> str | None:
        return credential_key(self.name) if self.auth != "none" else None

    @property
    def host(self) -> str:
        authority = re.split(r"[/?#]", self.url.partition("://")[2], maxsplit=1)[0]
        if authority.startswith("["):
            return authority[: authority.find("]") + 1]
        return authority.rpartition(":")[0] if ":" in authority else authority

    @property
    def loopback(self) -> bool:
        return self.host in LOOPBACK_HOSTS or self.host.startswith("127.")


def credential_key(name: str) -> str:
    """The secret standing for one target's credential: an entry of remoteWriteCredentials."""
    return CREDENTIALS_KEY + name[:1].upper() + name[1:]


def target_of_credential_key(key: str) -> str | None:
    """The target name a credential key stands for, or None when key is not one."""
    rest = key.removeprefix(CREDENTIALS_KEY)
    if rest == key or not rest or not rest[0].isupper():
        return None
    name = rest[0].lower() + rest[1:]
    return name if _NAME.match(name) else None


def _duration(where: str, key: str, value: object) -> str:
    text = str(value)
    try:
        positive = isinstance(value, str) and grammar.parse_duration(text) > 0
    except ValueError:
        positive = False
    if not positive:
        raise ValueError(f"{where}: queue.{key} = {text!r} must be a Prometheus duration above zero, such as '5s'")
    return text


def _integer(where: str, key: str, value: object) -> int:
    low, high = _QUEUE_LIMITS[key]
    if isinstance(value, str) and re.fullmatch(r"[0-9]+", value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{where}: queue.{key} = {value!r} must be a whole number from {low} to {high}")
    return value


def _queue(where: str, value: object) -> dict[str, int | str]:
    if value is None:
        return dict(QUEUE_DEFAULTS)
    if not isinstance(value, dict):
        raise ValueError(f"{where}: queue must be a mapping of {', '.join(QUEUE_DEFAULTS)}")
    unknown = [k for k in value if k not in QUEUE_DEFAULTS]
    if unknown:
        raise ValueError(f"{where}: queue has {unknown[0]!r}; allowed: {', '.join(QUEUE_DEFAULTS)}")
    queue = dict(QUEUE_DEFAULTS)
    for key, given in value.items():
        queue[key] = _integer(where, key, given) if key in _QUEUE_LIMITS else _duration(where, key, given)
    if int(queue["minShards"]) > int(queue["maxShards"]):
        raise ValueError(f"{where}: queue.minShards = {queue['minShards']} exceeds maxShards = {queue['maxShards']}")
    return queue


def _target(index: int, item: object) -> RemoteWriteTarget:
    where = f"target {index + 1}"
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be a mapping with name and url (and auth, username, queue)")
    name = item.get("name")
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(
            f"{where}: name = {name!r} must be 1 to 31 lowercase letters and digits, starting with a letter "
            "(such as 'mimir')"
        )
    where = f"target {index + 1} ({name!r})"
    unknown = [k for k in item if k not in _TARGET_KEYS]
    if unknown:
        raise ValueError(f"{where} has {unknown[0]!r}; allowed: {', '.join(_TARGET_KEYS)}")
    url = item.get("url")
    problem = "must be given" if not isinstance(url, str) else grammar.url_problem(url, ("https", "http"), path=True)
    if problem:
        raise ValueError(f"{where}: url = {url!r} {problem}")
    auth = item.get("auth", "none")
    if auth not in AUTH_KINDS:
        raise ValueError(f"{where}: auth = {auth!r}; allowed: {', '.join(AUTH_KINDS)}")
    username = item.get("username", "")
    if auth == "basic" and (not isinstance(username, str) or not _USERNAME.match(username)):
        raise ValueError(
            f"{where}: auth = 'basic' needs username (1 to 128 letters, digits and @._:-), not {username!r}"
        )
    if auth != "basic" and username:
        raise ValueError(f"{where}: username = {username!r} is only for auth = 'basic' (auth is {auth!r})")
    assert isinstance(url, str) and isinstance(username, str)
    return RemoteWriteTarget(name, url, str(auth), username, _queue(where, item.get("queue")))


def parse(value: Any) -> tuple[RemoteWriteTarget, ...]:
    """The validated targets of a remoteWrite value (a list of mappings), or ValueError naming what is wrong."""
    if isinstance(value, tuple) and all(isinstance(t, RemoteWriteTarget) for t in value):
        return value
    if not isinstance(value, list):
        raise ValueError("must be a YAML list of targets (name, url, auth, username, queue)")
    if len(value) > MAX_TARGETS:
        raise ValueError(f"has {len(value)} targets; at most {MAX_TARGETS}")
    targets = tuple(_target(i, item) for i, item in enumerate(value))
    names = [t.name for t in targets]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ValueError(f"the name {twice[0]!r} is given to two targets; names must be unique")
    return targets


def insecure(targets: tuple[RemoteWriteTarget, ...], development: bool) -> list[str]:
    """Targets that would send samples (and a credential) in clear text off this host."""
    if development:
        return []
    return [
        f"{PROJECT}:{KEY}: target {t.name!r} has url {t.url!r}: outside development environments remote write "
        "must use https:// unless its host is loopback (localhost, 127.0.0.1, [::1])"
        for t in targets
        if t.url.startswith("http://") and not t.loopback
    ]


def credential_problems(targets: tuple[RemoteWriteTarget, ...], value: str | None) -> list[str]:
    """What is wrong with the credentials secret's value for these targets; never shows a value."""
    needed = sorted(t.name for t in targets if t.auth != "none")
    if value is None:
        return []
    hidden = "(the value itself is not shown)"
    try:
        document = json.loads(value)
    except json.JSONDecodeError:
        return [f'{PROJECT}:{CREDENTIALS_KEY} must be a JSON object {{"<target name>": "<credential>"}} {hidden}']
    if not isinstance(document, dict):
        return [f'{PROJECT}:{CREDENTIALS_KEY} must be a JSON object {{"<target name>": "<credential>"}} {hidden}']
    problems = []
    for name in needed:
        credential = document.get(name)
        if not isinstance(credential, str) or not credential.strip():
            problems.append(f"{PROJECT}:{CREDENTIALS_KEY} has no credential for remote-write target {name!r} {hidden}")
        elif credential != credential.strip() or "\n" in credential:
            problems.append(
                f"{PROJECT}:{CREDENTIALS_KEY}: the credential of {name!r} has surrounding spaces or a line break "
                f"(Prometheus trims them from the file) {hidden}"
            )
    extra = sorted(set(document) - set(needed))
    if extra:
        problems.append(
            f"{PROJECT}:{CREDENTIALS_KEY} has entries for {', '.join(map(repr, extra))}, which are no remote-write "
            f"target with auth basic or bearer (targets with auth: {', '.join(map(repr, needed)) or 'none'})"
        )
    return problems


def credential_of(value: str, name: str) -> str:
    """One target's credential from the secret's (validated) value."""
    credential = json.loads(value)[name]
    assert isinstance(credential, str)
    return credential


RemoteWriteTargets = Annotated[tuple[RemoteWriteTarget, ...], BeforeValidator(parse)]


class RemoteWriteSettings(SettingsGroup):
    remote_write: RemoteWriteTargets = Field(
        (),
        description="Remote-write targets Prometheus also sends every sample to (a store for a fleet of stacks: "
        "Mimir, Thanos Receive, VictoriaMetrics): a YAML list of {name, url, auth (none, basic or bearer), username, "
        "queue: {capacity, maxShards, minShards, maxSamplesPerSend, batchSendDeadline, minBackoff, maxBackoff}}; "
        "https outside development unless loopback; credentials in the secret remoteWriteCredentials "
        "(docs/monitoring.md#remote-write).",
    )


def check(targets: tuple[RemoteWriteTarget, ...], development: bool, target: str, monitoring_mode: str) -> list[str]:
    """Cross-setting refusals: clear text off the host, a Prometheus the stack does not own."""
    problems = insecure(targets, development)
    if targets and target == "kubernetes" and monitoring_mode == "existing":
        problems.append(
            f"{PROJECT}:{KEY} is set, but kubernetesMonitoringMode = 'existing': the cluster's Prometheus is not "
            "the stack's to configure; add the targets to its own kube-prometheus-stack values "
            "(prometheus.prometheusSpec.remoteWrite), or set kubernetesMonitoringMode = 'install'"
        )
    return problems
