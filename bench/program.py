"""`python -m bench.program STACK`: the Pulumi program of a stack under mocks, as its tests run it.

The stack's Pulumi.<stack>.yaml settings, a fake AI provider key, `pulumi.runtime.set_mocks`;
prints how many resources the program declared. What `bench.tools` times (imports included).
"""

from __future__ import annotations

import sys

import pulumi
import yaml

from infra.program.main import run
from testbed.paths import REPO_ROOT
from testbed.pulumi_harness import FAKE_AI_KEY, configure


def main(stack: str) -> int:
    config = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))["config"]
    # Encrypted values (`secure:` maps) cannot be read here; the AI key is the one secret needed.
    plain = {key.split(":", 1)[1]: value for key, value in config.items() if not isinstance(value, dict)}
    recorder = configure(stack, plain, {"anthropicApiKey": FAKE_AI_KEY})

    @pulumi.runtime.test  # type: ignore[untyped-decorator]
    def program() -> None:
        run()

    program()
    print(f"{stack}: {len(recorder.resources)} resources")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
