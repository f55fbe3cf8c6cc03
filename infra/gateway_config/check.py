"""Run the real gateway's config code (validate.mjs, with node) on a stack's hand-offs.

The gateway comes from scripts/build-gateway.sh: FRIDAY_GATEWAY_BUILD names a build folder, else
the script builds (or finds in its cache) one from FRIDAY_GATEWAY_SOURCE or ../shared/upstream/
(docs/real-gateway.md). Where neither works (no source, no Node), the check says it did not run and
why: it never passes silently.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.gateway_config.handoff import Handoff

VALIDATOR = Path(__file__).with_name("validate.mjs")
BUILD_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build-gateway.sh"
BUILD_ENV = "FRIDAY_GATEWAY_BUILD"
BUILD_TIMEOUT_S = 1800
NODE_TIMEOUT_S = 60
ENTRY = "app/packages/core/dist/config/loader.js"


@dataclass(frozen=True)
class Verdict:
    where: str
    ok: bool
    error: str | None


@functools.cache
def locate_build() -> tuple[Path | None, str]:
    """(the build folder, "") or (None, why there is none). Builds once per process at most."""
    named = os.environ.get(BUILD_ENV)
    if named:
        path = Path(named)
        if (path / ENTRY).is_file() and (path / "node").is_file():
            return path, ""
        return None, f"{BUILD_ENV}={named} is not a gateway build folder (no node and {ENTRY})"
    if not BUILD_SCRIPT.is_file():
        return None, f"{BUILD_SCRIPT} is missing"
    try:
        done = subprocess.run([str(BUILD_SCRIPT)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return None, f"scripts/build-gateway.sh did not finish within {BUILD_TIMEOUT_S}s"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"the real gateway could not be built here: {last.removeprefix('error: ')}"
    return Path(done.stdout.strip().splitlines()[-1]), ""


def validate(build: Path, handoffs: Sequence[Handoff]) -> list[Verdict]:
    """The gateway's loadConfig + validateSecrets on each hand-off, in one node process (once per
    distinct set of hand-offs in a process: the answer depends on nothing else)."""
    key = json.dumps([[h.where, h.config_yaml, h.env, list(h.args)] for h in handoffs], sort_keys=True)
    return list(_validate(build, key))


@functools.lru_cache(maxsize=256)
def _validate(build: Path, key: str) -> tuple[Verdict, ...]:
    with tempfile.TemporaryDirectory(prefix="friday-gateway-config-") as tmp:
        items = []
        for i, (where, config_yaml, env, handoff_args) in enumerate(json.loads(key)):
            path = Path(tmp) / f"config-{i}.yaml"
            path.write_text(config_yaml, encoding="utf-8")
            args = list(handoff_args)
            for flag in ("--config", "-c"):
                if flag in args[:-1]:  # the file named on the target is this copy here
                    args[args.index(flag) + 1] = str(path)
            items.append({"where": where, "configPath": str(path), "env": env, "args": args})
        done = subprocess.run(
            [str(build / "node"), str(VALIDATOR), str(build)],
            input=json.dumps(items),
            capture_output=True,
            text=True,
            cwd=tmp,
            timeout=NODE_TIMEOUT_S,
            check=False,
        )
    if done.returncode != 0:
        raise RuntimeError(
            f"the gateway config validator failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}"
        )
    return tuple(Verdict(r["where"], bool(r["ok"]), r["error"]) for r in json.loads(done.stdout))


def problems(handoffs: Sequence[Handoff]) -> tuple[list[str], str | None]:
    """(what the gateway would refuse, one line each; why the check did not run, or None)."""
    build, why = locate_build()
    if build is None:
        return [], why
    return [
        f"gateway 0.1.0 would refuse to start ({v.where}): " + " ".join((v.error or "").split())
        for v in validate(build, handoffs)
        if not v.ok
    ], None
