"""Read a stack's settings from `Pulumi.<stack>.yaml` or from the running Pulumi program.

Both paths produce the same `RawConfig` and go through `validate`, so `render`, the tests
and `pulumi up` accept and refuse exactly the same settings.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from infra import PROJECT
from infra.settings import bounded, hazards, pattern_words, remote_write, safeguards
from infra.settings.errors import SettingsError
from infra.settings.model import Settings
from infra.settings.offsite import missing_offsite_secrets
from infra.settings.secrets import AI_PROVIDER_KEYS, PROXY_TLS_KEYS, SECRETS_BY_KEY
from infra.settings.values import YAML_KINDS, Entry, coerce

REPO_ROOT = Path(__file__).resolve().parents[2]


# Config namespaces that belong to the Pulumi providers this program uses (docker:host,
# kubernetes:context...); any other namespace in a stack file is a mistake.
PROVIDER_NAMESPACES = ("pulumi", "docker", "kubernetes", "random", "tls")
# Top-level keys Pulumi itself writes into a stack file; settings live under `config:`.
STACK_FILE_KEYS = ("config", "secretsprovider", "encryptedkey", "encryptionsalt", "environment")


@dataclass(frozen=True)
class RawConfig:
    """Our namespace's config of one stack: plain values, and which keys are secret."""

    stack: str
    # key -> Entry (text as the engine passes it) or a plain Python value (as YAML would give it)
    plain: dict[str, Any] = field(default_factory=dict)
    secret_keys: frozenset[str] = frozenset()
    source: str | None = None  # the stack file's name, for messages
    lines: Mapping[str, int] = field(default_factory=dict)  # key -> line in the stack file
    problems: tuple[str, ...] = ()  # found while reading: structure, namespaces, duplicate keys
    providers: Mapping[str, Any] = field(default_factory=dict)  # other namespaces' values (docker:host)

    def where(self, key: str) -> str:
        line = self.lines.get(key)
        return f"{self.source} line {line}: " if self.source and line else ""


def stack_file(stack: str, root: Path = REPO_ROOT) -> Path:
    return root / f"Pulumi.{stack}.yaml"


