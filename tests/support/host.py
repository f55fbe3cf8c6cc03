"""Settings whose host paths point into a temporary root, so the real tools can check the files."""

from __future__ import annotations

from pathlib import Path


def fake_gateway(root: Path) -> dict[str, str]:
    """An executable and a script where the unit's ExecStart points (systemd-analyze checks both)."""
    bin_dir = root / "opt" / "bin"
    bin_dir.mkdir(parents=True)
    node = bin_dir / "node"
    node.write_text("#!/bin/sh\nexit 0\n")
    node.chmod(0o755)
    script = root / "opt" / "cli.js"
    script.write_text("// stand-in\n")
    return {"hostGatewayExec": str(node), "hostGatewayScript": str(script)}
