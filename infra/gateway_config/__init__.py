"""What each target hands the gateway, judged by the gateway's own config code (docs/real-gateway.md).

`handoffs(settings)` is pure: the config file, environment and flags the container (Docker and
Kubernetes alike: one spec service) and the bare-metal unit give the gateway. `check.validate` runs
the real gateway's `loadConfig` and `validateSecrets` on them with node, from a build of its source.
"""

from infra.gateway_config.handoff import Handoff, handoffs

__all__ = ["Handoff", "handoffs"]