def check_project_file(root: Path, stack: str) -> None:
    """Pulumi.yaml beside the stack file must exist and be this project's (name and runtime)."""
    path = root / "Pulumi.yaml"
    try:
        document = bounded.load(bounded.read_file(path, "Pulumi.yaml").decode("utf-8"))
    except FileNotFoundError:
        raise SettingsError(stack, [f"{path} does not exist: run this in the friday-infra folder"]) from None
    except bounded.HostileInputError as err:
        raise SettingsError(stack, [f"{path} is refused: {err}"]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SettingsError(stack, [f"{path} cannot be read as YAML ({type(err).__name__})"]) from None
    name = document.get("name") if isinstance(document, dict) else None
    if name != PROJECT:
        raise SettingsError(
            stack, [f"{path} is not this project's: its name is {name!r}, not {PROJECT!r} (a foreign Pulumi.yaml)"]
        )


def split_key(full_key: str) -> tuple[str | None, str | None]:
    """(our key, None) for `friday:KEY`, (None, None) for a provider's key, (None, problem) otherwise."""
    namespace, colon, key = full_key.partition(":")
    if not colon:
        return None, f"config key {full_key!r} has no namespace; write {PROJECT}:{full_key}"
    if namespace == PROJECT:
        return key, None
    if namespace in PROVIDER_NAMESPACES:
        return None, None
    if namespace.lower() == PROJECT:
        return None, f"{full_key}: the project prefix must be spelled exactly {PROJECT!r} (case matters)"
    close = difflib.get_close_matches(namespace, [PROJECT], n=1, cutoff=0.6)
    hint = f"; did you mean {PROJECT}:{key}?" if close else ""
    return None, (
        f"{full_key}: {namespace!r} is neither this project ({PROJECT}) nor a provider it uses "
        f"({', '.join(PROVIDER_NAMESPACES)}){hint}"
    )


def read_stack_file(path: Path, stack: str) -> RawConfig:
    """Parse a stack file; `{secure: ...}` values count as set secrets, never decrypted."""
    text = _read_text(path, stack)
    name = path.name
    try:
        document = bounded.compose(text)
    except bounded.HostileInputError as err:
        raise SettingsError(stack, [f"{name} is refused: {err}"]) from None
    except yaml.YAMLError as err:
        raise SettingsError(stack, [f"{name} is not valid YAML: {err}"]) from err
    if document is None:
        return RawConfig(stack, source=name)
    if not isinstance(document, yaml.MappingNode):
        raise SettingsError(stack, [f"{name} must be a mapping with a 'config:' key"])
    problems = _duplicate_keys(document, name)
    config: yaml.Node | None = None
    for key_node, value_node in document.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key == "config":
            config = value_node
        elif key not in STACK_FILE_KEYS:
            problems.append(
                f"{name} line {_line(key_node)}: top-level key {key!r} is not part of a Pulumi stack file "
                f"(allowed: {', '.join(STACK_FILE_KEYS)}); settings go under 'config:' as {PROJECT}:KEY"
            )
    if config is not None and not _is_null(config):
        if not isinstance(config, yaml.MappingNode):
            raise SettingsError(stack, [f"{name} line {_line(config)}: 'config' must be a mapping"])
        return _config(config, stack, name, problems)
    return RawConfig(stack, source=name, problems=tuple(problems))


def _config(config: yaml.MappingNode, stack: str, name: str, problems: list[str]) -> RawConfig:
    plain: dict[str, Any] = {}
    secret_keys: set[str] = set()
    lines: dict[str, int] = {}
    providers: dict[str, Any] = {}
    for key_node, value_node in config.value:
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append(f"{name} line {_line(key_node)}: a config key must be a plain name")
            continue
        full_key = key_node.value
        key, problem = split_key(full_key)
        if problem:
            problems.append(f"{name} line {_line(key_node)}: {problem}")
            continue
        if key is None:
            providers[full_key] = _python(value_node)
            continue
        lines[key] = _line(key_node)
        if _is_secure(value_node):
            secret_keys.add(key)
        else:
            plain[key] = _entry(value_node)
    return RawConfig(stack, plain, frozenset(secret_keys), name, lines, tuple(problems), providers)


def _read_text(path: Path, stack: str) -> str:
    try:
        return bounded.read_file(path, "stack file").decode("utf-8")
    except bounded.HostileInputError as err:
        raise SettingsError(stack, [f"stack file {err}"]) from None
    except FileNotFoundError:
        problem = "does not exist"
    except IsADirectoryError:
        problem = "is a folder, not a stack file"
    except PermissionError:
        problem = "cannot be read (permission denied)"
    except UnicodeDecodeError as err:
        problem = f"is not UTF-8 text (byte {err.start} cannot be decoded); save it as UTF-8"
    except OSError as err:
        problem = f"cannot be read ({err.strerror})"
    raise SettingsError(stack, [f"stack file {path} {problem}"])


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _is_null(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _is_secure(node: yaml.Node) -> bool:
    return (
        isinstance(node, yaml.MappingNode)
        and len(node.value) == 1
        and isinstance(node.value[0][0], yaml.ScalarNode)
        and node.value[0][0].value == "secure"
    )


def _entry(node: yaml.Node) -> Entry:
    if isinstance(node, yaml.ScalarNode):
        kind = YAML_KINDS.get(node.tag) if node.style is None else None
        # The engine reads a null as the empty string; everything else as the text written.
        return Entry("" if kind == "null" else node.value, _line(node), kind)
    return Entry(_python(node), _line(node))


def _python(node: yaml.Node) -> Any:
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _duplicate_keys(node: yaml.Node, name: str) -> list[str]:
    """Every key given twice in one mapping, anywhere in the document (YAML loaders keep the last silently)."""
    problems: list[str] = []
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode):
                if key_node.value in seen:
                    problems.append(
                        f"{name} line {_line(key_node)}: key {key_node.value!r} is given twice (first on line "
                        f"{seen[key_node.value]}); keep one"
                    )
                seen.setdefault(key_node.value, _line(key_node))
            problems.extend(_duplicate_keys(value_node, name))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            problems.extend(_duplicate_keys(item, name))
    return problems


def from_config_env(stack: str, env: Mapping[str, str], secret_full_keys: set[str]) -> RawConfig:
    """Build RawConfig from what the Pulumi engine hands the program (all values are strings)."""
    plain: dict[str, Any] = {}
    secret_keys: set[str] = set()
    problems: list[str] = []
    providers: dict[str, Any] = {}
    for full_key, value in env.items():
        key, problem = split_key(full_key)
        if len(value) > bounded.MAX_FILE_BYTES:
            problems.append(
                f"{full_key}: the engine passed a value of {len(value):,} characters; at most "
                f"{bounded.MAX_FILE_BYTES:,} are read (a stack file may not be larger)"
            )
        elif problem:
            problems.append(problem)
        elif key is None:
            providers[full_key] = value
        elif full_key in secret_full_keys:
            secret_keys.add(key)
        else:
            plain[key] = Entry(value)
    return RawConfig(stack, plain, frozenset(secret_keys), problems=tuple(problems), providers=providers)


def validate(raw: RawConfig) -> Settings:
    """Turn RawConfig into Settings, or raise SettingsError listing every problem."""
    problems: list[str] = list(raw.problems)
    fields = {f.alias or name: f for name, f in Settings.model_fields.items()}
    known = set(fields) | set(SECRETS_BY_KEY)
    values: dict[str, Any] = {}
    entries: dict[str, Entry] = {}
    for key, value in raw.plain.items():
        where = raw.where(key)
        if key in SECRETS_BY_KEY:
            problems.append(
                f"{where}{PROJECT}:{key} is a secret but is stored in plain text; remove it and run "
                f"`pulumi config set --secret {PROJECT}:{key} --stack {raw.stack}`"
            )
        elif key not in fields:
            problems.append(where + _unknown(key, known))
        else:
            entry = entries[key] = Entry.of(value)
            try:
                values[key] = coerce(entry, fields[key], f"{PROJECT}:{key}")
            except ValueError as err:
                problems.append(f"{where}{PROJECT}:{key} = {entry.shown()}: {err}")
    for key in sorted(raw.secret_keys - set(SECRETS_BY_KEY)):
        if key in fields:
            problems.append(f"{raw.where(key)}{PROJECT}:{key} is not a secret; set it in plain text (without --secret)")
        else:
            problems.append(raw.where(key) + _unknown(key, known))
    settings: Settings | None = None
    try:
        settings = Settings.model_validate(values)
    except ValidationError as err:
        # Checks across settings are only meaningful once every single value is right.
        problems.extend(_describe(err, entries, raw, cross_checks=not problems))
    if settings is not None and not problems:
        problems.extend(hazards.refusals(settings))
        problems.extend(safeguards.refusals(settings))
    if problems or settings is None:
        raise SettingsError(raw.stack, problems)
    settings._stack = raw.stack
    settings._secrets_set = raw.secret_keys
    return settings


# Settings that were replaced: what to write instead.
REPLACED = {
    "swaggerUiForce": f"add 'swagger-ui' to {PROJECT}:force instead",
    "grafanaAnonymousForce": f"add 'anonymous-grafana' to {PROJECT}:force instead",
}


def _unknown(key: str, known: set[str]) -> str:
    if key in REPLACED:
        return f"{PROJECT}:{key} is no longer a setting; {REPLACED[key]}"
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.6)
    hint = f"; did you mean {PROJECT}:{close[0]}?" if close else "; see the settings reference in README.md"
    return f"{PROJECT}:{key} is not a known setting{hint}"


