"""Every check a deploy must pass, in one function: `check --deployable` and `pulumi up` both call
`preflight`, so the two can never disagree.

1. The stack file, read strictly (keys, lines, duplicates, values as YAML reads them).
2. Under `pulumi up`, also the values as the engine hands them to the program (strings).
3. Facts of this machine for a Docker target on it (the socket's group), at deploy time only: under
   `pulumi up` and `check --deployable`. Plain `check` (like `render`) reads the stack file alone, so
   its output is the same on any machine.
4. What a deploy needs beyond valid settings: the required secrets, their values (lengths, the
   proxy's certificate and key).
5. What the stack hands the gateway (config file, environment, flags on every target), judged by the
   gateway's own config code run with node where a build of its source can be had
   (infra/gateway_config); where not, a warning says it did not run and why.
6. The rendered artefacts handed to their real consumers where installed (infra/consumers.py):
   promtool, amtool, nginx -t / caddy validate, systemd-analyze verify, openssl. A refusal is a
   blocker; a tool not installed is listed in `not_run`.
Published host ports already taken here are warnings: the deploy may be replacing its own containers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from infra import PROJECT, consumers, render
from infra.gateway_config import check as gateway_check
from infra.gateway_config import handoffs
from infra.settings import Settings, grammar, missing_required_secrets, remote_write, validate
from infra.settings.load import check_project_file, from_config_env, read_stack_file, stack_file
from infra.settings.secrets import PROXY_TLS_KEYS, SECRETS_BY_KEY
from infra.stack import build_stack
from infra.stack.spec import StackSpec
from infra.targets import registry

PULUMI_CLI_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class EngineConfig:
    """What the Pulumi engine hands the program: every value as a string, and which keys are secret."""

    values: Mapping[str, str]
    secret_keys: frozenset[str]


@dataclass
class Outcome:
    settings: Settings
    spec: StackSpec
    blockers: list[str] = field(default_factory=list)  # why a deploy would be refused
    warnings: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)  # checks by outside tools that ran
    not_run: list[str] = field(default_factory=list)  # outside tools that are not installed here


def preflight(
    stack: str,
    root: Path,
    engine: EngineConfig | None = None,
    *,
    secret_values: Mapping[str, str] | None = None,
    no_values_because: str = "they were not asked for",
    gateway_config: bool = True,
    this_machine: bool | None = None,
) -> Outcome:
    """Settings of the stack and what stands between them and a deploy. Bad settings raise SettingsError.

    engine: the config under `pulumi up`; None for `check`, which reads the stack file only and takes
    the secrets' values from secret_values (decrypted by the Pulumi CLI) when it has them.
    gateway_config: run the gateway's own config validation and the rendered artefacts' consumers
    (`check` without --deployable does not).
    this_machine: read this machine's facts (the Docker socket's group, ports in use); default: under
    `pulumi up` (engine given). Without them the output depends on the stack file only.
    """
    raw = read_stack_file(stack_file(stack, root), stack)
    check_project_file(root, stack)
    settings = validate(raw)
    providers = dict(raw.providers)
    if engine is not None:
        from_engine = from_config_env(stack, engine.values, set(engine.secret_keys))
        settings = validate(from_engine)  # what the engine passes is what gets deployed
        providers.update(from_engine.providers)
        secret_values = {k.partition(":")[2]: v for k, v in engine.values.items() if k in engine.secret_keys}
    if this_machine is None:
        this_machine = engine is not None
    blockers: list[str] = []
    target = registry.deployed(settings)
    if this_machine:
        settings, blockers = target.machine_facts(settings, providers)
    spec = build_stack(settings)
    blockers = missing_required_secrets(settings) + blockers
    if secret_values is None:
        if settings.secrets_set:
            blockers.append(
                f"the secrets' values were not checked ({no_values_because}): `check --deployable` decrypts them "
                f"with `pulumi config --show-secrets --json --stack {stack}` (Pulumi CLI, PULUMI_CONFIG_PASSPHRASE)"
            )
    else:
        blockers += secret_value_problems(settings, secret_values)
    warnings = []
    if this_machine:
        warnings = target.machine_warnings(spec, providers)
    checked = []
    if gateway_config:
        refused, not_run = gateway_check.problems(handoffs(settings))
        blockers += refused
        if not_run:
            warnings.append(f"the gateway's own config validation did not run: {not_run}")
        else:
            checked.append("the gateway's own config code (loadConfig, validateSecrets) on every target's hand-off")
    tools_missing: list[str] = []
    if gateway_config:
        report = consumers.run_consumers(settings, render.artefacts(settings), secret_values)
        blockers += report.refused
        warnings += report.warnings
        checked += report.checked
        tools_missing = report.not_run
    return Outcome(settings, spec, blockers, warnings, checked, tools_missing)


# Receiver URLs kept as secrets (they carry tokens): https wherever the secret travels off the host;
# a development stack may post to a plain-http webhook (a local receiver).
SECRET_URLS = ("alertWebhookUrl", "alertSlackUrl", "alertHeartbeatUrl")


def _url_problem(settings: Settings, key: str, value: str) -> str | None:
    if key == "alertWebhookUrl" and settings.is_development:
        return grammar.url_problem(value, ("https", "http"), path=True)
    return grammar.url_problem(value, ("https",), path=True)


def secret_value_problems(settings: Settings, values: Mapping[str, str]) -> list[str]:
    """Secrets too short to be safe, and a proxy certificate that would fail; never shows a value."""
    problems = []
    for key in sorted(settings.secrets_set):
        spec = SECRETS_BY_KEY[key]
        value = values.get(key, "")
        if len(value) < spec.min_length:
            problems.append(
                f"{PROJECT}:{key} must be at least {spec.min_length} characters "
                f"(it has {len(value)}; the value itself is not shown)"
            )
        elif key in SECRET_URLS and (problem := _url_problem(settings, key, value)):
            problems.append(f"{PROJECT}:{key} {problem} (the value itself is not shown)")
        elif key == remote_write.CREDENTIALS_KEY:
            problems += remote_write.credential_problems(settings.remote_write, value)
    cert_key, key_key = PROXY_TLS_KEYS
    if (
        settings.proxy_enabled
        and settings.proxy_tls_source == "secrets"
        and cert_key in settings.secrets_set
        and key_key in settings.secrets_set
    ):
        # Imported only when a certificate is to be checked: cryptography is a slow import for
        # every `check` and `render` that has none.
        from infra import tls_check

        problems += tls_check.problems(values.get(cert_key, ""), values.get(key_key, ""), settings.proxy_server_name)
    return problems


def secrets_from_pulumi_cli(stack: str, root: Path) -> tuple[dict[str, str] | None, str | None]:
    """The stack's decrypted secrets from `pulumi config --show-secrets --json`, or why they are not there."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        return None, "no Pulumi CLI on PATH"
    try:
        done = subprocess.run(
            [pulumi, "config", "--show-secrets", "--json", "--stack", stack],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=PULUMI_CLI_TIMEOUT_SECONDS,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"`pulumi config` did not answer within {PULUMI_CLI_TIMEOUT_SECONDS}s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"`pulumi config` failed: {last}"
    try:
        listed = json.loads(done.stdout)
        return {
            k.partition(":")[2]: str(v["value"])
            for k, v in listed.items()
            if k.startswith(f"{PROJECT}:") and v.get("secret")
        }, None
    except (json.JSONDecodeError, AttributeError, KeyError, TypeError):
        return None, "`pulumi config --json` printed something that is not its JSON listing"
