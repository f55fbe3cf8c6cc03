"""Read a stack's settings from `Pulumi.<stack>.yaml` or from the running Pulumi program.

Both paths produce the same `RawConfig` and go through `validate`, so `render`, the tests
and `pulumi up` accept and refuse exactly the same settings.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra import PROJECT, yamlio
from infra.settings.errors import SettingsError
from infra.settings.model import Settings
from infra.settings.secrets import AI_PROVIDER_KEYS, PROXY_TLS_KEYS, SECRETS_BY_KEY

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class RawConfig:
    """Our namespace's config of one stack: plain values, and which keys are secret."""

    stack: str
    plain: dict[str, Any] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def read_stack_file(path: Path, stack: str) -> RawConfig:
    """Parse a stack file; `{secure: ...}` values count as set secrets, never decrypted."""
    if not path.is_file():
        raise SettingsError(stack, [f"stack file {path} does not exist"])
    try:
        document = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise SettingsError(stack, [f"{path.name} is not valid YAML: {err}"]) from err
    if not isinstance(document, dict):
        raise SettingsError(stack, [f"{path.name} must be a mapping with a 'config:' key"])
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise SettingsError(stack, [f"{path.name}: 'config' must be a mapping"])
    plain: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for full_key, value in config.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != PROJECT:
            continue  # provider settings (docker:host, kubernetes:context) belong to the providers
        if isinstance(value, dict) and set(value) == {"secure"}:
            secret_keys.add(key)
        else:
            plain[key] = value
    return RawConfig(stack, plain, frozenset(secret_keys))


def from_config_env(stack: str, env: Mapping[str, str], secret_full_keys: set[str]) -> RawConfig:
    """Build RawConfig from what the Pulumi engine hands the program (all values are strings)."""
    plain: dict[str, Any] = {}
    secret_keys: set[str] = set()
    for full_key, value in env.items():
        namespace, _, key = full_key.partition(":")
        if namespace != PROJECT:
            continue
        if full_key in secret_full_keys:
            secret_keys.add(key)
        else:
            plain[key] = _decode(value)
    return RawConfig(stack, plain, frozenset(secret_keys))


def _decode(value: str) -> Any:
    # The engine JSON-encodes structured values; scalars stay strings that pydantic coerces.
    if value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            return value
    return value


def validate(raw: RawConfig) -> Settings:
    """Turn RawConfig into Settings, or raise SettingsError listing every problem."""
    problems: list[str] = []
    aliases = {f.alias or name for name, f in Settings.model_fields.items()}
    known = aliases | set(SECRETS_BY_KEY)
    values = {}
    for key, value in raw.plain.items():
        if key in SECRETS_BY_KEY:
            problems.append(
                f"{PROJECT}:{key} is a secret but is stored in plain text; remove it and run "
                f"`pulumi config set --secret {PROJECT}:{key} --stack {raw.stack}`"
            )
        elif key not in aliases:
            problems.append(_unknown(key, known))
        else:
            values[key] = value
    for key in sorted(raw.secret_keys - set(SECRETS_BY_KEY)):
        if key in aliases:
            problems.append(f"{PROJECT}:{key} is not a secret; set it in plain text (without --secret)")
        else:
            problems.append(_unknown(key, known))
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(values)
    except ValidationError as err:
        problems.extend(_describe(err, values))
    if problems or settings is None:
        raise SettingsError(raw.stack, problems)
    settings._stack = raw.stack
    settings._secrets_set = raw.secret_keys
    return settings


def _unknown(key: str, known: set[str]) -> str:
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {PROJECT}:{close[0]}?" if close else "; see the settings reference in README.md"
    return f"{PROJECT}:{key} is not a known setting{hint}"


def _describe(err: ValidationError, values: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    by_key: dict[str, list[str]] = {}
    for item in err.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        msg = item["msg"].removeprefix("Value error, ")
        if not loc:  # a cross-field check
            out.append(msg)
        else:  # a union (IPv4 | IPv6) fails once per member: one line per key
            by_key.setdefault(loc[0], []).append(msg)
    for key, msgs in by_key.items():
        shown = repr(values[key]) if key in values else "(not set)"
        out.append(f"{PROJECT}:{key} = {shown}: {'; '.join(dict.fromkeys(msgs))}")
    return out


def load_stack(stack: str, root: Path = REPO_ROOT) -> Settings:
    """Settings of a stack straight from its stack file (render, tests)."""
    return validate(read_stack_file(stack_file(stack, root), stack))


def missing_required_secrets(settings: Settings) -> list[str]:
    """Secrets a deployment cannot start without (the AI provider's key, the proxy's certificate)."""
    needed = {AI_PROVIDER_KEYS[settings.ai_provider]: f"aiProvider = {settings.ai_provider!r}"}
    if settings.proxy_enabled and settings.proxy_tls_source == "secrets":
        needed.update(dict.fromkeys(PROXY_TLS_KEYS, "proxyEnabled = true and proxyTlsSource = 'secrets'"))
    return [
        f"{PROJECT}:{key} is required because {why}; set it with "
        f"`pulumi config set --secret {PROJECT}:{key} --stack {settings.stack}`"
        for key, why in needed.items()
        if key not in settings.secrets_set
    ]