def _describe(err: ValidationError, entries: Mapping[str, Entry], raw: RawConfig, cross_checks: bool) -> list[str]:
    out: list[str] = []
    by_key: dict[str, list[str]] = {}
    for item in err.errors(include_url=False):
        loc = [str(p) for p in item["loc"]]
        msg = item["msg"].removeprefix("Value error, ")
        if item["type"] == "string_pattern_mismatch":  # said in words, never as the bare expression
            msg = "must be " + pattern_words.words(str((item.get("ctx") or {}).get("pattern", "")))
        if not loc:  # a cross-field check
            if cross_checks:
                out.append(msg)
        else:  # a union (IPv4 | IPv6) fails once per member: one line per key
            by_key.setdefault(loc[0], []).append(msg)
    for key, msgs in by_key.items():
        shown = entries[key].shown() if key in entries else "(not set)"
        out.append(f"{raw.where(key)}{PROJECT}:{key} = {shown}: {'; '.join(dict.fromkeys(msgs))}")
    return out


def load_stack(stack: str, root: Path = REPO_ROOT) -> Settings:
    """Settings of a stack straight from its stack file (render, tests)."""
    return validate(read_stack_file(stack_file(stack, root), stack))


def missing_required_secrets(settings: Settings) -> list[str]:
    """Secrets a deployment cannot start without (the AI provider's key, the proxy's certificate)."""
    needed = {AI_PROVIDER_KEYS[settings.ai_provider]: f"aiProvider = {settings.ai_provider!r}"}
    if settings.proxy_enabled and settings.proxy_tls_source == "secrets":
        needed.update(dict.fromkeys(PROXY_TLS_KEYS, "proxyEnabled = true and proxyTlsSource = 'secrets'"))
    with_auth = [t.name for t in settings.remote_write if t.auth != "none"]
    if with_auth:
        needed[remote_write.CREDENTIALS_KEY] = f"remoteWrite targets {', '.join(map(repr, with_auth))} have auth"
    needed.update(dict.fromkeys(missing_offsite_secrets(settings), "backupOffsiteEnabled = true"))
    return [
        f"{PROJECT}:{key} is required because {why}; set it with "
        f"`pulumi config set --secret {PROJECT}:{key} --stack {settings.stack}`"
        for key, why in needed.items()
        if key not in settings.secrets_set
    ]
